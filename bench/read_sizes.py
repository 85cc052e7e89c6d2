"""Keyset pages, the capped totalCount and the list indexes against the offset/uncapped way, at
growing sizes on PostgreSQL (issue 18): p50/p99 per query, size and way, and the ratio.

    .venv/bin/python bench/read_sizes.py [--reset] [--sizes 10000,100000]
        [--database-prefix postgres://postgres@127.0.0.1:5432/deskql_bench_scale]
        [--duration 3] [--concurrency 1]

Seeds (or reuses) the databases of bench/ticket_scale.py and times the same six queries with
its helpers (seed, time_documents, print_table), twice per size, one server after the other:
  keyset     as served now: keyset cursors, totalCount capped (DESKQL_TOTAL_COUNT_CAP, 10000),
             the list indexes of migrations 0017 and 0019 in place;
  reference  the way before: the 500th page by an offset cursor (`o:<n>`, still accepted),
             an exact count (DESKQL_TOTAL_COUNT_CAP=0), and those indexes dropped for the pass
             (re-created after it, also on Ctrl-C).
Both ways must return the same 500th page (checked). Prints each way's table and, per query and
size, reference p50 / keyset p50 (the speed-up; 1.0: the same).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

import common  # noqa: E402
import ticket_scale as ts  # noqa: E402
from peer_data import seed  # noqa: E402

MIGRATIONS = ("deskql.migrations.0017_indexes", "deskql.migrations.0019_list_indexes")
TABLES = {"Ticket": "ticket", "Thread": "thread", "Comment": "comment", "Contact": "contact"}
TABLES["Account"] = "account"


async def sql(url: str, statement: str, *args: Any) -> list[Any]:
    """Rows of one statement on the database."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        return list(await conn.fetch(statement, *args))
    finally:
        await conn.close()


async def drop_indexes(url: str) -> list[str]:
    """Drop the indexes migrations 0017 and 0019 add; returns the statements that re-create them."""
    wanted = {
        (TABLES[op.model_name], tuple(op.index.fields))
        for name in MIGRATIONS
        for op in importlib.import_module(name).Migration.operations
    }
    rows = await sql(
        url,
        """SELECT i.relname AS name, t.relname AS tbl, pg_get_indexdef(i.oid) AS def,
                  array(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(n, o)
                        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n
                        ORDER BY k.o) AS cols
           FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
           JOIN pg_class t ON t.oid = x.indrelid
           WHERE t.relname = ANY($1::text[]) AND NOT x.indisprimary""",
        list(TABLES.values()),
    )
    found = [r for r in rows if (r["tbl"], tuple(r["cols"])) in wanted]
    # Every index 0017 and 0019 add (and any older one on the same columns, e.g. 0012's).
    if {(r["tbl"], tuple(r["cols"])) for r in found} != wanted:
        raise SystemExit(f"expected the {len(wanted)} list indexes, found {len(found)}")
    for row in found:
        await sql(url, f'DROP INDEX "{row["name"]}"')
    await sql(url, "ANALYZE")
    return [row["def"] for row in found]


async def restore_indexes(url: str, statements: list[str]) -> None:
    """Re-create the dropped indexes (their own CREATE INDEX statements)."""
    for statement in statements:
        await sql(url, statement)
    await sql(url, "ANALYZE")


def documents(cursor: str, dept: int, contact: int) -> dict[str, str]:
    """The six documents of bench/ticket_scale.py, the 500th page after `cursor`."""
    from deskql.schema.ids import to_global_id

    dept_id, contact_id = to_global_id("Department", dept), to_global_id("Contact", contact)
    return {
        "first": ts.page(""),
        "contact": ts.page(f'filter: {{contactId: "{contact_id}"}}'),
        "dept_status": ts.page(f'filter: {{departmentIds: ["{dept_id}"], status: [OPEN]}}'),
        "updated_at": ts.page("sort: {field: UPDATED_AT, direction: DESC}"),
        "page_500": ts.page(f'after: "{cursor}"' if cursor else ""),
        "total_count": "{ tickets(first: 0) { totalCount } }",
    }


