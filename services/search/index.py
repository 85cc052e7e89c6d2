"""Keeping the index in step: documents built from the records, written before each commit.

Every change is recorded through `services.activity` in its transaction; `mark_activity`
(called from there) names the records to refresh, and the unit of work runs `flush` just
before the commit, when all of the transaction's rows are written. So one hook covers every
service (tickets, inbound email, replies, comments, merges, splits, deletes, contacts,
accounts, products, tasks) and the index commits or rolls back with the data.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from deskql import models
from deskql.services import uow
from deskql.services.search import engine
from deskql.services.search.text import clean, first_letter, terms

TICKET, CONTACT, ACCOUNT, PRODUCT, TASK, ARTICLE = (
    "ticket",
    "contact",
    "account",
    "product",
    "task",
    "article",
)
# Activity subject types that name an indexed record directly.
SUBJECT_MODULES = {
    "Ticket": TICKET,
    "Contact": CONTACT,
    "Account": ACCOUNT,
    "Product": PRODUCT,
    "Task": TASK,
    "Article": ARTICLE,
}
BODY_LIMIT = 100_000  # characters of a record's text kept for snippets and indexed

Builder = Callable[["Source", list[int]], Awaitable[list[dict[str, Any]]]]
_builders: dict[str, Builder] = {}


def builder(module: str) -> Callable[[Builder], Builder]:
    """Register the function that builds the documents of a module from record ids."""

    def register(fn: Builder) -> Builder:
        _builders[module] = fn
        return fn

    return register


def modules() -> list[str]:
    """The indexed modules."""
    return list(_builders)


_TAGS = re.compile(r"<[^>]+>")


def _text(*parts: str | None) -> str:
    return clean("\n".join(p for p in parts if p))[:BODY_LIMIT]


def _doc(
    module: str,
    object_id: int,
    *,
    title: str,
    body: str,
    sort_at: Any,
    title_extra: str = "",
    **facets: Any,
) -> dict[str, Any]:
    title = clean(title)[:500]
    doc = {
        "module": module,
        "object_id": object_id,
        "department_id": None,
        "is_spam": False,
        "title": title,
        "body": body,
        "title_terms": terms(f"{title} {title_extra}"),
        "body_terms": terms(body),
        "letter": "",
        "status": None,
        "priority": None,
        "channel": None,
        "assignee_id": None,
        "account_id": None,
        "owner_id": None,
        "sort_at": sort_at,
        "tag_ids": [],
    }
    doc.update(facets)
    return doc


class Source:
    """Where builders read records: the app's models on a connection, or (in a migration)
    the historical models on the migration's connection."""

    def __init__(
        self,
        conn: BaseDBAsyncClient | None = None,
        apps: Any = None,
        columns: tuple[str, ...] = engine.COLUMNS,
    ) -> None:
        self.conn = conn or engine.connection()
        self.apps = apps
        self.columns = columns  # search_doc's columns at this point of the migrations
        # Records a builder found that must be refreshed too (a ticket's tasks).
        self.followups: dict[str, set[int]] = {}

    def rows(self, name: str, **filters: Any) -> Any:
        """A queryset of a model on this source's connection."""
        model = self.apps.get_model("models", name) if self.apps else getattr(models, name)
        return model.filter(**filters).using_db(self.conn)


def _v(value: Any) -> Any:
    return getattr(value, "value", value)


# One statement reads all a ticket's index needs: the ticket (k=0), its threads (1), its
# comments (2), the ids of its tasks (3), whose department follows the ticket's, and of its
# tags (4).
_TICKET_SQL = """
SELECT 0 AS k, t.id AS tid, t.id AS x, t.number AS n, t.subject AS a, t.description AS b,
  NULL AS c, NULL AS e, t.updated_at AS at, t.department_id AS dep, t.is_spam AS spam,
  t.status AS st, t.priority AS pr, t.channel AS ch, t.assignee_agent_id AS asg,
  t.account_id AS acc FROM ticket t WHERE t.id IN ({ids})
UNION ALL SELECT 1, h.ticket_id, h.id, NULL, h.from_address, h.subject, h.body_text,
  h.body_html, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM thread h
  WHERE h.ticket_id IN ({ids})
UNION ALL SELECT 2, c.ticket_id, c.id, NULL, c.body, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL FROM comment c WHERE c.ticket_id IN ({ids})
UNION ALL SELECT 3, k.ticket_id, k.id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL FROM task k WHERE k.ticket_id IN ({ids})
UNION ALL SELECT 4, g.ticket_id, g.tag_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL FROM ticket_tag g WHERE g.ticket_id IN ({ids})
ORDER BY 1, 3
"""


@builder(TICKET)
async def _tickets(src: Source, ids: list[int]) -> list[dict[str, Any]]:
    pg = engine.is_postgres(src.conn)
    marks = ", ".join("?" for _ in ids)
    rows = await src.conn.execute_query_dict(
        engine.sql(_TICKET_SQL.format(ids=marks), pg), [*ids, *ids, *ids, *ids, *ids]
    )
    tickets: list[dict[str, Any]] = []
    texts: dict[int, list[str]] = defaultdict(list)
    tags: dict[int, list[int]] = defaultdict(list)
    for r in rows:
        if r["k"] == 0:
            tickets.append(r)
        elif r["k"] == 1:
            texts[r["tid"]].append(_text(r["a"], r["b"], r["c"] or _TAGS.sub(" ", r["e"] or "")))
        elif r["k"] == 2:
            texts[r["tid"]].append(r["a"] or "")
        elif r["k"] == 4:
            tags[r["tid"]].append(int(r["x"]))
        else:
            src.followups.setdefault(TASK, set()).add(r["x"])
    return [
        _doc(
            TICKET,
            t["tid"],
            title=t["a"],
            title_extra=str(t["n"]),
            body=_text(t["b"], *texts.get(t["tid"], [])),
            sort_at=t["at"],
            department_id=t["dep"],
            is_spam=bool(t["spam"]),
            status=t["st"],
            priority=int(t["pr"]),
            channel=t["ch"],
            assignee_id=t["asg"],
            account_id=t["acc"],
            tag_ids=tags.get(t["tid"], []),
        )
        for t in tickets
    ]


