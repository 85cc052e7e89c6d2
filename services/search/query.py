"""Searching the index (SRC-1..4): hits ranked by relevance then recency, facet counts,
type-ahead suggestions and the alphabetical letters, with ORG-5 inside every statement.

A request becomes a `Plan` once (parsing, validation, the shared WHERE clause); the page
and the counts (total, per module, facets) are separate statements run only when asked for.
Suggestions (suggest.py) and the letters (letters.py) are re-exported from here; what they
share with the search (the Hit, InvalidSearch, ORG-5 and module conditions) is common.py's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from deskql.services.auth import Actor
from deskql.services.search import criteria as crit
from deskql.services.search import engine, facets, keyset, snippets, statement
from deskql.services.search.common import (
    MAX_PAGE,
    MAX_QUERY,
    Hit,
    InvalidSearch,
    _access,
    _module_clause,
    _modules,
)
from deskql.services.search.index import ACCOUNT, CONTACT, TICKET
from deskql.services.search.letters import letters
from deskql.services.search.suggest import suggest
from deskql.services.search.text import ParsedQuery, parse

__all__ = [
    "MAX_PAGE",
    "MAX_QUERY",
    "Counts",
    "DecodeId",
    "Hit",
    "InvalidSearch",
    "Plan",
    "counts",
    "letters",
    "page",
    "plan",
    "suggest",
]

DecodeId = Callable[[str, str], int]


@dataclass
class Counts:
    """How many records match: in all, per module, and per facet value (top values first)."""

    total: int
    modules: dict[str, int]
    facets: dict[str, list[tuple[str, int]]]


@dataclass
class Plan:
    """A validated search: the WHERE clause shared by its page and its counts."""

    parsed: ParsedQuery
    modules: list[str]
    join: str
    where: str
    params: list[Any]
    score: str
    chosen: dict[str, list[Any]]
    pg: bool
    alphabetical: bool = False
    jump_ticket_id: int | None = None
    tokens: list[str] = field(default_factory=list)
    match: engine.Match | None = None
    # Counts found by the page's statement (page(..., want=...)), for counts() to reuse.
    found_counts: dict[str, Counts] = field(default_factory=dict)


async def plan(
    actor: Actor,
    *,
    query: str,
    modules: list[str] | None = None,
    chosen_facets: dict[str, list[str]] | None = None,
    criteria: list[crit.Criterion] | None = None,
    letter: str | None = None,
    include_spam: bool = False,
    decode_id: DecodeId,
) -> Plan:
    """Validate a search and build its SQL condition; InvalidSearch, crit.InvalidCriterion or
    facets.InvalidFacet when it cannot run."""
    if len(query) > MAX_QUERY:
        raise InvalidSearch(f"the query is {len(query)} characters long; at most {MAX_QUERY}")
    pg = engine.is_postgres()
    parsed = parse(query)
    wanted = _modules(modules)
    where: list[str] = []
    params: list[Any] = []
    join, score = "", "0.0"
    m = None
    if parsed.groups:
        m = engine.match(parsed.groups, prefix=False, titles_only=False, pg=pg)
        join, score = m.join, m.score
        where.append(m.where)
        params.extend(m.params)
    if criteria and not pg:
        await engine.sqlite_functions(engine.connection())
    criteria_sql, criteria_params, criteria_modules = crit.conditions(criteria or [], decode_id, pg)
    if criteria_modules:
        wanted = [m for m in wanted if m in criteria_modules]
    alphabetical = letter is not None
    if alphabetical:
        if not letter or len(letter) > 1 or not (letter == "#" or letter.isalpha()):
            raise InvalidSearch("letter must be one letter or #")
        wanted = [m for m in wanted if m in (CONTACT, ACCOUNT)]
        where.append("d.letter = ?")
        params.append(letter.upper())
    if not parsed.groups and not criteria_modules and not alphabetical:
        if parsed.ticket_number is None:
            raise InvalidSearch("type a word to search for (the query has none)")
    module_sql, module_params = _module_clause(wanted)
    where.append(module_sql)
    params.extend(module_params)
    if criteria_sql:
        where.append(criteria_sql)
        params.extend(criteria_params)
    access, access_params = _access(actor, include_spam, pg)
    where.extend(access)
    params.extend(access_params)
    chosen = _chosen(chosen_facets or {}, decode_id)
    result = Plan(
        parsed=parsed,
        modules=wanted,
        join=join,
        where=" AND ".join(where),
        params=params,
        score=score,
        chosen=chosen,
        pg=pg,
        alphabetical=alphabetical,
        tokens=parsed.all_tokens(),
        match=m,
    )
    if parsed.ticket_number is not None and TICKET in wanted:
        result.jump_ticket_id = await _ticket_by_number(actor, parsed.ticket_number, include_spam)
    return result


def _chosen(raw: dict[str, list[str]], decode_id: DecodeId) -> dict[str, list[Any]]:
    chosen: dict[str, list[Any]] = {}
    for name, values in raw.items():
        facet = facets.FACETS.get(name)
        if facet is None:
            raise facets.InvalidFacet(f"no facet {name[:40]!r}")
        if not values:
            continue
        if len(values) > 100:
            raise facets.InvalidFacet(f"at most 100 values of {name}")
        chosen[name] = [
            decode_id(v, facet.id_type) if facet.id_type else facets.stored_value(facet, v)
            for v in values
        ]
    return chosen


async def _ticket_by_number(actor: Actor, number: int, include_spam: bool) -> int | None:
    """The id of the visible ticket with this number (`#123` jumps to it)."""
    from deskql.services import policies

    qs = policies.visible_tickets(actor).filter(number=number)
    if not include_spam:
        qs = qs.filter(is_spam=False)
    row = await qs.first().values_list("id", flat=True)
    return row  # type: ignore[return-value]


def _base(p: Plan) -> tuple[str, list[Any]]:
    """The plan's condition without the jumped-to ticket (the chosen facets narrow later)."""
    where, params = p.where, list(p.params)
    if p.jump_ticket_id is not None:
        where += " AND NOT (d.module = ? AND d.object_id = ?)"
        params.extend([TICKET, p.jump_ticket_id])
    return where, params


