"""Searching the index (SRC-1..4): hits ranked by relevance then recency, facet counts,
type-ahead suggestions and the alphabetical letters, with ORG-5 inside every statement.

A request becomes a `Plan` once (parsing, validation, the shared WHERE clause); the page
and the counts (total, per module, facets) are separate statements run only when asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from deskql.services import uow
from deskql.services.auth import Actor
from deskql.services.errors import ClientError
from deskql.services.search import criteria as crit
from deskql.services.search import engine, facets, snippets, statement
from deskql.services.search.index import ACCOUNT, CONTACT, TICKET
from deskql.services.search.index import modules as indexed_modules
from deskql.services.search.text import ParsedQuery, fold, parse

MAX_QUERY = 1000  # characters of a search box's text
MAX_PAGE = 100
TYPO = 0.45  # pg_trgm word similarity from which a title counts as a misspelling
DecodeId = Callable[[str, str], int]


class InvalidSearch(ClientError):
    """A search that cannot run: no words and no criteria, or text past MAX_QUERY."""

    code = "INVALID_SEARCH"


@dataclass
class Hit:
    """One record found: its module and id, score, title and HTML snippet."""

    module: str
    object_id: int
    score: float
    title: str
    snippet: str
    sort_at: Any = None


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


def _access(actor: Actor, include_spam: bool, pg: bool) -> tuple[list[str], list[Any]]:
    """ORG-5 and spam, on search_doc `d`."""
    parts: list[str] = []
    params: list[Any] = []
    if not actor.is_admin:
        depts = sorted(actor.department_ids)
        if depts:
            parts.append(
                f"(d.department_id IS NULL OR d.department_id IN ({', '.join('?' for _ in depts)}))"
            )
            params.extend(depts)
        else:
            parts.append("d.department_id IS NULL")
    if not include_spam:
        parts.append("d.is_spam = ?")
        params.append(engine.sql_value(False, pg))
    return parts, params


def _modules(wanted: list[str] | None) -> list[str]:
    known = indexed_modules()
    if not wanted:
        return known
    unknown = [m for m in wanted if m not in known]
    if unknown:
        raise InvalidSearch(f"unknown module(s): {', '.join(unknown)}")
    return sorted(set(wanted))


def _module_clause(wanted: list[str]) -> tuple[str, list[str]]:
    """The condition on d.module; none when every module is wanted (a no-op condition that
    SQLite would still answer through the (module, letter) index, in the wrong order)."""
    if not wanted:
        return "1=0", []
    if set(wanted) == set(indexed_modules()):
        return "1=1", []
    return f"d.module IN ({', '.join('?' for _ in wanted)})", list(wanted)


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


async def page(
    p: Plan, *, offset: int, limit: int, want: str = statement.NONE
) -> tuple[list[Hit], bool]:
    """The hits at [offset, offset+limit) and whether more follow; with `want`
    (statement.TOTALS or FACETS) the same statement counts too, for counts() to return."""
    conn = engine.connection()
    hits: list[Hit] = []
    jump = p.jump_ticket_id is not None and not p.chosen
    if jump and offset == 0 and limit > 0:
        rows = await conn.execute_query_dict(
            engine.sql(
                "SELECT d.module, d.object_id, d.title, d.body, d.sort_at FROM search_doc d "
                "WHERE d.module = ? AND d.object_id = ?",
                p.pg,
            ),
            [TICKET, p.jump_ticket_id],
        )
        hits.extend(_hit(p, {**r, "score": 1000.0}) for r in rows)
    if not p.parsed.groups and not p.alphabetical and not _has_criteria(p):
        return hits[:limit], False  # only `#123`: nothing else to look for
    shift = 1 if jump else 0
    sql_offset = max(0, offset - shift)
    sql_limit = limit - len(hits)
    where, params = _base(p)
    found = await statement.run(
        p, where, params, offset=sql_offset, limit=max(0, sql_limit), want=want
    )
    if found.counts is not None:
        p.found_counts[want] = _counts(p, found.counts)
    rows = found.hits
    hits.extend(_hit(p, r) for r in rows[:sql_limit])
    return hits, len(rows) > sql_limit


def _has_criteria(p: Plan) -> bool:
    return " IN (SELECT id FROM " in p.where


def _hit(p: Plan, row: dict[str, Any]) -> Hit:
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
    )


async def counts(p: Plan, want: str = statement.FACETS) -> Counts:
    """The total, per-module and (with FACETS) per-facet counts of the plan's matches: those
    page() found in its statement, or one statement now."""
    total_extra = 1 if p.jump_ticket_id is not None and not p.chosen else 0
    if not p.parsed.groups and not p.alphabetical and not _has_criteria(p):
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


async def suggest(
    actor: Actor,
    *,
    prefix: str,
    modules: list[str] | None = None,
    first: int = 10,
    include_spam: bool = False,
) -> list[Hit]:
    """Type-ahead: records whose name, subject or title has words starting with the prefix's
    words (from two characters on); on PostgreSQL, near spellings (pg_trgm) fill up the list."""
    if len(prefix) > MAX_QUERY:
        raise InvalidSearch(f"the prefix is {len(prefix)} characters long; at most {MAX_QUERY}")
    parsed = parse(prefix)
    tokens = parsed.all_tokens()
    # From two characters on; one Chinese or Japanese character is a word already.
    short = sum(len(t) for t in tokens) < 2 and not any(snippets.is_cjk(t[0]) for t in tokens)
    if not parsed.groups or short or first <= 0:
        return []
    pg = engine.is_postgres()
    wanted = _modules(modules)
    m = engine.match(parsed.groups, prefix=True, titles_only=True, pg=pg)
    access, access_params = _access(actor, include_spam, pg)
    module_sql, module_params = _module_clause(wanted)
    base = " AND ".join([module_sql, *access])
    base_params = [*module_params, *access_params]
    rows = await engine.connection().execute_query_dict(
        *_suggest_sql(m, base, base_params, first, pg)
    )
    if pg and len(rows) < first and len(" ".join(tokens)) >= 3:
        # Typos: trigram word similarity over the titles (GIN gin_trgm_ops index).
        seen = [r["id"] for r in rows] or [0]
        words = " ".join(tokens)
        async with uow.transaction() as tx:
            # The `<%` operator (GIN-indexed) keeps words at least this similar.
            await tx.execute_script(f"SET LOCAL pg_trgm.word_similarity_threshold = {TYPO}")
            rows += await tx.execute_query_dict(
                engine.sql(
                    "SELECT d.id, d.module, d.object_id, d.title, d.sort_at, "
                    "word_similarity(?, d.title_terms) AS score FROM search_doc d "
                    f"WHERE ? <% d.title_terms AND {base} "
                    f"AND d.id NOT IN ({', '.join('?' for _ in seen)}) "
                    "ORDER BY score DESC, d.sort_at DESC LIMIT ?",
                    pg,
                ),
                [words, words, *base_params, *seen, first - len(rows)],
            )
    return [
        Hit(
            module=r["module"],
            object_id=r["object_id"],
            score=round(float(r["score"] or 0.0), 6),
            title=r["title"],
            snippet=snippets.highlight(r["title"], tokens, prefix=True),
            sort_at=r["sort_at"],
        )
        for r in rows
    ]


SUGGEST_WINDOW = 2000  # newest visible records a suggestion looks at first


def _suggest_sql(
    m: engine.Match,
    base: str,
    base_params: list[Any],
    first: int,
    pg: bool,
) -> tuple[str, list[Any]]:
    """Newest visible records whose title matches, score 1.0, in one statement.

    PostgreSQL: among the SUGGEST_WINDOW newest visible records when at least `first` of them
    match (a common prefix: an index walk, no posting list read), else among all matches (a
    rare prefix: few rows). SQLite: the title-prefix FTS5 query (the `prefix='2 3'` index
    answers it: 0.1-1 ms at 20,000 tickets), its matches filtered and the newest taken; the
    walk cost more there (SQLite rows carry the texts: 2,000 newest rows were 2-3 ms)."""
    newest = "ORDER BY sort_at DESC, id DESC"
    if not pg:
        statement = (
            "SELECT d.id, d.module, d.object_id, d.title, d.sort_at, 1.0 AS score "
            "FROM search_doc d WHERE d.id IN (SELECT rowid FROM search_fts WHERE search_fts "
            f"MATCH ?) AND {base} ORDER BY d.sort_at DESC, d.id DESC LIMIT ?"
        )
        return statement, [*m.params, *base_params, first]
    test = "{0}.title_tsv @@ to_tsquery('simple', ?)"
    # The walk stops at the `first`-th match (the window is already newest first); the
    # OFFSET 0 fences the matches from their order (the GIN index finds them, then a sort).
    statement = (
        f"WITH a AS MATERIALIZED (SELECT x.id, x.sort_at FROM (SELECT d.id, d.sort_at, "
        f"d.title_tsv FROM search_doc d WHERE {base} ORDER BY d.sort_at DESC, d.id DESC "
        f"LIMIT {SUGGEST_WINDOW}) AS x WHERE {test.format('x')} {newest} LIMIT ?), "
        "b AS (SELECT id, sort_at FROM (SELECT d.id, d.sort_at FROM search_doc d "
        f"WHERE (SELECT COUNT(*) FROM a) < ? AND {test.format('d')} AND {base} "
        f"LIMIT ALL OFFSET 0) AS s {newest} LIMIT ?), "
        "k AS (SELECT id, sort_at FROM a WHERE (SELECT COUNT(*) FROM a) >= ? "
        "UNION ALL SELECT id, sort_at FROM b) "
        "SELECT d.id, d.module, d.object_id, d.title, d.sort_at, 1.0 AS score "
        "FROM k JOIN search_doc d ON d.id = k.id ORDER BY k.sort_at DESC, k.id DESC"
    )
    params = [*base_params, *m.params, first, first, *m.params, *base_params, first, first]
    return engine.sql(statement, pg), params


LATIN = [chr(c) for c in range(ord("A"), ord("Z") + 1)]


async def letters(actor: Actor, module: str) -> list[tuple[str, int]]:
    """SRC-4: each first letter of the module's names with how many records have it: A–Z
    always (zero when empty), every other letter that occurs (Ł, Ś, Ż, ...), and `#`."""
    if module not in (CONTACT, ACCOUNT):
        raise InvalidSearch("letters exist for contacts and accounts")
    pg = engine.is_postgres()
    access, params = _access(actor, True, pg)
    rows = await engine.connection().execute_query_dict(
        engine.sql(
            "SELECT d.letter AS letter, COUNT(*) AS n FROM search_doc d "
            f"WHERE d.module = ? AND {' AND '.join(access) or '1=1'} GROUP BY d.letter",
            pg,
        ),
        [module, *params],
    )
    found = {r["letter"]: int(r["n"]) for r in rows}
    keys = set(LATIN) | set(found) | {"#"}
    ordered = sorted((k for k in keys if k != "#"), key=lambda k: (fold(k), k)) + ["#"]
    return [(k, found.get(k, 0)) for k in ordered]
