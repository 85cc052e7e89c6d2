"""A naive search, to check the fast one against (tests/search/test_search_speed.py).

Everything the fast path does in one statement is done here the slow, obvious way:
- which records match: Python reads every index row's tokens and looks for each group of the
  query as a run of consecutive tokens (PostgreSQL's tsvector runs the title into the body;
  FTS5 keeps the two columns apart); suggestions: the title, the last token of each group a
  prefix;
- who may see them (ORG-5) and spam: from the records themselves (ticket, task, article
  rows and the agent's departments), not from the index;
- facet values: from the records (ticket and contact rows, ticket_tag + tag);
- the score: the engine's own rank function, asked for every match one by one;
- the order: the CANDIDATES newest matches and newest title matches ranked (score, then
  recency), then every other match newest first with score 0; facet counts among the
  matches narrowed by the other chosen facets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deskql.models.enums import TicketPriority
from deskql.services.auth import Actor
from deskql.services.search import engine
from deskql.services.search.text import parse


@dataclass
class Doc:
    """One index row with what the reference knows about its record."""

    id: int
    module: str
    object_id: int
    sort_at: Any
    title: list[str]
    body: list[str]
    visible: bool
    spam: bool
    facets: dict[str, list[str]]


def _runs(tokens: list[str], group: list[str], prefix: bool = False) -> bool:
    n = len(group)
    for i in range(len(tokens) - n + 1):
        head = all(tokens[i + j] == group[j] for j in range(n - 1))
        last = tokens[i + n - 1]
        if head and (last.startswith(group[-1]) if prefix else last == group[-1]):
            return True
    return False


def matches(doc: Doc, groups: list[list[str]], pg: bool) -> bool:
    """Every group occurs in the record's text (see the module docstring)."""
    if pg:
        return all(_runs(doc.title + doc.body, g) for g in groups)
    return all(_runs(doc.title, g) or _runs(doc.body, g) for g in groups)


def in_title(doc: Doc, groups: list[list[str]]) -> bool:
    """Every group occurs in the title."""
    return all(_runs(doc.title, g) for g in groups)