async def _jump_hit(p: Plan) -> Hit | None:
    """The `#123` ticket's hit (first of the results), when it is indexed."""
    rows = await engine.connection().execute_query_dict(
        engine.sql(
            "SELECT d.module, d.object_id, d.title, d.body, d.sort_at FROM search_doc d "
            "WHERE d.module = ? AND d.object_id = ?",
            p.pg,
        ),
        [TICKET, p.jump_ticket_id],
    )
    return _hit(p, {**rows[0], "score": 1000.0}) if rows else None


def _jump_position(p: Plan, hit: Hit, cutoffs: tuple[Any, ...]) -> keyset.Position:
    """The jump's position: tier -1, before every other hit."""
    kind = statement.kind_of(p)
    tier = keyset.JUMP_TIER
    if kind == keyset.RANKED:
        return keyset.Position(kind, (tier, 0.0, hit.sort_at, 0), cutoffs)
    if kind == keyset.RECENT:
        return keyset.Position(kind, (tier, hit.sort_at, 0))
    return keyset.Position(kind, (tier, "", 0))


def _only_jump(p: Plan) -> bool:
    return not p.parsed.groups and not p.alphabetical and not _has_criteria(p)


async def page(
    p: Plan,
    *,
    offset: int = 0,
    limit: int,
    want: str = statement.NONE,
    window: keyset.Window | None = None,
) -> tuple[list[Hit], bool]:
    """The hits at [offset, offset+limit), or of a keyset `window`, and whether more follow
    (in the window's direction: before the page for a backward one); with `want`
    (statement.TOTALS or FACETS) the same statement counts too, for counts() to return.
    Every hit carries its keyset position."""
    if window is not None:
        return await _keyset_page(p, limit, want, window)
    hits: list[Hit] = []
    jump = p.jump_ticket_id is not None and not p.chosen
    if jump and offset == 0 and limit > 0:
        first = await _jump_hit(p)
        hits.extend([first] if first else [])
    cutoffs: tuple[Any, ...] = (None,) * keyset.CUTOFFS
    more = False
    if not _only_jump(p):
        shift = 1 if jump else 0
        sql_limit = limit - len(hits)
        where, params = _base(p)
        found = await statement.run(
            p, where, params, offset=max(0, offset - shift), limit=max(0, sql_limit), want=want
        )
        if found.counts is not None:
            p.found_counts[want] = _counts(p, found.counts)
        cutoffs = found.cutoffs
        rows = found.hits
        hits.extend(_hit(p, r, statement.position(found, r)) for r in rows[:sql_limit])
        more = len(rows) > sql_limit
    for h in hits:
        if h.position is None:
            h.position = _jump_position(p, h, cutoffs)
    return hits[:limit], more


