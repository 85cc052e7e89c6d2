"""Type-ahead suggestions (SRC-3): records whose name, subject or title has words starting
with the prefix's words, newest first; on PostgreSQL near spellings (pg_trgm) fill up."""

from __future__ import annotations

from typing import Any

from deskql.services import uow
from deskql.services.auth import Actor
from deskql.services.search import engine, snippets
from deskql.services.search.common import (
    MAX_QUERY,
    Hit,
    InvalidSearch,
    _access,
    _module_clause,
    _modules,
)
from deskql.services.search.text import parse

TYPO = 0.45  # pg_trgm word similarity from which a title counts as a misspelling


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
