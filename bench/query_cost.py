"""Query cost analysis (issue 17, point 1): its overhead on the bench's ticket list, and how fast
the review's attack document is refused, side by side in one run.

    .venv/bin/python bench/query_cost.py [--tickets 60] [--page 50] [--rounds 7] [--requests 150]

Seeds a temporary SQLite database like bench/ticket_list.py, then in this one process serves
the ticket list query (`--page` tickets, as an administrator) through two instances of the real
application over ASGI (httpx.ASGITransport, no sockets):
  (0) with the cost analysis (the default budget, 50,000),
  (r) the reference: the same app with the analysis off (DESKQL_MAX_QUERY_COST=0).
Rounds alternate (0, r, 0, r, ...), each `--requests` sequential requests; figures are medians
over rounds of the CPU time per request (time.process_time: the process is single-threaded
here, so this is the work the request cost, without the noise of other processes). It also
times `document_cost` alone on the ticket list document, and sends the attack document
(30 aliases of nested ticket lists, cut to the depth limit) to (0): the QUERY_TOO_COSTLY
answer's latency, median of 50, next to the ticket list's.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

import httpx  # noqa: E402
import ticket_list  # noqa: E402

ATTACK_INNER = (
    "tickets(first:100){nodes{account{tickets{nodes{account{tickets{nodes{account{tickets{"
    "nodes{id}}}}}}}}}}}"
)
ATTACK = "{" + " ".join(f"a{i}: {ATTACK_INNER}" for i in range(30)) + "}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=60)
    parser.add_argument("--page", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=150)
    args = parser.parse_args()

    from graphql import parse

    from deskql import db
    from deskql.schema.cost import cached_cost, document_cost
    from deskql.schema.root import build_schema
    from deskql.server import create_app
    from deskql.settings import Settings

    # The refusals are logged as errors by strawberry: keep the output to the figures.
    logging.getLogger("strawberry.execution").setLevel(logging.CRITICAL)
    var_dir = Path(tempfile.mkdtemp(prefix="deskql-bench-cost-"))
    token = await ticket_list.seed("", var_dir, args.tickets, reset=False)
    settings = Settings.from_env(var_dir=var_dir, database_url="", smtp_enabled=False)
    await db.init_db(settings)
    try:
        apps = {
            "0": create_app(settings, manage_db=False),
            "r": create_app(replace(settings, max_query_cost=0), manage_db=False),
        }
        headers = {"Authorization": f"Bearer {token}"}
        body = {"query": ticket_list.QUERY, "variables": {"first": args.page}}
        clients = {
            k: httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://b")
            for k, a in apps.items()
        }

        async def one(name: str, payload: dict) -> dict:
            resp = await clients[name].post("/graphql", json=payload, headers=headers)
            return resp.json()

        expected = await one("r", body)
        assert "errors" not in expected, expected
        assert await one("0", body) == expected
        cost = document_cost(
            build_schema(settings)._schema,
            parse(ticket_list.QUERY),
            operation_name=None,
            variables={"first": args.page},
        )
        per_request: dict[str, list[float]] = {"0": [], "r": []}
        for _ in range(2):  # warm-up
            for name in ("0", "r"):
                await one(name, body)
        for i in range(args.rounds):
            for name in ("0", "r") if i % 2 == 0 else ("r", "0"):
                start = time.process_time()
                for _ in range(args.requests):
                    await one(name, body)
                per_request[name].append((time.process_time() - start) / args.requests)

        schema = build_schema(settings)._schema
        document = parse(ticket_list.QUERY)
        n = 2000
        start = time.perf_counter()
        for _ in range(n):
            document_cost(schema, document, operation_name=None, variables={"first": args.page})
        analysis = (time.perf_counter() - start) / n
        start = time.perf_counter()
        for _ in range(n):
            cached_cost(schema, document, operation_name=None, variables={"first": args.page})
        remembered = (time.perf_counter() - start) / n

        attack_times, list_times = [], []
        for _ in range(50):
            start = time.perf_counter()
            answer = await one("0", {"query": ATTACK})
            attack_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            await one("0", body)
            list_times.append(time.perf_counter() - start)
        error = answer["errors"][0]
        assert error["extensions"]["code"] == "QUERY_TOO_COSTLY", answer
        for client in clients.values():
            await client.aclose()
    finally:
        await db.close_db()

    with_cost = statistics.median(per_request["0"]) * 1000
    without = statistics.median(per_request["r"]) * 1000
    print(
        f"ticket list, {args.page} tickets (cost {cost}), {args.rounds} rounds x "
        f"{args.requests} requests, in-process ASGI, CPU per request (median of rounds):"
    )
    print(f"  (0) with the cost analysis : {with_cost:7.3f} ms")
    print(f"  (r) analysis off           : {without:7.3f} ms")
    ratios = ", ".join(
        f"{a / b:.3f}" for a, b in zip(per_request["0"], per_request["r"], strict=True)
    )
    overhead = (with_cost / without - 1) * 100
    print(f"  (0)/(r) CPU per request    : {with_cost / without:7.3f}  (overhead {overhead:+.1f}%)")
    print(f"  per-round ratios           : {ratios}")
    print(
        f"  document_cost alone        : {analysis * 1e6:7.1f} us "
        f"({analysis * 1000 / without * 100:.2f}% of a request); remembered per document "
        f"(what a request runs): {remembered * 1e6:.1f} us"
    )
    print(
        f"attack document ({len(ATTACK)} bytes, cost {error['extensions']['cost']:,}): "
        f"QUERY_TOO_COSTLY in {statistics.median(attack_times) * 1000:.2f} ms median "
        f"(max {max(attack_times) * 1000:.2f} ms); the ticket list meanwhile "
        f"{statistics.median(list_times) * 1000:.2f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())
