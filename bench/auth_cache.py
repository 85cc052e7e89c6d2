"""Token cache benchmark: DeskQL with the token cache on and off, side by side, in one run.

    .venv/bin/python bench/auth_cache.py [--database-url postgres://.../NAME --reset]
                                         [--rounds 3] [--duration 3] [--cache-ms 5000]

Seeds the ticket_list benchmark's data (bench/ticket_list.py), then starts two uvicorn
processes of the same code on the same database:
  (on)  DESKQL_AUTH_CACHE_MS=--cache-ms: a token's Actor is read once, then served from memory;
  (off) DESKQL_AUTH_CACHE_MS=0: every request reads the token and the agent's departments.
Two queries, each with the same administrator token: `{ __typename }` (nothing but
authentication and the GraphQL round) and a small ticket list (`--page` tickets, a few
fields). Rounds alternate (on, off, off, on, ...); figures are medians over rounds; the last
line of each query is the on/off throughput ratio.
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
import ticket_list  # noqa: E402

TYPENAME = "{ __typename }"
SMALL_LIST = """
query SmallList($first: Int!) {
  tickets(first: $first) { nodes { id number subject status } }
}
"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database-url", default="", help="PostgreSQL URL (default: SQLite)")
    p.add_argument("--reset", action="store_true", help="drop and recreate --database-url")
    p.add_argument("--tickets", type=int, default=60, help="tickets to create (default 60)")
    p.add_argument("--page", type=int, default=5, help="tickets in the small list (default 5)")
    p.add_argument("--concurrency", type=int, default=8, help="connections (default 8)")
    p.add_argument("--rounds", type=int, default=3, help="rounds per server (default 3)")
    p.add_argument("--duration", type=float, default=3.0, help="seconds per round (default 3)")
    p.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds (default 1)")
    p.add_argument("--cache-ms", type=int, default=5000, help="auth_cache_ms of (on) (5000)")
    args = p.parse_args(argv)
    if args.reset and not args.database_url:
        p.error("--reset only applies to --database-url")
    if args.cache_ms <= 0:
        p.error("--cache-ms must be positive ((off) is the server without a cache)")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    began = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="deskql-bench-auth-"))
    servers: list[common.Server] = []
    try:
        print(f"seeding {args.tickets} tickets into {args.database_url or 'SQLite in ' + str(tmp)}")
        token = asyncio.run(ticket_list.seed(args.database_url, tmp, args.tickets, args.reset))
        env = {
            "DESKQL_VAR_DIR": str(tmp),
            "DESKQL_DATABASE_URL": args.database_url,
            "DESKQL_SMTP_ENABLED": "false",  # not measured; two servers would share its port
        }
        on_env = {**env, "DESKQL_AUTH_CACHE_MS": str(args.cache_ms)}
        cached = common.Server("on", "deskql.server:create_app", on_env, tmp)
        off_env = {**env, "DESKQL_AUTH_CACHE_MS": "0"}
        uncached = common.Server("off", "deskql.server:create_app", off_env, tmp)
        for server in (cached, uncached):
            servers.append(server)
            server.start()
        headers = {"Authorization": f"Bearer {token}"}
        queries = {
            "{ __typename }": json.dumps({"query": TYPENAME}),
            f"ticket list ({args.page})": json.dumps(
                {"query": SMALL_LIST, "variables": {"first": args.page}}
            ),
        }
        lengths: dict[tuple[str, str], int] = {}
        for label, body in queries.items():
            answers = {s.name: ticket_list.post(s, body, headers) for s in servers}
            if answers["on"] != answers["off"] or json.loads(answers["on"]).get("errors"):
                raise SystemExit(f"{label}: the servers answer differently or with errors")
            for server in servers:
                lengths[(server.name, label)] = len(answers[server.name])

        def one_round(server: common.Server, label: str, seconds: float) -> dict[str, Any]:
            return common.load(
                server,
                body=queries[label],
                headers=headers,
                concurrency=args.concurrency,
                duration=seconds,
                max_requests=1_000_000,
                expected_length=lengths[(server.name, label)],
            )

        results: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for label in queries:
            for server in servers:
                one_round(server, label, args.warmup)
            rounds: dict[str, list[dict[str, Any]]] = {s.name: [] for s in servers}
            for r in range(args.rounds):
                line = []
                for server in servers if r % 2 == 0 else servers[::-1]:
                    result = one_round(server, label, args.duration)
                    rounds[server.name].append(result)
                    line.append(f"{server.name} {result['rps']:7.0f}/s")
                print(f"{label}, round {r + 1}: " + "   ".join(line))
            results[label] = rounds
        report(args, results)
    finally:
        for server in reversed(servers):
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"total time {time.monotonic() - began:.0f} s")


def report(args: argparse.Namespace, results: dict[str, dict[str, list[dict[str, Any]]]]) -> None:
    print()
    print(
        f"medians of {args.rounds} rounds x {args.duration:g} s, {args.concurrency} connections, "
        f"{'PostgreSQL' if args.database_url else 'SQLite'}; (on) auth_cache_ms={args.cache_ms}, "
        "(off) auth_cache_ms=0"
    )
    print(f"{'':28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms':>8}")
    for label, rounds in results.items():
        med = {
            name: {k: common.median_of(rs, k) for k in ("rps", "p50_ms", "p99_ms", "cpu_ms")}
            for name, rs in rounds.items()
        }
        for name in ("on", "off"):
            m = med[name]
            print(
                f"{label + ' (' + name + ')':28} {m['rps']:8.0f} {m['p50_ms']:8.2f} "
                f"{m['p99_ms']:8.2f} {m['cpu_ms']:8.2f}"
            )
        on, off = med["on"], med["off"]
        print(
            f"ratio on/off, {label}: {on['rps'] / off['rps']:.2f}x throughput, "
            f"{off['cpu_ms'] / on['cpu_ms']:.2f}x less server CPU per request "
            f"(p99 {on['p99_ms']:.2f} vs {off['p99_ms']:.2f} ms)"
        )


if __name__ == "__main__":
    main()
