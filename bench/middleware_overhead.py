"""Middleware overhead: DeskQL's ticket list with and without the request middleware of
serving/ (CORS, request id, one log line per request, Prometheus metrics), in one run.

    .venv/bin/python bench/middleware_overhead.py [--rounds 5] [--duration 4]
                                                  [--database-url postgres://.../NAME --reset]

Seeds the ticket_list benchmark's data (bench/ticket_list.py: 60 tickets with contacts,
accounts, agents, teams and tags), then starts two uvicorn processes of the same code on the
same database, both logging the way `deskql serve` does (serving/logs.py, text lines to their
log file):
  (0) DeskQL as served: create_app(settings);
  (1) the same without CORS and the request observer: create_app(settings, middleware=False).
Each request sends an Origin that is allowed (so CORS adds its headers) and an Authorization
header; rounds are interleaved (0, 1, 1, 0, 0, 1, ...) and figures are medians. The aim is (0) at
most 5% slower than (1).
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

ORIGIN = "https://app.example.com"


def _app(*, middleware: bool) -> Any:
    from deskql.server import create_app
    from deskql.serving.logs import configure_logging
    from deskql.settings import Settings

    settings = Settings.from_env()
    configure_logging(settings)
    return create_app(settings, middleware=middleware)


def with_middleware() -> Any:
    """uvicorn factory: the application as served."""
    return _app(middleware=True)


def without_middleware() -> Any:
    """uvicorn factory: the same application without the request middleware."""
    return _app(middleware=False)


async def _micro(n: int, log_path: Path) -> tuple[float, float]:
    """Seconds per request of a trivial ASGI endpoint alone and wrapped in the middleware,
    in this process (the steadier measure on a shared machine): best of 5 interleaved runs."""
    import logging
    from types import SimpleNamespace

    from deskql.serving.cors import OriginCORS
    from deskql.serving.logs import configure_logging
    from deskql.serving.observe import RequestObserver, current
    from deskql.settings import Settings

    settings = Settings(allowed_origins=[ORIGIN])
    stream = log_path.open("w")
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging(settings, stream=stream)
    route = SimpleNamespace(path="/graphql")

    async def endpoint(scope: dict, receive: Any, send: Any) -> None:
        scope["route"] = route
        record = current()
        if record is not None:
            record.operation, record.actor_id = "TicketList", 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    wrapped = RequestObserver(OriginCORS(endpoint, settings=settings))
    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/json"),
        (b"authorization", b"Bearer dq_x"),
        (b"origin", ORIGIN.encode()),
    ]

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        pass

    async def timed(app: Any) -> float:
        started = time.perf_counter()
        for _ in range(n):
            scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": headers}
            await app(scope, receive, send)
        return (time.perf_counter() - started) / n

    best = {"bare": float("inf"), "wrapped": float("inf")}
    try:
        for _ in range(5):
            best["bare"] = min(best["bare"], await timed(endpoint))
            best["wrapped"] = min(best["wrapped"], await timed(wrapped))
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        stream.close()
    return best["bare"], best["wrapped"]


async def _inprocess_ticket_list(
    var_dir: Path,
    database_url: str,
    body: str,
    headers: dict[str, str],
    n: int,
    log_path: Path,
    *,
    with_first: bool,
) -> tuple[float, float]:
    """CPU seconds per ticket list request of the whole app, with and without the middleware,
    in this process over httpx's ASGI transport (no sockets, no other process): blocks of 25
    requests alternate between the two apps; the median block of each. The app built first
    is the cheaper one by a few percent even when both are the same (an A/A run showed it),
    so callers measure both orders."""
    import logging
    import statistics

    import httpx

    from deskql import db
    from deskql.server import create_app
    from deskql.serving.logs import configure_logging
    from deskql.settings import Settings

    settings = Settings.from_env(
        var_dir=var_dir, database_url=database_url, smtp_enabled=False, allowed_origins=[ORIGIN]
    )
    stream = log_path.open("w")
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging(settings, stream=stream)
    await db.init_db(settings, migrate=False)
    clients = {
        flag: httpx.AsyncClient(
            transport=httpx.ASGITransport(
                app=create_app(settings, manage_db=False, middleware=flag)
            ),
            base_url="http://127.0.0.1",
            headers={**headers, "Content-Type": "application/json"},
        )
        for flag in ((True, False) if with_first else (False, True))
    }
    blocks: dict[bool, list[float]] = {True: [], False: []}
    try:
        for client in clients.values():  # warm-up
            for _ in range(10):
                (await client.post("/graphql", content=body)).raise_for_status()
        for i in range(max(n // 25, 2) * 2):
            flag = i % 4 in (0, 3)  # with, without, without, with, ...
            started = time.process_time()
            for _ in range(25):
                (await clients[flag].post("/graphql", content=body)).raise_for_status()
            blocks[flag].append((time.process_time() - started) / 25)
    finally:
        for client in clients.values():
            await client.aclose()
        await db.close_db()
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        stream.close()
    return statistics.median(blocks[True]), statistics.median(blocks[False])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database-url", default="", help="PostgreSQL URL (default: SQLite)")
    p.add_argument("--reset", action="store_true", help="drop and recreate --database-url")
    p.add_argument("--tickets", type=int, default=60, help="tickets to create (default 60)")
    p.add_argument("--page", type=int, default=50, help="tickets per response (default 50)")
    p.add_argument("--concurrency", type=int, default=8, help="connections (default 8)")
    p.add_argument("--rounds", type=int, default=5, help="rounds per server (default 5)")
    p.add_argument("--duration", type=float, default=4.0, help="seconds per round (default 4)")
    p.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds (default 2)")
    p.add_argument(
        "--micro", type=int, default=20_000, help="requests of the in-process measure (20000)"
    )
    p.add_argument(
        "--inprocess",
        type=int,
        default=1000,
        help="ticket list requests per app of the in-process comparison (1000)",
    )
    args = p.parse_args(argv)
    if args.reset and not args.database_url:
        p.error("--reset only applies to --database-url")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    began = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="deskql-bench-mw-"))
    servers: list[common.Server] = []
    try:
        print(f"seeding {args.tickets} tickets into {args.database_url or 'SQLite in ' + str(tmp)}")
        token = asyncio.run(ticket_list.seed(args.database_url, tmp, args.tickets, args.reset))
        env = {
            "DESKQL_VAR_DIR": str(tmp),
            "DESKQL_DATABASE_URL": args.database_url,
            "DESKQL_SMTP_ENABLED": "false",
            "DESKQL_ALLOWED_ORIGINS": ORIGIN,
            "DESKQL_LOG_FORMAT": "text",
            "DESKQL_LOG_LEVEL": "info",
        }
        full = common.Server("0-middleware", "middleware_overhead:with_middleware", env, tmp)
        bare = common.Server("1-none", "middleware_overhead:without_middleware", env, tmp)
        for server in (full, bare):
            server.app_dir = BENCH
            servers.append(server)
            server.start()

        body = json.dumps({"query": ticket_list.QUERY, "variables": {"first": args.page}})
        headers = {"Authorization": f"Bearer {token}", "Origin": ORIGIN}
        answers = {s.name: ticket_list.post(s, body, headers) for s in servers}
        if answers[full.name] != answers[bare.name]:
            raise SystemExit("the two servers answer differently")
        if json.loads(answers[full.name]).get("errors"):
            raise SystemExit(f"unexpected response: {answers[full.name][:300]!r}")
        # Same document; (0)'s response also carries X-Request-ID and CORS headers.
        lengths = {s.name: len(answers[s.name]) for s in servers}

        def one_round(server: common.Server, seconds: float) -> dict[str, Any]:
            return common.load(
                server,
                body=body,
                headers=headers,
                concurrency=args.concurrency,
                duration=seconds,
                max_requests=100_000,
                expected_length=lengths[server.name],
            )

        for server in servers:
            one_round(server, args.warmup)
        rounds: dict[str, list[dict[str, Any]]] = {s.name: [] for s in servers}
        for r in range(args.rounds):
            line = []
            # Each server goes first every other round: no order bias from load that drifts.
            for server in servers if r % 2 == 0 else servers[::-1]:
                result = one_round(server, args.duration)
                rounds[server.name].append(result)
                line.append(f"{server.name} {result['rps']:7.0f}/s {result['cpu_ms']:.2f} ms CPU")
            print(f"round {r + 1}: " + "   ".join(line))
        logged = (tmp / f"server-{full.name}.log").read_text().count("deskql.request: POST")
        report(args, servers, rounds, logged)
        for server in servers:
            server.stop()  # the in-process measures below get the CPU to themselves
        ratios = []
        for with_first in (True, False):
            with_s, without_s = asyncio.run(
                _inprocess_ticket_list(
                    tmp,
                    args.database_url,
                    body,
                    headers,
                    args.inprocess // 2,
                    tmp / "inprocess.log",
                    with_first=with_first,
                )
            )
            ratios.append(with_s / without_s)
            print(
                f"in process, whole app over ASGI, {args.inprocess // 2} ticket list requests "
                f"each, {'with' if with_first else 'without'} built first: "
                f"{with_s * 1000:.2f} ms CPU a request with the middleware, "
                f"{without_s * 1000:.2f} ms without: ratio {with_s / without_s:.3f}"
            )
        both = (ratios[0] * ratios[1]) ** 0.5
        print(f"in process, both orders: ratio {both:.3f} (geometric mean; aim <= 1.05)")
        bare_s, wrapped_s = asyncio.run(_micro(args.micro, tmp / "micro.log"))
        cost_ms = (wrapped_s - bare_s) * 1000
        cpu_ms = common.median_of(rounds[bare.name], "cpu_ms")
        print(
            f"in process, {args.micro} requests: the middleware costs {cost_ms * 1000:.1f} us a "
            f"request (endpoint alone {bare_s * 1e6:.1f} us, wrapped {wrapped_s * 1e6:.1f} us), "
            f"{100 * cost_ms / cpu_ms:.2f}% of (1)'s CPU per ticket list request"
        )
    finally:
        for server in reversed(servers):
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"total time {time.monotonic() - began:.0f} s")


def report(
    args: argparse.Namespace,
    servers: list[common.Server],
    rounds: dict[str, list[dict[str, Any]]],
    logged: int,
) -> None:
    labels = {
        "0-middleware": "(0) with CORS, request id, logs, metrics",
        "1-none": "(1) same server, no middleware",
    }
    print()
    print(
        f"medians of {args.rounds} rounds x {args.duration:g} s, {args.concurrency} connections, "
        f"{args.page} tickets per response, {'PostgreSQL' if args.database_url else 'SQLite'}"
    )
    print(f"{'':42} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms':>8} {'requests':>9}")
    med: dict[str, dict[str, float]] = {}
    for server in servers:
        rs = rounds[server.name]
        med[server.name] = {
            k: common.median_of(rs, k) for k in ("rps", "p50_ms", "p99_ms", "cpu_ms", "requests")
        }
        m = med[server.name]
        print(
            f"{labels[server.name]:42} {m['rps']:8.0f} {m['p50_ms']:8.2f} {m['p99_ms']:8.2f} "
            f"{m['cpu_ms']:8.2f} {sum(r['requests'] for r in rs):9d}"
        )
    full, bare = med["0-middleware"], med["1-none"]
    print()
    print(f"(0)/(1) throughput ratio: {full['rps'] / bare['rps']:.3f}   (aim >= 0.95)")
    print(
        f"(0)/(1) server CPU per request: {full['cpu_ms'] / bare['cpu_ms']:.3f}   "
        "(aim <= 1.05; steadier on a shared machine)"
    )
    print(f"request lines (0) logged: {logged}")


if __name__ == "__main__":
    main()
