"""Ticket list queries at growing sizes on PostgreSQL (issue 18): p50/p99 per query and size.

    .venv/bin/python bench/ticket_scale.py --reset [--sizes 10000,100000,1000000]
        [--database-prefix postgres://postgres@127.0.0.1:5432/deskql_bench_scale]
        [--duration 5] [--concurrency 1]

For each size, seeds its own database `<prefix>_<size>` like bench/peer_postgraphile.py
(bench/peer_data.py: DeskQL's migrations, then `generate_series` SQL; `--reset` DROPS and
recreates it, otherwise one seeded before with the same size is reused), starts DeskQL (uvicorn,
one worker) with the token of an agent of both departments, and times over HTTP, each for
`--duration` seconds from bench/loadgen.py at `--concurrency` connections (1: latency alone):
  first        the first page (50 tickets, default sort: createdAt, newest first)
  contact      a page filtered by one contact
  dept_status  a page filtered by a department and status OPEN
  updated_at   a page sorted by updatedAt
  page_500     the 500th page by cursor (the cursor got by walking pages 1..499 first; with
               fewer tickets, the last full page)
  total_count  `totalCount` alone
Each page selects the fields of the peer benchmark's page (nine scalars, the contact's name,
the assignee's name). Prints a table of p50/p99 ms per query and size, then the worst p99 per
size and how it grows from the smallest size to the largest (the aim: <= 50 ms, flat).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

import common  # noqa: E402
import httpx  # noqa: E402
from peer_data import seed  # noqa: E402

DEFAULT_PREFIX = "postgres://postgres@127.0.0.1:5432/deskql_bench_scale"
PAGE = 50
FIELDS = """id number subject status priority channel isSpam createdAt updatedAt
  contact { name } assignee { __typename ... on Agent { name } ... on Team { name } }"""
QUERIES = ("first", "contact", "dept_status", "updated_at", "page_500", "total_count")


def page(args: str) -> str:
    """A page of tickets with the given arguments (besides `first`)."""
    extra = f", {args}" if args else ""
    return f"{{ tickets(first: {PAGE}{extra}) {{ edges {{ node {{ {FIELDS} }} }} }} }}"


async def ids(database_url: str) -> tuple[int, int]:
    """The first department's id and a contact in the middle of the seeded ones."""
    import asyncpg

    conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        dept = await conn.fetchval("SELECT min(id) FROM department")
        contact = await conn.fetchval("SELECT (min(id) + max(id)) / 2 FROM contact")
        return int(dept), int(contact)
    finally:
        await conn.close()


def post(server: common.Server, query: str, headers: dict[str, str]) -> dict[str, Any]:
    """One GraphQL request; stops on errors."""
    resp = httpx.post(
        f"http://{common.HOST}:{server.port}/graphql",
        json={"query": query},
        headers=headers,
        timeout=120,
    )
    resp.raise_for_status()
    doc = resp.json()
    if doc.get("errors"):
        raise SystemExit(f"errors for {query[:120]!r}: {json.dumps(doc['errors'])[:1000]}")
    return doc


