"""The two engines behind the index: SQLite FTS5 and PostgreSQL tsvector + GIN + pg_trgm.

Everything dialect-specific lives here: the DDL (migration 0011), writing and deleting index
rows, and the match condition of a parsed query. Queries are written with `?` placeholders
and numbered for asyncpg by `sql()`; tokens reach the engines only quoted (FTS5 strings,
tsquery lexemes), so no user input is ever read as engine syntax.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection

COLUMNS = (
    "module",
    "object_id",
    "department_id",
    "is_spam",
    "letter",
    "status",
    "priority",
    "channel",
    "assignee_id",
    "account_id",
    "owner_id",
    "sort_at",
    "title",
    "body",
    "title_terms",
    "body_terms",
)
# Migration 0011's columns (its backfill runs before 0016 adds `tag_ids`).
COLUMNS_0011 = COLUMNS
COLUMNS = (*COLUMNS_0011, "tag_ids")

SQLITE_DDL = [
    # External content: the FTS table stores only the index; search_doc holds the text.
    """CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
        title_terms, body_terms, content='search_doc', content_rowid='id',
        tokenize='unicode61 remove_diacritics 0', prefix='2 3')""",
    """CREATE TRIGGER IF NOT EXISTS search_doc_ai AFTER INSERT ON search_doc BEGIN
        INSERT INTO search_fts(rowid, title_terms, body_terms)
        VALUES (new.id, new.title_terms, new.body_terms);
    END""",
    """CREATE TRIGGER IF NOT EXISTS search_doc_ad AFTER DELETE ON search_doc BEGIN
        INSERT INTO search_fts(search_fts, rowid, title_terms, body_terms)
        VALUES ('delete', old.id, old.title_terms, old.body_terms);
    END""",
    """CREATE TRIGGER IF NOT EXISTS search_doc_au AFTER UPDATE ON search_doc BEGIN
        INSERT INTO search_fts(search_fts, rowid, title_terms, body_terms)
        VALUES ('delete', old.id, old.title_terms, old.body_terms);
        INSERT INTO search_fts(rowid, title_terms, body_terms)
        VALUES (new.id, new.title_terms, new.body_terms);
    END""",
    "CREATE INDEX IF NOT EXISTS search_doc_sort ON search_doc (sort_at)",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS search_doc_ai",
    "DROP TRIGGER IF EXISTS search_doc_ad",
    "DROP TRIGGER IF EXISTS search_doc_au",
    "DROP TABLE IF EXISTS search_fts",
]

POSTGRES_DDL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """ALTER TABLE search_doc ADD COLUMN IF NOT EXISTS tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title_terms), 'A')
        || to_tsvector('simple', body_terms)) STORED""",
    """ALTER TABLE search_doc ADD COLUMN IF NOT EXISTS title_tsv tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', title_terms)) STORED""",
    "CREATE INDEX IF NOT EXISTS search_doc_tsv ON search_doc USING gin (tsv)",
    "CREATE INDEX IF NOT EXISTS search_doc_title_tsv ON search_doc USING gin (title_tsv)",
    "CREATE INDEX IF NOT EXISTS search_doc_trgm ON search_doc USING gin (title_terms gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS search_doc_sort ON search_doc (sort_at)",
]
# Migration 0016 (speed): the tag ids of a ticket on its row (facets count them without a
# join); on PostgreSQL every long value (texts, tsvectors) leaves the heap row for TOAST, so
# the rows a match visits for its filters and facets are about 120 bytes instead of 1.3 KB
# (the table is rebuilt by the migration: rows keep the layout they were written with).
SQLITE_SPEED_DDL = [
    "ALTER TABLE search_doc ADD COLUMN tag_ids TEXT NOT NULL DEFAULT '[]'",
    # The FTS row changes only when the text does (facet columns change more often).
    "DROP TRIGGER IF EXISTS search_doc_au",
    """CREATE TRIGGER IF NOT EXISTS search_doc_au AFTER UPDATE OF title_terms, body_terms
    ON search_doc BEGIN
        INSERT INTO search_fts(search_fts, rowid, title_terms, body_terms)
        VALUES ('delete', old.id, old.title_terms, old.body_terms);
        INSERT INTO search_fts(rowid, title_terms, body_terms)
        VALUES (new.id, new.title_terms, new.body_terms);
    END""",
    "CREATE INDEX IF NOT EXISTS search_doc_recent ON search_doc (sort_at DESC, id DESC)",
]
SQLITE_SPEED_DROP = [
    "DROP INDEX IF EXISTS search_doc_recent",
    "ALTER TABLE search_doc DROP COLUMN tag_ids",
    "DROP TRIGGER IF EXISTS search_doc_au",
    SQLITE_DDL[3],
]
POSTGRES_SPEED_DDL = [
    "ALTER TABLE search_doc ADD COLUMN IF NOT EXISTS tag_ids INT[] NOT NULL DEFAULT '{}'",
    "ALTER TABLE search_doc SET (toast_tuple_target = 128)",
    # Read for every match (title matches, tag facet) and suggestion: they stay inline.
    "ALTER TABLE search_doc ALTER COLUMN title_tsv SET STORAGE MAIN",
    "ALTER TABLE search_doc ALTER COLUMN tag_ids SET STORAGE MAIN",
    "CREATE INDEX IF NOT EXISTS search_doc_recent ON search_doc (sort_at DESC, id DESC)",
]
POSTGRES_SPEED_DROP = [
    "DROP INDEX IF EXISTS search_doc_recent",
    "ALTER TABLE search_doc RESET (toast_tuple_target)",
    "ALTER TABLE search_doc ALTER COLUMN title_tsv SET STORAGE EXTENDED",
    "ALTER TABLE search_doc DROP COLUMN IF EXISTS tag_ids",
]
POSTGRES_DROP = [
    "DROP INDEX IF EXISTS search_doc_trgm",
    "DROP INDEX IF EXISTS search_doc_title_tsv",
    "DROP INDEX IF EXISTS search_doc_tsv",
    "ALTER TABLE search_doc DROP COLUMN IF EXISTS title_tsv",
    "ALTER TABLE search_doc DROP COLUMN IF EXISTS tsv",
]