@builder(CONTACT)
async def _contacts(src: Source, ids: list[int]) -> list[dict[str, Any]]:
    out = []
    for c in await src.rows("Contact", id__in=ids).values(
        "id",
        "first_name",
        "last_name",
        "email",
        "secondary_email",
        "phone",
        "mobile",
        "description",
        "updated_at",
        "account_id",
        "owner_id",
    ):
        name = f"{c['first_name']} {c['last_name']}".strip()
        out.append(
            _doc(
                CONTACT,
                c["id"],
                title=name,
                title_extra=f"{c['email'] or ''} {c['secondary_email']}",
                body=_text(
                    c["email"], c["secondary_email"], c["phone"], c["mobile"], c["description"]
                ),
                sort_at=c["updated_at"],
                letter=first_letter(name),
                account_id=c["account_id"],
                owner_id=c["owner_id"],
            )
        )
    return out


@builder(ACCOUNT)
async def _accounts(src: Source, ids: list[int]) -> list[dict[str, Any]]:
    return [
        _doc(
            ACCOUNT,
            a["id"],
            title=a["name"],
            body=_text(a["email"], a["phone"], a["website"], a["description"]),
            sort_at=a["updated_at"],
            letter=first_letter(a["name"]),
            owner_id=a["owner_id"],
        )
        for a in await src.rows("Account", id__in=ids).values(
            "id", "name", "email", "phone", "website", "description", "updated_at", "owner_id"
        )
    ]


@builder(PRODUCT)
async def _products(src: Source, ids: list[int]) -> list[dict[str, Any]]:
    return [
        _doc(
            PRODUCT,
            p["id"],
            title=p["name"],
            title_extra=p["code"],
            body=_text(p["code"], p["description"]),
            sort_at=p["created_at"],
        )
        for p in await src.rows("Product", id__in=ids).values(
            "id", "name", "code", "description", "created_at"
        )
    ]


@builder(TASK)
async def _tasks(src: Source, ids: list[int]) -> list[dict[str, Any]]:
    rows = await src.rows("Task", id__in=ids).values(
        "id",
        "title",
        "description",
        "created_at",
        "ticket_id",
        "department_id",
        "is_completed",
        "assignee_id",
    )
    ticket_ids = sorted({t["ticket_id"] for t in rows if t["ticket_id"]})
    departments = dict(
        await src.rows("Ticket", id__in=ticket_ids).values_list("id", "department_id")
    )
    return [
        _doc(
            TASK,
            t["id"],
            title=t["title"],
            body=_text(t["description"]),
            sort_at=t["created_at"],
            # ORG-5: a ticket's task is seen with its ticket; a ticketless one in its department.
            department_id=departments.get(t["ticket_id"], t["department_id"]),
            status="COMPLETED" if t["is_completed"] else "OPEN",
            assignee_id=t["assignee_id"],
        )
        for t in rows
    ]


@builder(ARTICLE)
async def _articles(src: Source, ids: list[int]) -> list[dict[str, Any]]:
    rows = await src.rows("Article", id__in=ids).values(
        "id", "title", "summary", "body", "updated_at", "department_id", "status"
    )
    tags: dict[int, list[str]] = defaultdict(list)
    for article_id, name in await src.rows("ArticleTag", article_id__in=ids).values_list(
        "article_id", "tag__name"
    ):
        tags[article_id].append(name)
    return [
        _doc(
            ARTICLE,
            a["id"],
            title=a["title"],
            title_extra=" ".join(tags.get(a["id"], [])),
            body=_text(a["summary"], a["body"], " ".join(f"#{t}" for t in tags.get(a["id"], []))),
            sort_at=a["updated_at"],
            # ORG-5: an article is its department's (services.kb.articles.visible_articles).
            department_id=a["department_id"],
            status=_v(a["status"]),
        )
        for a in rows
    ]


async def refresh(module: str, ids: Iterable[int]) -> None:
    """Rebuild the index rows of these records now (rows of records that are gone go)."""
    wanted = sorted(set(ids))
    if not wanted or module not in _builders:
        return
    src = Source()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        docs = await _builders[module](src, chunk)
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
        if object_id is not None and module in _builders:
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
    documents. Used by migration 0011 and by `deskql reindex`."""
    total = 0
    for module, name in SOURCES.items():
        if module not in _builders:
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
            docs = await _builders[module](src, list(ids))
            await engine.upsert(src.conn, docs, src.columns)
            total += len(docs)
            if progress:
                progress(module, total)
    return total


async def rebuild(*, batch: int = 1000, progress: Callable[[str, int], None] | None = None) -> int:
    """Rebuild the whole index from the records in one transaction (`deskql reindex`)."""
    async with uow.transaction() as conn:
        await engine.clear(conn)
        return await build_all(Source(conn), batch=batch, progress=progress)