def cursor_of_page(server: common.Server, headers: dict[str, str], n: int) -> tuple[str, int]:
    """Walk pages 1..n-1 (n: at most the last full page); the cursor page n starts after."""
    visible = post(server, "{ tickets(first: 0) { totalCount totalCountIsEstimate } }", headers)
    counted = visible["data"]["tickets"]
    if not counted["totalCountIsEstimate"]:  # past the count's cap there are more than n pages
        n = min(n, counted["totalCount"] // PAGE)
    after = ""
    for _ in range(1, n):
        arg = f', after: "{after}"' if after else ""
        doc = post(
            server,
            f"{{ tickets(first: {PAGE}{arg}) {{ pageInfo {{ endCursor hasNextPage }} }} }}",
            headers,
        )
        after = doc["data"]["tickets"]["pageInfo"]["endCursor"]
    return after, n


def time_documents(
    args: argparse.Namespace,
    server: common.Server,
    headers: dict[str, str],
    documents: dict[str, str],
    queries: tuple[str, ...],
) -> dict[str, dict[str, float]]:
    """Time each document (after a warm-up) from bench/loadgen.py; prints a line per query."""
    results: dict[str, dict[str, float]] = {}
    for name in queries:
        body = json.dumps({"query": documents[name]})
        doc = post(server, documents[name], headers)
        got = doc["data"]["tickets"]
        detail = (
            f"totalCount {got['totalCount']}"
            if "totalCount" in got
            else f"{len(got['edges'])} tickets"
        )
        length = len(json.dumps(doc, separators=(",", ":")))
        cfg: dict[str, Any] = {
            "body": body,
            "headers": headers,
            "concurrency": args.concurrency,
            "max_requests": 100_000,
            "expected_length": None,
        }
        common.load(server, duration=args.warmup, **cfg)
        result = common.load(server, duration=args.duration, **cfg)
        results[name] = result
        print(
            f"  {name:12} {result['p50_ms']:8.1f} {result['p99_ms']:8.1f} ms  "
            f"{result['requests']:5d} requests, {detail}, ~{length:,} bytes"
        )
    return results


def print_table(
    args: argparse.Namespace,
    table: dict[int, dict[str, dict[str, float]]],
    queries: tuple[str, ...],
) -> None:
    """p50 / p99 ms per query (rows) and size (columns)."""
    print(f"\np50 / p99 ms, {args.concurrency} connection(s), {args.duration:g} s per query")
    print(f"{'':12}" + "".join(f"{size:>20,}" for size in args.sizes))
    for name in queries:
        cells = "".join(
            f"{table[s][name]['p50_ms']:>11.1f} /{table[s][name]['p99_ms']:>7.1f}"
            for s in args.sizes
        )
        print(f"{name:12}{cells}")


def run_size(args: argparse.Namespace, size: int, tmp: Path) -> dict[str, dict[str, float]]:
    """Seed (or reuse) the database of one size and time every query on it."""
    from deskql.schema.ids import to_global_id

    url = f"{args.database_prefix}_{size}"
    print(f"\n{size:,} tickets: {url}")
    token = asyncio.run(seed(url, tmp, size, args.reset, "agent"))
    dept, contact = asyncio.run(ids(url))
    env = {"DESKQL_VAR_DIR": str(tmp), "DESKQL_DATABASE_URL": url, "DESKQL_SMTP_ENABLED": "false"}
    server = common.Server(f"deskql-{size}", "deskql.server:create_app", env, tmp)
    server.start()
    try:
        headers = {"Authorization": f"Bearer {token}"}
        started = time.monotonic()
        cursor, page_number = cursor_of_page(server, headers, 500)
        print(f"  cursor of page {page_number}: walked in {time.monotonic() - started:.1f} s")
        documents = {
            "first": page(""),
            "contact": page(f'filter: {{contactId: "{to_global_id("Contact", contact)}"}}'),
            "dept_status": page(
                f'filter: {{departmentIds: ["{to_global_id("Department", dept)}"], status: [OPEN]}}'
            ),
            "updated_at": page("sort: {field: UPDATED_AT, direction: DESC}"),
            "page_500": page(f'after: "{cursor}"' if cursor else ""),
            "total_count": "{ tickets(first: 0) { totalCount } }",
        }
        results = time_documents(args, server, headers, documents, QUERIES)
        return results
    finally:
        server.stop()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database-prefix", default=DEFAULT_PREFIX, help=f"default {DEFAULT_PREFIX}")
    p.add_argument("--sizes", default="10000,100000,1000000", help="ticket counts, comma-separated")
    p.add_argument("--reset", action="store_true", help="DROP and recreate each database first")
    p.add_argument("--duration", type=float, default=5.0, help="seconds per query (default 5)")
    p.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per query")
    p.add_argument("--concurrency", type=int, default=1, help="connections (default 1)")
    args = p.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if any(s < 2 * PAGE for s in args.sizes):
        p.error(f"every size must be at least {2 * PAGE}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="deskql-bench-scale-"))
    table: dict[int, dict[str, dict[str, float]]] = {}
    try:
        for size in args.sizes:
            table[size] = run_size(args, size, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print_table(args, table, QUERIES)
    worst = {s: max(r["p99_ms"] for r in table[s].values()) for s in args.sizes}
    print("worst p99: " + ", ".join(f"{s:,}: {w:.1f} ms" for s, w in worst.items()))
    first, last = args.sizes[0], args.sizes[-1]
    print(
        f"worst p99 {last:,} / {first:,}: {worst[last] / worst[first]:.2f}x   (aim: <= 50 ms, flat)"
    )


if __name__ == "__main__":
    main()