def connection() -> BaseDBAsyncClient:
    """The default connection (the transaction's, inside one)."""
    return get_connection("default")


def is_postgres(conn: BaseDBAsyncClient | None = None) -> bool:
    """Whether the connection speaks PostgreSQL."""
    conn = conn or connection()
    return conn.capabilities.dialect == "postgres"


def sql(text: str, postgres: bool) -> str:
    """`?` placeholders numbered `$1..$n` for asyncpg (the SQL here has no `?` in literals)."""
    if not postgres:
        return text
    parts = text.split("?")
    out = [parts[0]]
    for i, part in enumerate(parts[1:], start=1):
        out.append(f"${i}{part}")
    return "".join(out)


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


async def sqlite_functions(conn: BaseDBAsyncClient) -> None:
    """Give the SQLite connection `dq_lower`, a lower() for every script (SQLite's own
    lower() and LIKE fold ASCII only: `łuk` would not find `Łukasiewicz`)."""
    raw = getattr(conn, "_connection", None)
    if raw is None or getattr(raw, "_deskql_lower", False):
        return
    await raw.create_function("dq_lower", 1, _lower, deterministic=True)
    raw._deskql_lower = True


async def create_structures(conn: BaseDBAsyncClient) -> None:
    """The engine's tables, columns, triggers and indexes (idempotent)."""
    for statement in POSTGRES_DDL if is_postgres(conn) else SQLITE_DDL:
        await conn.execute_script(statement)


async def drop_structures(conn: BaseDBAsyncClient) -> None:
    """Undo create_structures."""
    for statement in POSTGRES_DROP if is_postgres(conn) else SQLITE_DROP:
        await conn.execute_script(statement)


async def create_speed_structures(conn: BaseDBAsyncClient) -> None:
    """Migration 0016's columns, storage and indexes."""
    for statement in POSTGRES_SPEED_DDL if is_postgres(conn) else SQLITE_SPEED_DDL:
        await conn.execute_script(statement)


async def drop_speed_structures(conn: BaseDBAsyncClient) -> None:
    """Undo create_speed_structures."""
    for statement in POSTGRES_SPEED_DROP if is_postgres(conn) else SQLITE_SPEED_DROP:
        await conn.execute_script(statement)


# PostgreSQL's GIN indexes of search_doc. With `fastupdate` (the default) new entries go to
# a pending list that every query using the index reads whole, until VACUUM (autovacuum) or
# 4 MB of it (gin_pending_list_limit) moves them into the index.
GIN_INDEXES = ("search_doc_tsv", "search_doc_title_tsv", "search_doc_trgm")


