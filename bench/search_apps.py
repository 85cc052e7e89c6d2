"""The reference side of bench/search.py: the search box as a plain `ILIKE '%word%'` scan.

A bare Starlette app (run by uvicorn like DeskQL, measured by the same bench/loadgen.py) that
answers {"mode": "search"|"suggest", "text": ...} with what a search without an index does:
tickets of the agent's departments (not spam) whose subject, description, any thread or any
comment contains the text, and contacts whose name or email does, newest first, a page of 20
plus the total; suggestions: ticket subjects and contact names with a word starting with the
text, 10. PostgreSQL with asyncpg (ILIKE), SQLite with aiosqlite (LIKE, case-insensitive).

{"mode": "count"} is the floor of an exact count through the index instead: the bare
`COUNT(*)` of the agent's visible matches (DeskQL's own parse and match condition, ORG-5 and
spam), nothing ranked, no facets, no GraphQL: what any search that counts its matches exactly
must at least do (bench/search.py `--modes index`). On SQLite it runs on 2 threads, each with
its own connection, as DeskQL's slow reads do (DESKQL_SQLITE_READ_THREADS).
Environment: DESKQL_BENCH_DB (URL as DeskQL's), DESKQL_BENCH_DEPTS (comma-separated ids).
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PG_SEARCH = """
WITH hits AS (
  SELECT 'ticket' AS module, t.id, t.subject AS title, t.updated_at FROM ticket t
  WHERE t.department_id = ANY($2::int[]) AND NOT t.is_spam AND (
    t.subject ILIKE $1 OR t.description ILIKE $1
    OR t.id IN (SELECT h.ticket_id FROM thread h WHERE h.body_text ILIKE $1)
    OR t.id IN (SELECT c.ticket_id FROM comment c WHERE c.body ILIKE $1))
  UNION ALL
  SELECT 'contact', c.id, c.first_name || ' ' || c.last_name, c.updated_at FROM contact c
  WHERE c.first_name ILIKE $1 OR c.last_name ILIKE $1 OR c.email ILIKE $1)
SELECT module, id, title, (SELECT COUNT(*) FROM hits) AS total FROM hits
ORDER BY updated_at DESC LIMIT 20
"""
PG_SUGGEST = """
SELECT * FROM (SELECT 'ticket' AS module, t.id, t.subject AS title FROM ticket t
 WHERE t.department_id = ANY($3::int[]) AND NOT t.is_spam
   AND (t.subject ILIKE $1 OR t.subject ILIKE $2) ORDER BY t.updated_at DESC LIMIT 10) AS a
UNION ALL
SELECT * FROM (SELECT 'contact', c.id, c.first_name || ' ' || c.last_name FROM contact c
 WHERE c.first_name ILIKE $1 OR c.last_name ILIKE $1 OR c.first_name ILIKE $2
 ORDER BY c.updated_at DESC LIMIT 10) AS b
LIMIT 10
"""


def _sqlite(sql: str, depts: list[int]) -> str:
    marks = ", ".join(str(int(d)) for d in depts)
    return (
        sql.replace("= ANY($2::int[])", f"IN ({marks})")
        .replace("= ANY($3::int[])", f"IN ({marks})")
        .replace("ILIKE", "LIKE")
        .replace("NOT t.is_spam", "t.is_spam = 0")
        .replace("$1", ":a")
        .replace("$2", ":b")
    )


def count_sql(text: str, depts: list[int], pg: bool) -> tuple[str, list[Any]]:
    """The bare count of the visible matches of `text` through the index (mode "count")."""
    from deskql.services.search import engine
    from deskql.services.search.text import parse

    match = engine.match(parse(text).groups, prefix=False, titles_only=False, pg=pg)
    marks = ", ".join(str(int(d)) for d in depts)
    sql = (
        f"SELECT COUNT(*) AS total FROM search_doc d{match.join} WHERE {match.where} AND "
        f"(d.department_id IS NULL OR d.department_id IN ({marks})) AND d.is_spam = ?"
    )
    return engine.sql(sql, pg), [*match.params, False if pg else 0]


def _threaded_count(path: str, local: threading.local, sql: str, params: list[Any]) -> list[Any]:
    """On a counting thread: its own connection (64 MiB of page cache, as DeskQL's)."""
    if not hasattr(local, "db"):
        local.db = sqlite3.connect(path, check_same_thread=False)
        local.db.execute("PRAGMA cache_size = -65536")
    cur = local.db.execute(sql, params)
    return [{"total": row[0]} for row in cur.fetchall()]


def ilike_app() -> Starlette:
    """The ILIKE reference server."""
    url = os.environ["DESKQL_BENCH_DB"]
    depts = [int(d) for d in os.environ["DESKQL_BENCH_DEPTS"].split(",")]
    state: dict[str, Any] = {}
    counters = ThreadPoolExecutor(2)
    local = threading.local()

    async def answer(request: Request) -> Response:
        body = json.loads(await request.body())
        text = body["text"]
        if url.startswith("postgres"):
            if "pool" not in state:
                import asyncpg

                state["pool"] = await asyncpg.create_pool(
                    url.replace("postgres://", "postgresql://", 1), min_size=8, max_size=8
                )
            async with state["pool"].acquire() as conn:
                if body["mode"] == "count":
                    sql, values = count_sql(text, depts, pg=True)
                    rows = await conn.fetch(sql, *values)
                elif body["mode"] == "search":
                    rows = await conn.fetch(PG_SEARCH, f"%{text}%", depts)
                else:
                    rows = await conn.fetch(PG_SUGGEST, f"{text}%", f"% {text}%", depts)
            out = [dict(r) for r in rows]
        elif body["mode"] == "count":
            sql, values = count_sql(text, depts, pg=False)
            out = await asyncio.get_running_loop().run_in_executor(
                counters, _threaded_count, url.split("://", 1)[1], local, sql, values
            )
        else:
            if "db" not in state:
                import aiosqlite

                state["db"] = await aiosqlite.connect(url.split("://", 1)[1])
                # The page cache DeskQL's connection has (DESKQL_SQLITE_CACHE_MIB, 64).
                await state["db"].execute("PRAGMA cache_size = -65536")
            sql = _sqlite(PG_SEARCH if body["mode"] == "search" else PG_SUGGEST, depts)
            params = (
                {"a": f"%{text}%"}
                if body["mode"] == "search"
                else {"a": f"{text}%", "b": f"% {text}%"}
            )
            async with state["db"].execute(sql, params) as cur:
                cols = [c[0] for c in cur.description]
                out = [dict(zip(cols, r, strict=True)) for r in await cur.fetchall()]
        return Response(json.dumps({"hits": out}), media_type="application/json")

    return Starlette(routes=[Route("/graphql", answer, methods=["POST"])])
