"""Keeping the index in step: documents built from the records, written before each commit.

Every change is recorded through `services.activity` in its transaction; `mark_activity`
(called from there) names the records to refresh, and the unit of work runs `flush` just
before the commit, when all of the transaction's rows are written. So one hook covers every
service (tickets, inbound email, replies, comments, merges, splits, deletes, contacts,
accounts, products, tasks) and the index commits or rolls back with the data.
"""

from __future__ import annotations

from collections.abc import Iterable

from deskql import models
from deskql.services import uow
from deskql.services.search import engine
from deskql.services.search.index.documents import (
    ACCOUNT,
    CONTACT,
    SUBJECT_MODULES,
    TICKET,
    Source,
    builders,
)


async def refresh(module: str, ids: Iterable[int]) -> None:
    """Rebuild the index rows of these records now (rows of records that are gone go)."""
    wanted = sorted(set(ids))
    if not wanted or module not in builders():
        return
    src = Source()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        docs = await builders()[module](src, chunk)
        await engine.upsert(src.conn, docs, src.columns)
        found = {d["object_id"] for d in docs}
        await engine.delete(src.conn, module, [i for i in chunk if i not in found])
    for other, other_ids in src.followups.items():
        await refresh(other, other_ids)


class _Pending:
    """The records a transaction changed, refreshed when it is about to commit."""

    def __init__(self) -> None:
        self.ids: dict[str, set[int]] = {}

    def add(self, module: str, object_id: int | None) -> None:
        if object_id is not None and module in builders():
            self.ids.setdefault(module, set()).add(object_id)

    async def __call__(self) -> None:
        while self.ids:
            ids, self.ids = self.ids, {}
            for module, object_ids in sorted(ids.items()):
                await refresh(module, object_ids)


def _pending() -> tuple[_Pending, bool]:
    """This transaction's pending set (and True), or a fresh one to run now (and False)."""
    fresh = _Pending()
    registered = uow.before_commit("search.refresh", fresh)
    return (registered, True) if registered is not None else (fresh, False)


async def mark(module: str, object_ids: Iterable[int | None]) -> None:
    """Refresh these records' index rows just before the surrounding transaction commits
    (at once outside a transaction)."""
    pending, deferred = _pending()
    for object_id in object_ids:
        pending.add(module, object_id)
    if not deferred:
        await pending()


async def mark_activity(row: models.Activity) -> None:
    """Name the records an Activity row says changed (see the module docstring)."""
    pending, deferred = _pending()
    module = SUBJECT_MODULES.get(row.subject_type)
    if module is not None:
        pending.add(module, row.subject_id)
    pending.add(TICKET, row.ticket_id)  # type: ignore[attr-defined]
    if module in (CONTACT, ACCOUNT):
        pending.add(CONTACT, row.contact_id)  # type: ignore[attr-defined]
        pending.add(ACCOUNT, row.account_id)  # type: ignore[attr-defined]
    if not deferred:
        await pending()