async def flush_pending(conn: BaseDBAsyncClient) -> None:
    """PostgreSQL: move the GIN indexes' pending entries into the indexes (after a bulk
    build; a transaction may call it, unlike VACUUM). After 121,000 rows the title index's
    list held 19,228 entries: ~2 ms of every suggestion's index scan. SQLite: nothing."""
    if not is_postgres(conn):
        return
    names = ", ".join(f"'{name}'" for name in GIN_INDEXES)
    await conn.execute_query(
        "SELECT gin_clean_pending_list(i) FROM (SELECT to_regclass(n) AS i "
        f"FROM unnest(ARRAY[{names}]) AS n) AS x WHERE i IS NOT NULL"
    )


async def clear(conn: BaseDBAsyncClient) -> None:
    """Remove every index row (PostgreSQL: TRUNCATE, which leaves no dead rows behind)."""
    if is_postgres(conn):
        await conn.execute_script("TRUNCATE search_doc")
    else:
        await conn.execute_script("DELETE FROM search_doc")


async def upsert(
    conn: BaseDBAsyncClient, docs: list[dict[str, Any]], columns: tuple[str, ...] = COLUMNS
) -> None:
    """Write index rows, replacing the ones of the same records (one statement per 200)."""
    if not docs:
        return
    pg = is_postgres(conn)
    cols = ", ".join(columns)
    row = "(" + ", ".join("?" for _ in columns) + ")"
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[2:])
    for start in range(0, len(docs), 200):
        chunk = docs[start : start + 200]
        statement = sql(
            f"INSERT INTO search_doc ({cols}) VALUES {', '.join(row for _ in chunk)} "
            f"ON CONFLICT (module, object_id) DO UPDATE SET {updates}",
            pg,
        )
        values = [sql_value(d[c], pg) for d in chunk for c in columns]
        await conn.execute_query(statement, values)


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list):
        return json.dumps(value)  # tag_ids: a JSON array (json_each reads it)
    return value


def sql_value(value: Any, pg: bool) -> Any:
    """A parameter as the driver takes it (SQLite: datetimes as Tortoise stores them)."""
    return value if pg else _sqlite_value(value)


async def delete(conn: BaseDBAsyncClient, module: str, object_ids: list[int]) -> None:
    """Remove the index rows of records that are gone."""
    if not object_ids:
        return
    pg = is_postgres(conn)
    marks = ", ".join("?" for _ in object_ids)
    await conn.execute_query(
        sql(f"DELETE FROM search_doc WHERE module = ? AND object_id IN ({marks})", pg),
        [module, *object_ids],
    )


@dataclass
class Match:
    """The SQL that finds the documents of a query: FROM addition, WHERE and score."""

    join: str
    where: str
    score: str
    params: list[Any]
    title_params: list[Any] = field(default_factory=list)  # SQLite: the title-only MATCH


def _fts5_string(token: str, prefix: bool) -> str:
    return f'"{token}"' + ("*" if prefix else "")


def match(groups: list[list[str]], *, prefix: bool, titles_only: bool, pg: bool) -> Match:
    """The match condition for groups of tokens (each group a phrase; all groups required).

    `prefix`: the last token of every group matches as a word prefix (type-ahead).
    `titles_only`: look in names/subjects/titles only (the suggestion index)."""
    if pg:
        parts = []
        for g in groups:
            lexemes = [f"'{t}'" for t in g]
            if prefix:
                lexemes[-1] += ":*"
            parts.append("(" + " <-> ".join(lexemes) + ")")
        column = "d.title_tsv" if titles_only else "d.tsv"
        return Match(
            join=", to_tsquery('simple', ?) AS q",
            where=f"{column} @@ q",
            score=f"ts_rank({column}, q)",
            params=["&".join(parts)],
        )
    phrases = []
    for g in groups:
        if len(g) == 1:
            phrases.append(_fts5_string(g[0], prefix))
        else:
            inner = " + ".join(_fts5_string(t, prefix and i == len(g) - 1) for i, t in enumerate(g))
            phrases.append(inner)
    expression = " AND ".join(f"({p})" for p in phrases)
    in_titles = "{title_terms} : (" + expression + ")"
    return Match(
        join=" JOIN search_fts ON search_fts.rowid = d.id",
        where="search_fts MATCH ?",
        score="(-bm25(search_fts, 10.0, 1.0))",
        params=[in_titles if titles_only else expression],
        title_params=[in_titles],
    )
