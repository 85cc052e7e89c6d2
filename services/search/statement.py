"""The one statement of a search: its matches found once, the page ranked, the counts taken.

The matches of a plan (ORG-5, spam, modules and criteria included) are read once into the
CTE `m`, narrowed by the chosen facets into `f`; the page and every count come from those
two in the same statement, so the index is visited once per request.

Relevance is computed for candidates only (the engine's rank reads each match's whole
tsvector/FTS row, the costly part of a search with many matches): the CANDIDATES newest
matches plus the CANDIDATES newest matches in the title (name, subject). Candidates come
first, by relevance then recency; further matches follow newest first, with score 0. With
fewer matches than CANDIDATES every match is ranked (the common case for precise queries).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deskql.services.search import engine, facets

if TYPE_CHECKING:
    from deskql.services.search.query import Plan

CANDIDATES = 500
NONE, TOTALS, FACETS = "none", "totals", "facets"
_M_COLUMNS = (
    "d.id, d.module, d.object_id, d.sort_at, d.status, d.priority, d.channel, "
    "d.department_id, d.assignee_id, d.account_id, d.owner_id, d.tag_ids"
)


@dataclass
class Found:
    """Rows of the statement: the page's (in order) and the count rows (kind, value, n)."""

    hits: list[dict[str, Any]]
    counts: list[tuple[str, Any, int]] | None


def _ranked(p: Plan, want_rest: bool) -> tuple[str, list[Any]]:
    """The CTEs `c` (candidates) and `r` (ids with score, recency and tier)."""
    assert p.match is not None
    if p.pg:
        rank = (
            "SELECT c.id, CAST(ts_rank(d.tsv, q) AS DOUBLE PRECISION) AS score, "
            f"c.sort_at AS s, 0 AS tier FROM c JOIN search_doc d ON d.id = c.id{p.match.join}"
        )
        params: list[Any] = list(p.match.params)
    else:
        # FTS5 reads the match's posting lists once and computes bm25 only for the
        # candidates (`+rowid`: a filter, not one FTS5 lookup per candidate, which would
        # restart the query and its statistics each time).
        rank = (
            "SELECT c.id, x.score, c.sort_at AS s, 0 AS tier FROM (SELECT search_fts.rowid AS "
            "id, -bm25(search_fts, 10.0, 1.0) AS score FROM search_fts WHERE search_fts "
            "MATCH ? AND +search_fts.rowid IN (SELECT id FROM c)) AS x JOIN c ON c.id = x.id"
        )
        params = list(p.match.params)
    sql = (
        "c AS (SELECT id, sort_at FROM (SELECT id, sort_at FROM f "
        f"ORDER BY sort_at DESC, id DESC LIMIT {CANDIDATES}) AS newest UNION "
        "SELECT id, sort_at FROM (SELECT id, sort_at FROM f WHERE in_title "
        f"ORDER BY sort_at DESC, id DESC LIMIT {CANDIDATES}) AS titled), "
        f"r AS ({rank}"
    )
    if want_rest:
        sql += (
            " UNION ALL SELECT f.id, 0.0, f.sort_at, 1 FROM f "
            "WHERE NOT EXISTS (SELECT 1 FROM c WHERE c.id = f.id)"
        )
    return sql + ")", params


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
    p: Plan, where: str, params: list[Any], *, offset: int, limit: int, want: str
) -> Found:
    """The page [offset, offset+limit+1) of the plan's matches and, as `want` says, no
    counts, the total and per-module counts, or those and the facets."""
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
    if limit > 0:
        if p.match is None:
            order = "LOWER(d.title), d.id" if p.alphabetical else "f.sort_at DESC, f.id DESC"
            ctes.append(
                "p AS (SELECT f.id, 0.0 AS score, ROW_NUMBER() OVER (ORDER BY "
                f"{order}) AS rn FROM f JOIN search_doc d ON d.id = f.id ORDER BY {order} "
                "LIMIT ? OFFSET ?)"
            )
            values.extend([limit + 1, offset])
        else:
            r_sql, r_params = _ranked(p, offset + limit + 1 > CANDIDATES)
            ctes.append(r_sql)
            values.extend(r_params)
            order = "tier, score DESC, s DESC, id DESC"
            ctes.append(
                f"p AS (SELECT id, score, ROW_NUMBER() OVER (ORDER BY {order}) AS rn FROM r "
                f"ORDER BY {order} LIMIT ? OFFSET ?)"
            )
            values.extend([limit + 1, offset])
        branches.append(
            "SELECT 'hit' AS kind, CAST(NULL AS TEXT) AS v, p.rn AS n, d.module, d.object_id, "
            "d.title, d.body, d.sort_at, CAST(p.score AS DOUBLE PRECISION) AS score "
            "FROM p JOIN search_doc d ON d.id = p.id"
        )
    if want != NONE:
        count_sql, count_params = facets.count_branches(
            p.chosen, p.modules if want == FACETS else [], p.pg
        )
        tail = (
            "CAST(NULL AS VARCHAR(16)), CAST(NULL AS INT), CAST(NULL AS VARCHAR(500)), "
            "CAST(NULL AS TEXT), CAST(NULL AS TIMESTAMPTZ), CAST(NULL AS DOUBLE PRECISION)"
        )
        branches.extend(
            f"SELECT k{i}.kind, k{i}.v, k{i}.n, {tail} FROM ({b}) AS k{i}"
            for i, b in enumerate(count_sql)
        )
        values.extend(count_params)
    if not branches:
        return Found([], None)
    statement = "WITH " + ", ".join(ctes) + " " + " UNION ALL ".join(branches)
    rows = await engine.connection().execute_query_dict(engine.sql(statement, p.pg), values)
    hits = sorted((r for r in rows if r["kind"] == "hit"), key=lambda r: r["n"])
    counts = (
        [(r["kind"], r["v"], int(r["n"])) for r in rows if r["kind"] != "hit"]
        if want != NONE
        else None
    )
    return Found(hits, counts)
