"""The one statement of a search: its matches found once, the page ranked, the counts taken.

The matches of a plan (ORG-5, spam, modules and criteria included) are read once into the
CTE `m`, narrowed by the chosen facets into `f`; the page and every count come from those
two in the same statement, so the index is visited once per request.

Relevance is computed for candidates only (the engine's rank reads each match's whole
tsvector/FTS row, the costly part of a search with many matches): the CANDIDATES newest
matches plus the CANDIDATES newest matches in the title (name, subject). Candidates come
first, by relevance then recency; further matches follow newest first, with score 0. With
fewer matches than CANDIDATES every match is ranked (the common case for precise queries).
Pages are read by keyset (keyset.py: the rows of `r` after or before a hit's values), or by
position for offset cursors handed out before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deskql.services.search import engine, facets, keyset

if TYPE_CHECKING:
    from deskql.services.search.query import Plan

CANDIDATES = 500
NONE, TOTALS, FACETS = "none", "totals", "facets"
NO_NAME, ZERO = "CAST(NULL AS TEXT)", "CAST(0.0 AS DOUBLE PRECISION)"
# The columns after (kind, v, n) of the rows that are not hits: module, object_id, title,
# body, sort_at, score, doc (search_doc's id), tier.
_NULLS = (
    "CAST(NULL AS VARCHAR(16)), CAST(NULL AS INT), CAST(NULL AS VARCHAR(500)), "
    "CAST(NULL AS TEXT), {sort_at}, CAST(NULL AS DOUBLE PRECISION), CAST(NULL AS INT), "
    "CAST(NULL AS INT)"
)
COUNT_TAIL = _NULLS.format(sort_at="CAST(NULL AS TIMESTAMPTZ)")
CUT_TAIL = _NULLS.format(sort_at="x.sort_at")
_M_COLUMNS = (
    "d.id, d.module, d.object_id, d.sort_at, d.status, d.priority, d.channel, "
    "d.department_id, d.assignee_id, d.account_id, d.owner_id, d.tag_ids"
)


@dataclass
class Found:
    """Rows of the statement: the page's (in order) and the count rows (kind, value, n);
    the ordering's kind and the candidates' cut-offs (keyset.Position)."""

    hits: list[dict[str, Any]]
    counts: list[tuple[str, Any, int]] | None
    kind: str = keyset.RECENT
    cutoffs: tuple[Any, ...] = (None,) * keyset.CUTOFFS


def _candidates(p: Plan, cutoffs: tuple[Any, ...] | None) -> tuple[str, list[Any]]:
    """The CTE `c` of the candidates (id, sort_at): the CANDIDATES newest matches and the
    CANDIDATES newest title matches, or (a later page) the matches at or above the cut-offs
    the first page found, so the set does not change when newer matches are indexed."""
    if cutoffs is None:
        return (
            "newest AS MATERIALIZED (SELECT id, sort_at FROM f "
            f"ORDER BY sort_at DESC, id DESC LIMIT {CANDIDATES}), "
            "titled AS MATERIALIZED (SELECT id, sort_at FROM f WHERE in_title "
            f"ORDER BY sort_at DESC, id DESC LIMIT {CANDIDATES}), "
            "c AS (SELECT id, sort_at FROM newest UNION SELECT id, sort_at FROM titled)"
        ), []
    new_s, new_id, title_s, title_id = cutoffs
    if new_s is None:
        return "c AS (SELECT id, sort_at FROM f)", []
    above = "(sort_at > ? OR (sort_at = ? AND id >= ?))"
    params: list[Any] = [new_s, new_s, new_id]
    titled = "in_title"
    if title_s is not None:
        titled += f" AND {above}"
        params.extend([title_s, title_s, title_id])
    return f"c AS (SELECT id, sort_at FROM f WHERE {above} OR ({titled}))", params


def _cut_branches() -> list[str]:
    """Rows (kind 'cut') of the first page's cut-offs: the oldest candidate of each set, when
    the set is full (else every match of it is a candidate)."""
    return [
        f"SELECT 'cut' AS kind, '{name}' AS v, x.id AS n, {CUT_TAIL} FROM (SELECT id, sort_at "
        f"FROM {name} ORDER BY sort_at ASC, id ASC LIMIT 1) AS x "
        f"WHERE (SELECT COUNT(*) FROM {name}) >= {CANDIDATES}"
        for name in ("newest", "titled")
    ]


def _ranked(p: Plan, *, rank: bool, rest: bool) -> tuple[str, list[Any]]:
    """The CTEs `rk` (the candidates' scores, when `rank`) and `r` (id, tier, score, s, k):
    the candidates (tier 0) and, when `rest`, the further matches (tier 1, score 0)."""
    assert p.match is not None
    if p.pg:
        scored = (
            "SELECT c.id, CAST(ts_rank(d.tsv, q) AS DOUBLE PRECISION) AS score, "
            f"c.sort_at AS s FROM c JOIN search_doc d ON d.id = c.id{p.match.join}"
        )
    else:
        # FTS5 reads the match's posting lists once and computes bm25 only for the
        # candidates (`+rowid`: a filter, not one FTS5 lookup per candidate, which would
        # restart the query and its statistics each time; CROSS JOIN keeps FTS5 the outer
        # loop: inside the CTE `rk` the planner chose c outer and one FTS5 lookup per
        # candidate, 5x the statement's time).
        scored = (
            "SELECT c.id, x.score, c.sort_at AS s FROM (SELECT search_fts.rowid AS "
            "id, -bm25(search_fts, 10.0, 1.0) AS score FROM search_fts WHERE search_fts "
            "MATCH ? AND +search_fts.rowid IN (SELECT id FROM c)) AS x CROSS JOIN c "
            "ON c.id = x.id"
        )
    params: list[Any] = list(p.match.params) if rank else []
    parts = []
    if rank:
        parts.append(f"SELECT id, 0 AS tier, score, s, {NO_NAME} AS k FROM rk")
    if rest:
        parts.append(
            f"SELECT f.id, 1 AS tier, {ZERO} AS score, f.sort_at AS s, {NO_NAME} AS k FROM f "
            "WHERE NOT EXISTS (SELECT 1 FROM c WHERE c.id = f.id)"
        )
    sql = f"rk AS MATERIALIZED ({scored}), " if rank else ""
    return sql + f"r AS ({' UNION ALL '.join(parts)})", params


def _m(p: Plan, where: str, params: list[Any], name: str = "m") -> tuple[str, list[Any]]:
    """The CTE `m` (or `name`): every match with its facet columns and whether its title
    matches."""
    if p.match is None:
        in_title, join, values = "0", "", params
    elif p.pg:
        in_title, join, values = "d.title_tsv @@ q", p.join, params
    else:
        in_title = "d.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH ?)"
        join, values = p.join, [*p.match.title_params, *params]
    return (
        f"{name} AS MATERIALIZED (SELECT {_M_COLUMNS}, {in_title} AS in_title "
        f"FROM search_doc d{join} WHERE {where})",
        values,
    )


async def run(
    p: Plan,
    where: str,
    params: list[Any],
    *,
    offset: int,
    limit: int,
    want: str,
    window: keyset.Window | None = None,
) -> Found:
    """The page of the plan's matches: [offset, offset+limit+1) or, with a keyset `window`,
    the limit+1 rows after/before its positions (counted back for a backward window; rows
    come in the window's direction); and, as `want` says, no counts, the total and
    per-module counts, or those and the facets."""
    ctes: list[str] = []
    values: list[Any] = []
    if p.chosen:
        m_sql, m_params = _m(p, where, params)
        ctes.append(m_sql)
        values.extend(m_params)
        narrow, narrow_params = facets.narrowing(p.chosen, "m", p.pg)
        ctes.append(f"f AS MATERIALIZED (SELECT * FROM m WHERE {narrow})")
        values.extend(narrow_params)
    else:
        # Nothing chosen: the matches are `f` themselves (no copy of every match; `m` is
        # only read to count a chosen facet).
        f_sql, f_params = _m(p, where, params, "f")
        ctes.append(f_sql)
        values.extend(f_params)
    branches: list[str] = []
    kind = kind_of(p)
    cutoffs = window.cutoffs if window is not None else None
    if limit > 0:
        ranked = False
        if kind == keyset.RANKED:
            rank, rest = _tiers(window, offset, limit)
            c_sql, c_params = _candidates(p, cutoffs)
            ctes.append(c_sql)
            values.extend(c_params)
            r_sql, r_params = _ranked(p, rank=rank, rest=rest)
            ctes.append(r_sql)
            values.extend(r_params)
            ranked = rank
            if cutoffs is None:
                branches.extend(_cut_branches())
        else:
            name = "LOWER(d.title)" if kind == keyset.NAME else NO_NAME
            ctes.append(
                f"r AS (SELECT f.id, 0 AS tier, {ZERO} AS score, f.sort_at AS s, {name} AS k "
                "FROM f JOIN search_doc d ON d.id = f.id)"
            )
        cond, cond_params = keyset.condition(window, kind, ranked)
        order = keyset.order_sql(kind, window is not None and window.backward)
        ctes.append(
            f"p AS (SELECT id, tier, score, s, k, ROW_NUMBER() OVER (ORDER BY {order}) AS rn "
            f"FROM r WHERE {cond} ORDER BY {order} LIMIT ? OFFSET ?)"
        )
        values.extend([*cond_params, limit + 1, offset])
        branches.insert(
            0,
            "SELECT 'hit' AS kind, p.k AS v, p.rn AS n, d.module, d.object_id, d.title, "
            "d.body, p.s AS sort_at, CAST(p.score AS DOUBLE PRECISION) AS score, p.id AS doc, "
            "p.tier AS tier FROM p JOIN search_doc d ON d.id = p.id",
        )
    if want != NONE:
        count_ctes, count_sql, count_params = facets.count_branches(
            p.chosen, p.modules if want == FACETS else [], p.pg
        )
        ctes.extend(count_ctes)  # no parameters: the values' order stays the text's
        branches.extend(
            f"SELECT k{i}.kind, k{i}.v, k{i}.n, {COUNT_TAIL} FROM ({b}) AS k{i}"
            for i, b in enumerate(count_sql)
        )
        values.extend(count_params)
    if not branches:
        return Found([], None)
    statement = "WITH " + ", ".join(ctes) + " " + " UNION ALL ".join(branches)
    rows = await engine.connection().execute_query_dict(engine.sql(statement, p.pg), values)
    hits = sorted((r for r in rows if r["kind"] == "hit"), key=lambda r: r["n"])
    if kind == keyset.RANKED and limit > 0 and cutoffs is None:
        cut = {r["v"]: (r["sort_at"], int(r["n"])) for r in rows if r["kind"] == "cut"}
        cutoffs = (*cut.get("newest", (None, None)), *cut.get("titled", (None, None)))
    counts = (
        [(r["kind"], r["v"], int(r["n"])) for r in rows if r["kind"] not in ("hit", "cut")]
        if want != NONE
        else None
    )
    return Found(hits, counts, kind, cutoffs or (None,) * keyset.CUTOFFS)


def kind_of(p: Plan) -> str:
    """The plan's ordering: by relevance (words), by name (a letter) or newest first."""
    if p.match is not None:
        return keyset.RANKED
    return keyset.NAME if p.alphabetical else keyset.RECENT


def _tiers(window: keyset.Window | None, offset: int, limit: int) -> tuple[bool, bool]:
    """Whether the page needs the candidates ranked and the further matches (tier 1)."""
    if window is None:
        return True, offset + limit + 1 > CANDIDATES
    after, before = window.after, window.before
    rest = not (before is not None and before.tier <= 0)
    from_start = after is None or after.tier == keyset.JUMP_TIER
    if from_start and before is None and not window.backward:
        rest = limit + 1 > CANDIDATES  # the first page: as without a window
    rank = not (after is not None and after.tier >= 1) or not rest
    return rank, rest


def position(found: Found, row: dict[str, Any]) -> keyset.Position:
    """A hit row's position in its ordering (with the statement's cut-offs)."""
    tier, doc = int(row["tier"]), int(row["doc"])
    if found.kind == keyset.RANKED:
        values: tuple[Any, ...] = (tier, float(row["score"]), row["sort_at"], doc)
        return keyset.Position(found.kind, values, found.cutoffs)
    if found.kind == keyset.RECENT:
        return keyset.Position(found.kind, (tier, row["sort_at"], doc))
    return keyset.Position(found.kind, (tier, row["v"], doc))