async def _keyset_page(
    p: Plan, limit: int, want: str, window: keyset.Window
) -> tuple[list[Hit], bool]:
    """page() of a keyset window: the `#123` jump comes before every other hit."""
    before_jump = window.before is not None and window.before.tier == keyset.JUMP_TIER
    at_start = (
        p.jump_ticket_id is not None and not p.chosen and window.after is None and not before_jump
    )
    cutoffs = window.cutoffs or (None,) * keyset.CUTOFFS
    hits: list[Hit] = []
    if not _only_jump(p) and not before_jump:
        where, params = _base(p)
        found = await statement.run(
            p, where, params, offset=0, limit=limit, want=want, window=window
        )
        if found.counts is not None:
            p.found_counts[want] = _counts(p, found.counts)
        cutoffs = found.cutoffs
        hits = [_hit(p, r, statement.position(found, r)) for r in found.hits]
    if window.backward:
        hits.reverse()
        if len(hits) > limit:  # the page does not reach the start (nor the jump)
            return hits[len(hits) - limit :], True
    first = await _jump_hit(p) if at_start and limit > 0 else None
    if first is not None:
        first.position = _jump_position(p, first, cutoffs)
        hits.insert(0, first)
    if window.backward:
        return (hits[max(0, len(hits) - limit) :] if limit else []), len(hits) > limit
    return hits[:limit], len(hits) > limit


def _has_criteria(p: Plan) -> bool:
    return " IN (SELECT id FROM " in p.where


def _hit(p: Plan, row: dict[str, Any], position: keyset.Position | None = None) -> Hit:
    title, body = row["title"] or "", row["body"] or ""
    text, matched = snippets.snippet(body, p.tokens)
    if not matched and snippets.spans(title, p.tokens):
        text = snippets.highlight(title, p.tokens)
    return Hit(
        module=row["module"],
        object_id=row["object_id"],
        score=round(float(row["score"] or 0.0), 6),
        title=title,
        snippet=text or snippets.highlight(title, p.tokens),
        sort_at=row["sort_at"],
        position=position,
    )


async def counts(p: Plan, want: str = statement.FACETS) -> Counts:
    """The total, per-module and (with FACETS) per-facet counts of the plan's matches: those
    page() found in its statement, or one statement now."""
    total_extra = 1 if p.jump_ticket_id is not None and not p.chosen else 0
    if _only_jump(p):
        return Counts(
            total=total_extra, modules={TICKET: total_extra} if total_extra else {}, facets={}
        )
    for have in (want, statement.FACETS):
        if have in p.found_counts:
            return p.found_counts[have]
    where, params = _base(p)
    found = await statement.run(p, where, params, offset=0, limit=0, want=want)
    p.found_counts[want] = _counts(p, found.counts or [])
    return p.found_counts[want]


def _counts(p: Plan, rows: list[tuple[str, Any, int]]) -> Counts:
    """Counts from the statement's count rows (kind, value, n)."""
    total_extra = 1 if p.jump_ticket_id is not None and not p.chosen else 0
    total = 0
    per_module: dict[str, int] = {}
    values: dict[str, list[tuple[str, int]]] = {}
    for kind, value, count in rows:
        if kind == "total":
            total = count
        elif kind == "module":
            per_module[value] = count
        elif value is not None:
            values.setdefault(kind, []).append(
                (facets.shown_value(facets.FACETS[kind], value), count)
            )
    if total_extra:
        per_module[TICKET] = per_module.get(TICKET, 0) + 1
    hit_modules = {m for m, c in per_module.items() if c}
    shown = {
        name: sorted(vals, key=lambda v: (-v[1], v[0]))[: facets.TOP]
        for name, vals in values.items()
        if facets.FACETS[name].module in hit_modules or name in p.chosen
    }
    return Counts(total=total + total_extra, modules=per_module, facets=shown)
