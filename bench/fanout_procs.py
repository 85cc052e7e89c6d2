"""Fan-out to many subscribers held by several client processes (bench/fanout.py's one client
process runs out of file descriptors at 10,000 subscribers: its limit is 20,000 and it holds
DeskQL's and the raw reference's sockets at once).

    .venv/bin/python bench/fanout_procs.py --subscribers 10000 --workers 4 --servers 2 \\
        --database-url postgres://postgres@127.0.0.1:5432/deskql_fanout_bench --reset
    .venv/bin/python bench/fanout_procs.py --subscribers 200 --workers 2     # SQLite, 1 server

Seeds the database with bench/fanout.py's `seed` (one ticket, N followers with tokens), starts
`--servers` uvicorn processes of `server:create_app` on it (several need PostgreSQL; they share
`--broadcast-url`, Redis by default with PostgreSQL, `memory://` with SQLite), and
`--workers` client processes (bench/fanout_worker.py), each opening its share of the
graphql-transport-ws `ticketUpdates` subscribers (protocol-level ones, bench/fanout_client.py,
unless `--client websockets`), spread round-robin over the servers, after
raising its open files limit (setrlimit RLIMIT_NOFILE to the hard limit; this process raises
its own too, which the servers inherit). When every worker reports ready, one warm-up event
proves every subscription live; then per event the workers forget their arrivals, an
administrator's `commentAdd` goes to the first server, and each worker reports when its first
and last subscriber got the event (CLOCK_MONOTONIC, shared by all processes on Linux).

Prints, over `--events` events: time from the mutation's response to the LAST delivery
(median, p99; negative when every subscriber had the event before the response arrived), to
the first delivery (median), deliveries per second, deliveries lost (and
error frames, counted as lost), the servers' CPU per event and per delivery and the client
processes' CPU per delivery. `--profile
FILE` samples the last server with py-spy during the events (the first also runs the
mutations) and prints the hottest frames.
The last line is `fanout_procs: median <ms> ms, p99 <ms> ms, lost <n>`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

import common  # noqa: E402
import fanout  # noqa: E402
import httpx  # noqa: E402
from fanout_worker import raise_nofile  # noqa: E402

WORKER = BENCH / "fanout_worker.py"


class Worker:
    """A fanout_worker.py process and its JSON-lines conversation."""

    def __init__(self, proc: asyncio.subprocess.Process, index: int) -> None:
        self.proc = proc
        self.index = index

    @classmethod
    async def start(cls, index: int, config: dict[str, Any]) -> Worker:
        """Start a worker with its configuration (it connects right away)."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(WORKER),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=2**24,
        )
        worker = cls(proc, index)
        await worker.send(config)
        return worker

    async def send(self, message: dict[str, Any]) -> None:
        """One line to the worker."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        await self.proc.stdin.drain()

    async def answer(self, wait: float) -> dict[str, Any]:
        """The worker's next line (it failed if it exits first)."""
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), wait)
        if not line:
            code = await self.proc.wait()
            raise SystemExit(f"worker {self.index} exited with {code} (its stderr is above)")
        return json.loads(line)

    async def ask(self, message: dict[str, Any], wait: float) -> dict[str, Any]:
        """Send a command and wait for its answer."""
        await self.send(message)
        return await self.answer(wait)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the worker process has used so far."""
        try:
            stat = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")

    async def stop(self) -> None:
        """Close its WebSockets and let it exit (killed if it does not within 30 s)."""
        if self.proc.returncode is not None:
            return
        try:
            await self.ask({"cmd": "close"}, 30)
            await asyncio.wait_for(self.proc.wait(), 30)
        except (TimeoutError, SystemExit, OSError, ValueError):
            if self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()


def shares(items: list[str], parts: int) -> list[list[str]]:
    """`items` cut into `parts` consecutive slices of (nearly) equal size."""
    size = math.ceil(len(items) / parts)
    return [items[i : i + size] for i in range(0, len(items), size)]


async def run_events(
    workers: list[Worker],
    trigger: Any,
    events: int,
    within: float,
    servers: list[common.Server],
) -> dict[str, Any]:
    """Fire `events` events one after another; per event, the first/last delivery times."""
    each_before = [s.cpu_seconds() or 0 for s in servers]
    clients_before = sum(w.cpu_seconds() for w in workers)
    started = time.perf_counter()
    last_ms: list[float] = []
    first_ms: list[float] = []
    rates: list[float] = []
    lost = errors = total = 0
    for i in range(events):
        await asyncio.gather(*(w.ask({"cmd": "arm"}, 60) for w in workers))
        sent = time.perf_counter()
        await trigger(i)
        answered = time.perf_counter()
        reports = await asyncio.gather(
            *(w.ask({"cmd": "collect", "within": within}, within + 60) for w in workers)
        )
        received = sum(r["received"] for r in reports)
        total = sum(r["total"] for r in reports)
        errors += sum(r["errors"] for r in reports)
        lost += total - received
        lasts = [r["last"] for r in reports if r["last"] is not None]
        firsts = [r["first"] for r in reports if r["first"] is not None]
        if lasts:
            last_ms.append((max(lasts) - answered) * 1000)
            first_ms.append((min(firsts) - answered) * 1000)
            rates.append(received / max(max(lasts) - sent, 1e-9))
        await asyncio.sleep(0.05)
    wall = time.perf_counter() - started
    each = [(s.cpu_seconds() or 0) - b for s, b in zip(servers, each_before, strict=True)]
    cpu = sum(each)
    clients = sum(w.cpu_seconds() for w in workers) - clients_before
    return {
        "client_us_per_delivery": clients * 1e6 / max(events * total, 1),
        "server_cpu_share": cpu / wall,
        "cpu_ms_per_event": cpu * 1000 / max(events, 1),
        "cpu_us_per_delivery": cpu * 1e6 / max(events * total, 1),
        "median_ms": statistics.median(last_ms) if last_ms else 0.0,
        "p99_ms": fanout.pct(last_ms, 0.99) if last_ms else 0.0,
        "first_median_ms": statistics.median(first_ms) if first_ms else 0.0,
        "deliveries_per_s": statistics.median(rates) if rates else 0.0,
        "lost": lost,
        "errors": errors,
        "per_event_ms": last_ms,
        "cpu_ms_per_event_each": [c * 1000 / max(events, 1) for c in each],
    }


async def bench(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """Seed, start the servers and workers, measure; everything started is stopped."""
    database_url = args.database_url or f"sqlite://{tmp / 'bench.sqlite3'}"
    on_postgres = database_url.startswith("postgres")
    if args.servers > 1 and not on_postgres:
        raise SystemExit("several servers need --database-url to PostgreSQL")
    broadcast_url = args.broadcast_url or ("redis://127.0.0.1:6379" if on_postgres else "memory://")
    if args.servers > 1 and broadcast_url.startswith("memory"):
        raise SystemExit("several servers need a shared --broadcast-url (redis://...)")
    print(f"seeding {args.subscribers} followers on {database_url.split('://')[0]} ...")
    data = await fanout.seed(database_url, tmp, args.subscribers, args.reset)
    env = fanout.server_env(database_url, tmp, broadcast_url)
    servers = [
        common.Server(f"deskql-{i}", "deskql.server:create_app", env, tmp)
        for i in range(args.servers)
    ]
    workers: list[Worker] = []
    http = None
    try:
        for server in servers:
            server.start()
        urls = [f"ws://{common.HOST}:{s.port}/graphql" for s in servers]
        config = {
            "urls": urls,
            "query": fanout.SUBSCRIPTIONS["ticketUpdates"],
            "variables": {"id": data["ticket"]},
            "batch": args.connect_batch,
            "client": args.client,
        }
        connecting = time.perf_counter()
        for index, tokens in enumerate(shares(data["tokens"], args.workers)):
            # Each worker starts at another server so that the split stays even.
            rotated = urls[index % len(urls) :] + urls[: index % len(urls)]
            workers.append(await Worker.start(index, {**config, "urls": rotated, "tokens": tokens}))
        ready = await asyncio.gather(*(w.answer(args.connect_timeout) for w in workers))
        held = sum(r["ready"] for r in ready)
        print(
            f"{held} subscribers connected by {len(workers)} worker processes to "
            f"{len(servers)} server(s) in {time.perf_counter() - connecting:.1f} s"
        )
        http = httpx.AsyncClient(base_url=f"http://{common.HOST}:{servers[0].port}", timeout=60)
        trigger = fanout.comment_trigger(http, data)
        warm = await run_events(workers, trigger, 1, args.timeout, servers)
        if warm["lost"]:
            for server in servers:
                print(f"--- {server.name} log (tail) ---\n{server.log_path.read_text()[-2000:]}")
            raise SystemExit(f"warm-up: {warm['lost']} of {held} subscribers got nothing")
        profiler = None
        if args.profile:
            py_spy = common.py_spy_available()
            if py_spy is None:
                raise SystemExit("--profile needs py-spy (pip install py-spy)")
            # The last server: the first also runs the mutations.
            assert servers[-1].proc is not None
            profiler = common.start_profile(
                py_spy, servers[-1].proc.pid, args.profile_seconds, Path(args.profile)
            )
        result = await run_events(workers, trigger, args.events, args.timeout, servers)
        if profiler is not None:
            profiler.wait()
            layers, hot = common.summarise_profile(Path(args.profile))
            print(f"profile of {servers[-1].name} ({args.profile_seconds:.0f} s of the events):")
            for name, share in layers:
                print(f"  {share:5.1f}%  {name}")
            print("  hottest frames:")
            for line in hot:
                print(f"    {line}")
        result["subscribers"] = held
        return result
    finally:
        if http is not None:
            await http.aclose()
        await asyncio.gather(*(w.stop() for w in workers), return_exceptions=True)
        for server in servers:
            server.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4, help="client processes")
    parser.add_argument("--servers", type=int, default=2, help="DeskQL uvicorn processes")
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per event")
    parser.add_argument("--connect-timeout", type=float, default=600.0)
    parser.add_argument("--connect-batch", type=int, default=50)
    parser.add_argument(
        "--client",
        choices=["light", "websockets"],
        default="light",
        help="the workers' subscribers: protocol-level (bench/fanout_client.py) or websockets",
    )
    parser.add_argument("--database-url", default="")
    parser.add_argument("--broadcast-url", default="")
    parser.add_argument("--reset", action="store_true", help="DROP and recreate the PG database")
    parser.add_argument("--profile", default="", help="py-spy the last server into this file")
    parser.add_argument("--profile-seconds", type=float, default=10.0)
    args = parser.parse_args()
    if args.workers < 1 or args.servers < 1 or args.subscribers < args.workers:
        parser.error("need at least one server, one worker and a subscriber per worker")
    gc.set_threshold(50_000)
    print(f"open files limit raised to {raise_nofile()} (servers inherit it)")
    tmp = Path(tempfile.mkdtemp(prefix="deskql-fanout-procs-"))
    try:
        r = await bench(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"\n{r['subscribers']} ticketUpdates subscribers, {args.workers} client processes, "
        f"{args.servers} server process(es), {args.events} events"
    )
    fanout.show("DeskQL", r)
    print(
        f"  first delivery after response: median {r['first_median_ms']:.1f} ms; error frames "
        f"{r['errors']}; server CPU per delivery {r['cpu_us_per_delivery']:.0f} us, the "
        f"client processes' {r['client_us_per_delivery']:.0f} us"
    )
    each = ", ".join(f"{ms:.0f}" for ms in r["cpu_ms_per_event_each"])
    print(
        f"  server CPU ms per event, each server: {each} (the first also runs the mutation, "
        "which writes a notification per follower)"
    )
    print("  per event (ms):", " ".join(f"{v:.0f}" for v in r["per_event_ms"]))
    print(
        f"fanout_procs: median {r['median_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, lost {r['lost']}"
    )


if __name__ == "__main__":
    common.run(main())
