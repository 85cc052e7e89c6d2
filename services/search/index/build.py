"""Indexing every record: migration 0011's backfill and `deskql reindex`."""

from __future__ import annotations

from collections.abc import Callable

from deskql.services import uow
from deskql.services.search import engine
from deskql.services.search.index.documents import (
    ACCOUNT,
    ARTICLE,
    CONTACT,
    PRODUCT,
    TASK,
    TICKET,
    Source,
    builders,
)

SOURCES = {
    TICKET: "Ticket",
    CONTACT: "Contact",
    ACCOUNT: "Account",
    PRODUCT: "Product",
    TASK: "Task",
    ARTICLE: "Article",
}


async def build_all(
    src: Source, *, batch: int = 1000, progress: Callable[[str, int], None] | None = None
) -> int:
    """Index every record of every module, a batch of ids at a time (keyset on id); how many
    documents, PostgreSQL's GIN pending lists flushed after. Used by migrations 0011 and
    0016 and by `deskql reindex`."""
    total = 0
    for module, name in SOURCES.items():
        if module not in builders():
            continue
        last = 0
        while True:
            ids = (
                await src.rows(name, id__gt=last)
                .order_by("id")
                .limit(batch)
                .values_list("id", flat=True)
            )
            if not ids:
                break
            last = ids[-1]
            docs = await builders()[module](src, list(ids))
            await engine.upsert(src.conn, docs, src.columns)
            total += len(docs)
            if progress:
                progress(module, total)
    await engine.flush_pending(src.conn)
    return total


async def rebuild(*, batch: int = 1000, progress: Callable[[str, int], None] | None = None) -> int:
    """Rebuild the whole index from the records in one transaction (`deskql reindex`)."""
    async with uow.transaction() as conn:
        await engine.clear(conn)
        return await build_all(Source(conn), batch=batch, progress=progress)