def numbers(server: common.Server, document: str, headers: dict[str, str]) -> list[int]:
    """The ticket numbers of a page (to check both ways return the same page)."""
    doc = ts.post(server, document, headers)
    return [e["node"]["number"] for e in doc["data"]["tickets"]["edges"]]


def run_size(
    args: argparse.Namespace, size: int, tmp: Path
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Both ways on the database of one size: (keyset results, reference results)."""
    from deskql.schema.cursors import encode_cursor

    url = f"{args.database_prefix}_{size}"
    print(f"\n{size:,} tickets: {url}")
    token = asyncio.run(seed(url, tmp, size, args.reset, "agent"))
    dept, contact = asyncio.run(ts.ids(url))
    headers = {"Authorization": f"Bearer {token}"}
    env = {"DESKQL_VAR_DIR": str(tmp), "DESKQL_DATABASE_URL": url, "DESKQL_SMTP_ENABLED": "false"}

    print("  keyset (cursors, capped count, list indexes)")
    server = common.Server(f"deskql-{size}", "deskql.server:create_app", env, tmp)
    server.start()
    try:
        started = time.monotonic()
        cursor, page_number = ts.cursor_of_page(server, headers, 500)
        print(
            f"  keyset cursor of page {page_number}: walked in {time.monotonic() - started:.1f} s"
        )
        docs = documents(cursor, dept, contact)
        page_keyset = numbers(server, docs["page_500"], headers)
        keyset = ts.time_documents(args, server, headers, docs, ts.QUERIES)
    finally:
        server.stop()

    print("  reference (offset cursor, exact count, without the list indexes)")
    offset = encode_cursor((page_number - 1) * ts.PAGE - 1) if page_number > 1 else ""
    statements = asyncio.run(drop_indexes(url))
    try:
        env_ref = {**env, "DESKQL_TOTAL_COUNT_CAP": "0"}
        server = common.Server(f"deskql-{size}-ref", "deskql.server:create_app", env_ref, tmp)
        server.start()
        try:
            docs = documents(offset, dept, contact)
            if numbers(server, docs["page_500"], headers) != page_keyset:
                raise SystemExit("the offset cursor's page differs from the keyset cursor's")
            reference = ts.time_documents(args, server, headers, docs, ts.QUERIES)
        finally:
            server.stop()
    finally:
        asyncio.run(restore_indexes(url, statements))
    return keyset, reference


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database-prefix", default=ts.DEFAULT_PREFIX, help="as ticket_scale.py")
    p.add_argument("--sizes", default="10000,100000", help="ticket counts (1000000 takes long)")
    p.add_argument("--reset", action="store_true", help="DROP and recreate each database first")
    p.add_argument("--duration", type=float, default=3.0, help="seconds per query (default 3)")
    p.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per query")
    p.add_argument("--concurrency", type=int, default=1, help="connections (default 1)")
    args = p.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if any(s < 2 * ts.PAGE for s in args.sizes):
        p.error(f"every size must be at least {2 * ts.PAGE}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="deskql-bench-read-"))
    keyset: dict[int, dict[str, dict[str, float]]] = {}
    reference: dict[int, dict[str, dict[str, float]]] = {}
    try:
        for size in args.sizes:
            keyset[size], reference[size] = run_size(args, size, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\nkeyset:", end="")
    ts.print_table(args, keyset, ts.QUERIES)
    print("\nreference (offset cursor, exact count, no list indexes):", end="")
    ts.print_table(args, reference, ts.QUERIES)
    print("\nratio reference p50 / keyset p50 (p99 ratio in brackets)")
    print(f"{'':12}" + "".join(f"{size:>20,}" for size in args.sizes))
    for name in ts.QUERIES:
        cells = ""
        for s in args.sizes:
            new, ref = keyset[s][name], reference[s][name]
            cells += (
                f"{ref['p50_ms'] / new['p50_ms']:>12.2f}x ({ref['p99_ms'] / new['p99_ms']:.2f}x)"
            )
        print(f"{name:12}{cells}")
    worst = {s: max(r["p99_ms"] for r in keyset[s].values()) for s in args.sizes}
    print("keyset worst p99: " + ", ".join(f"{s:,}: {w:.1f} ms" for s, w in worst.items()))


if __name__ == "__main__":
    main()