async def _rows(sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    pg = engine.is_postgres()
    return await engine.connection().execute_query_dict(engine.sql(sql, pg), params or [])


async def docs(actor: Actor) -> list[Doc]:
    """Every index row with visibility and facet values taken from the records."""
    tickets = {r["id"]: r for r in await _rows("SELECT * FROM ticket")}
    tasks = {r["id"]: r for r in await _rows("SELECT id, ticket_id, department_id FROM task")}
    articles = {r["id"]: r for r in await _rows("SELECT id, department_id FROM article")}
    contacts = {r["id"]: r for r in await _rows("SELECT id, account_id, owner_id FROM contact")}
    tags: dict[int, list[str]] = {}
    for r in await _rows(
        "SELECT tt.ticket_id, tg.name FROM ticket_tag tt JOIN tag tg ON tg.id = tt.tag_id"
    ):
        tags.setdefault(r["ticket_id"], []).append(r["name"])

    def sees(department_id: int | None) -> bool:
        return actor.is_admin or department_id is None or department_id in actor.department_ids

    out = []
    for r in await _rows(
        "SELECT id, module, object_id, sort_at, title_terms, body_terms FROM search_doc"
    ):
        module, oid = r["module"], r["object_id"]
        visible, spam, values = True, False, {}
        if module == "ticket":
            t = tickets[oid]
            visible, spam = sees(t["department_id"]), bool(t["is_spam"])
            values = {
                "status": [t["status"]],
                "priority": [TicketPriority(int(t["priority"])).name],
                "channel": [t["channel"]],
                "department": [str(t["department_id"])],
                "assignee": [str(t["assignee_agent_id"])] if t["assignee_agent_id"] else [],
                "tag": tags.get(oid, []),
            }
        elif module == "task":
            task = tasks[oid]
            ticket = tickets.get(task["ticket_id"])
            visible = sees(ticket["department_id"] if ticket else task["department_id"])
        elif module == "article":
            visible = sees(articles[oid]["department_id"])
        elif module == "contact":
            c = contacts[oid]
            values = {
                "account": [str(c["account_id"])] if c["account_id"] else [],
                "owner": [str(c["owner_id"])] if c["owner_id"] else [],
            }
        out.append(
            Doc(
                r["id"],
                module,
                oid,
                r["sort_at"],
                r["title_terms"].split(),
                r["body_terms"].split(),
                visible,
                spam,
                values,
            )
        )
    return out


FACET_MODULE = {
    "status": "ticket",
    "priority": "ticket",
    "channel": "ticket",
    "department": "ticket",
    "assignee": "ticket",
    "tag": "ticket",
    "account": "contact",
    "owner": "contact",
}


def _keeps(doc: Doc, chosen: dict[str, list[str]], skip: str | None = None) -> bool:
    if chosen and doc.module not in {FACET_MODULE[n] for n in chosen}:
        return False
    return all(
        doc.module != FACET_MODULE[name] or set(doc.facets.get(name, [])) & set(values)
        for name, values in chosen.items()
        if name != skip
    )


async def _scores(ids: list[int], query: str, pg: bool) -> dict[int, float]:
    """The engine's rank of each matching row (one plain statement, no bound, no CTE)."""
    if not ids:
        return {}
    groups = parse(query).groups
    m = engine.match(groups, prefix=False, titles_only=False, pg=pg)
    marks = ", ".join("?" for _ in ids)
    if pg:
        rows = await _rows(
            "SELECT id, ts_rank(tsv, to_tsquery('simple', ?)) AS s FROM search_doc "
            f"WHERE id IN ({marks})",
            [*m.params, *ids],
        )
    else:
        rows = await _rows(
            "SELECT rowid AS id, -bm25(search_fts, 10.0, 1.0) AS s FROM search_fts "
            "WHERE search_fts MATCH ?",
            m.params,
        )
    return {r["id"]: float(r["s"]) for r in rows if r["id"] in set(ids)}


@dataclass
class Result:
    """What a search should answer: hits in order, total, per module, facets."""

    hits: list[tuple[str, int, float]]
    total: int
    modules: dict[str, int]
    facets: dict[str, dict[str, int]]


async def search(
    actor: Actor,
    query: str,
    chosen: dict[str, list[str]] | None = None,
    *,
    include_spam: bool = False,
    candidates: int,
) -> Result:
    """The naive search (see the module docstring)."""
    pg = engine.is_postgres()
    chosen = chosen or {}
    groups = parse(query).groups
    found = [
        d
        for d in await docs(actor)
        if d.visible and (include_spam or not d.spam) and matches(d, groups, pg)
    ]
    narrowed = [d for d in found if _keeps(d, chosen)]

    def newest(ds: list[Doc]) -> list[Doc]:
        return sorted(ds, key=lambda d: (d.sort_at, d.id), reverse=True)

    picked = {d.id for d in newest(narrowed)[:candidates]}
    picked |= {d.id for d in newest([d for d in narrowed if in_title(d, groups)])[:candidates]}
    scores = await _scores(sorted(picked), query, pg)
    ranked = sorted(
        (d for d in narrowed if d.id in picked),
        key=lambda d: (-scores[d.id], _desc(d.sort_at), -d.id),
    )
    rest = newest([d for d in narrowed if d.id not in picked])
    hits = [(d.module, d.object_id, scores[d.id]) for d in ranked]
    hits += [(d.module, d.object_id, 0.0) for d in rest]
    modules: dict[str, int] = {}
    for d in narrowed:
        modules[d.module] = modules.get(d.module, 0) + 1
    facets: dict[str, dict[str, int]] = {}
    for name, module in FACET_MODULE.items():
        if modules.get(module, 0) == 0 and name not in chosen:
            continue
        counts: dict[str, int] = {}
        for d in found:
            if d.module == module and _keeps(d, chosen, skip=name):
                for value in d.facets.get(name, []):
                    counts[value] = counts.get(value, 0) + 1
        if counts:
            facets[name] = counts
    return Result(hits, len(narrowed), modules, facets)


class _desc:
    """Sorts a value descending inside an ascending key."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _desc) -> bool:
        return self.value > other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _desc) and self.value == other.value


async def suggest(actor: Actor, prefix: str, first: int) -> list[tuple[str, int]]:
    """Visible, non-spam records whose title has the prefix's groups (the last token of each
    a word prefix), newest first."""
    groups = parse(prefix).groups
    found = [
        d
        for d in await docs(actor)
        if d.visible and not d.spam and all(_runs(d.title, g, prefix=True) for g in groups)
    ]
    found.sort(key=lambda d: (d.sort_at, d.id), reverse=True)
    return [(d.module, d.object_id) for d in found[:first]]
