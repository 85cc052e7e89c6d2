"""Fan-out benchmark: live subscription events to many WebSocket subscribers, beside raw
Starlette.

    .venv/bin/python bench/fanout.py [--subscribers 1000] [--events 20] [--memory-events 200]
        [--subscription ticketUpdates|notificationCreated] [--profile FILE]
        [--database-url postgres://postgres@127.0.0.1:5432/NAME --reset] [--redis]

Seeds a database (a temporary SQLite file, or the PostgreSQL database given) with one ticket
and N agents of its department who follow it, each with an API token. Then, in one run:

  (0) DeskQL (`server:create_app`, one uvicorn process): N graphql-transport-ws clients
      subscribe; an administrator's `commentAdd` over HTTP changes the ticket. With
      `ticketUpdates` (the default) every subscriber watches the ticket and has the same
      access, so the event executes once for the group and the others get the pre-encoded
      result (realtime/shared.py); with `notificationCreated` every follower gets its own
      notification (id, cursor, reason, unread count): the event executes once for the
      group too, and each other member gets a copy of the result with its own values filled
      in (`shared.personalise`), encoded for it alone. Per event: time
      from the mutation's response to the LAST delivery, deliveries per second, and
      deliveries lost (none expected).
  (r) raw Starlette WebSockets (`fanout:raw_app`): N clients, each a broadcaster subscriber
      forwarding the same payload DeskQL delivered; an HTTP POST publishes it.

Figures are medians and p99 over `--events` events; ratios DeskQL / raw are printed. Then the
server's resident memory before and after `--memory-events` more events (growth printed);
`--profile FILE` samples the server with py-spy meanwhile and prints the hottest frames.
With `--redis` (needs `--database-url` to PostgreSQL: two processes cannot share SQLite) the
DeskQL part runs again on two uvicorn processes sharing PostgreSQL and Redis, the subscribers
split between them and the mutation sent to the first.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

import common  # noqa: E402
import httpx  # noqa: E402
import websockets  # noqa: E402

SUBSCRIPTIONS = {
    # Per agent: every follower gets its own notification id, cursor and unread count
    # (filled into the group's result for each member).
    "notificationCreated": """subscription { notificationCreated {
  cursor unreadCount notification { id reason activity { kind } ticket { id number } } } }""",
    # Shared: every agent with the same access sees the same event (one execution per group).
    "ticketUpdates": """subscription($id: ID!) { ticketUpdates(ticketId: $id) {
  kind changes activity { kind actor { id name } } ticket { id number status version } } }""",
}
COMMENT = """mutation($id: ID!, $body: String!) {
  commentAdd(input: {ticketId: $id, body: $body}) { errors { code } comment { id } } }"""
RAW_CHANNEL = "bench.raw"


# -- the raw reference: Starlette WebSockets fanning out from broadcaster --------------------


def raw_app() -> Any:
    """Starlette: /ws forwards every message of one broadcaster channel; POST /publish."""
    from broadcaster import Broadcast
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket

    broadcast = Broadcast(os.environ.get("BENCH_BROADCAST_URL", "memory://"))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        await broadcast.connect()
        yield
        await broadcast.disconnect()

    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        async with broadcast.subscribe(RAW_CHANNEL) as subscriber:
            await websocket.send_text("ready")
            async for event in subscriber:  # type: ignore[union-attr]
                await websocket.send_text(event.message)

    async def publish(request: Request) -> Response:
        await broadcast.publish(RAW_CHANNEL, (await request.body()).decode())
        return Response("ok")

    return Starlette(
        routes=[WebSocketRoute("/ws", ws), Route("/publish", publish, methods=["POST"])],
        lifespan=lifespan,
    )


# -- seeding ---------------------------------------------------------------------------------


async def seed(database_url: str, var_dir: Path, subscribers: int, reset: bool) -> dict[str, Any]:
    """One ticket, an admin and N followers with tokens; returns ids and tokens."""
    from tortoise.transactions import in_transaction

    from deskql import db, models
    from deskql.models.enums import Role, TokenKind
    from deskql.schema.ids import to_global_id
    from deskql.services import auth, organisation, tickets
    from deskql.settings import Settings

    settings = Settings.from_env(
        var_dir=var_dir, database_url=database_url, password_time_cost=1, password_memory_kib=8192
    )
    if reset and database_url.startswith("postgres"):
        sys.path.insert(0, str(BENCH.parent))

        await db.recreate_postgres_database(database_url)
    await db.init_db(settings, migrate=True)
    try:
        if await models.Ticket.exists():
            raise SystemExit("the database already holds tickets: pass --reset")
        await organisation.ensure_organisation(settings)
        dept = await organisation.create_department(None, name="Support")
        admin = await models.Agent.create(
            email="admin@bench.local", first_name="A", last_name="Admin", role=Role.ADMINISTRATOR
        )
        _, admin_token = await auth.issue_token(agent_id=admin.id, kind=TokenKind.API, name="b")
        contact = await models.Contact.create(email="c@bench.local", first_name="C", last_name="C")
        actor = await auth.load_actor(admin.id)
        ticket = await tickets.create_ticket(
            actor, subject="Fan-out", department_id=dept.id, contact_id=contact.id
        )
        tokens: list[str] = []
        async with in_transaction():
            agents = [
                models.Agent(
                    email=f"follower{i}@bench.local", first_name="F", last_name=f"Agent{i}"
                )
                for i in range(subscribers)
            ]
            await models.Agent.bulk_create(agents)
            ids = (
                await models.Agent.filter(email__startswith="follower")
                .order_by("id")
                .values_list("id", flat=True)
            )
            await models.DepartmentMembership.bulk_create(
                [models.DepartmentMembership(agent_id=pk, department_id=dept.id) for pk in ids]
            )
            await models.Follow.bulk_create(
                [models.Follow(agent_id=pk, ticket_id=ticket.id) for pk in ids]
            )
            for pk in ids:
                _, token = await auth.issue_token(agent_id=pk, kind=TokenKind.API, name="b")
                tokens.append(token)
        return {
            "ticket": to_global_id("Ticket", ticket.id),
            "admin_token": admin_token,
            "tokens": tokens,
        }
    finally:
        await db.close_db()


# -- clients ---------------------------------------------------------------------------------


class Fleet:
    """N WebSocket clients recording when each message arrives."""

    def __init__(self) -> None:
        self.conns: list[Any] = []
        self.arrivals: list[list[tuple[float, str]]] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.new = asyncio.Event()

    async def _reader(self, index: int, ws: Any) -> None:
        try:
            async for message in ws:
                self.arrivals[index].append((time.perf_counter(), message))
                self.new.set()
        except websockets.ConnectionClosed:
            pass

    async def add(self, ws: Any) -> None:
        self.conns.append(ws)
        self.arrivals.append([])
        self.tasks.append(asyncio.create_task(self._reader(len(self.conns) - 1, ws)))

    def clear(self) -> None:
        for a in self.arrivals:
            a.clear()

    def received(self) -> int:
        return sum(1 for a in self.arrivals if a)

    async def wait_all(self, within: float) -> None:
        deadline = time.perf_counter() + within
        while time.perf_counter() < deadline:
            self.new.clear()
            if self.received() >= len(self.conns):
                return
            try:
                await asyncio.wait_for(self.new.wait(), 0.5)
            except TimeoutError:
                pass

    async def close(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*(ws.close() for ws in self.conns), return_exceptions=True)


async def graphql_client(url: str, token: str, query: str, variables: dict[str, Any]) -> Any:
    # A generous opening handshake: thousands of clients connecting to a busy server.
    ws = await websockets.connect(
        url,
        subprotocols=["graphql-transport-ws"],
        compression=None,
        max_size=2**22,
        open_timeout=120,
    )
    await ws.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
    ack = json.loads(await ws.recv())
    assert ack["type"] == "connection_ack", ack
    payload = {"query": query, "variables": variables}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    return ws


async def raw_client(url: str) -> Any:
    ws = await websockets.connect(url, compression=None, max_size=2**22)
    assert await ws.recv() == "ready"
    return ws


async def connect_all(fleet: Fleet, makers: list[Any], batch: int = 50) -> None:
    for start in range(0, len(makers), batch):
        for ws in await asyncio.gather(*(m() for m in makers[start : start + batch])):
            await fleet.add(ws)


def rss_mib(server: common.Server) -> float:
    assert server.proc is not None
    for line in Path(f"/proc/{server.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def run_events(
    fleet: Fleet,
    trigger: Any,
    events: int,
    within: float,
    servers: list[common.Server] | None = None,
) -> dict[str, Any]:
    """Fire `events` events one after another; per event, the last-delivery latency."""
    cpu_before = sum(s.cpu_seconds() or 0 for s in servers or [])
    started = time.perf_counter()
    last_after_response: list[float] = []
    rates: list[float] = []
    lost = 0
    for i in range(events):
        fleet.clear()
        sent = time.perf_counter()
        await trigger(i)
        answered = time.perf_counter()
        await fleet.wait_all(within)
        times = [a[0][0] for a in fleet.arrivals if a]
        lost += len(fleet.conns) - len(times)
        if times:
            last = max(times)
            last_after_response.append((last - answered) * 1000)
            rates.append(len(times) / max(last - sent, 1e-9))
        await asyncio.sleep(0.05)
    wall = time.perf_counter() - started
    cpu = sum(s.cpu_seconds() or 0 for s in servers or []) - cpu_before
    if os.environ.get("BENCH_SHOW_EVENTS"):
        print("  per event (ms):", " ".join(f"{v:.0f}" for v in last_after_response))
    return {
        "server_cpu_share": cpu / wall if servers else float("nan"),
        "cpu_ms_per_event": cpu * 1000 / events if servers else float("nan"),
        "median_ms": statistics.median(last_after_response) if last_after_response else 0.0,
        "p99_ms": pct(last_after_response, 0.99) if last_after_response else 0.0,
        "deliveries_per_s": statistics.median(rates) if rates else 0.0,
        "lost": lost,
    }


# -- the runs --------------------------------------------------------------------------------


def comment_trigger(http: httpx.AsyncClient, data: dict[str, Any]) -> Any:
    """An event: the administrator's `commentAdd` on the seeded ticket (asserted to succeed)."""
    headers = {"Authorization": f"Bearer {data['admin_token']}"}

    async def trigger(i: int) -> None:
        resp = await http.post(
            "/graphql",
            json={"query": COMMENT, "variables": {"id": data["ticket"], "body": f"event {i}"}},
            headers=headers,
        )
        body = resp.json()
        assert not body.get("errors") and not body["data"]["commentAdd"]["errors"], body

    return trigger


def server_env(database_url: str, var_dir: Path, broadcast_url: str) -> dict[str, str]:
    """The environment of a DeskQL server process of the benchmark."""
    return {
        "DESKQL_DATABASE_URL": database_url,
        "DESKQL_VAR_DIR": str(var_dir),
        "DESKQL_SMTP_ENABLED": "false",
        "DESKQL_AUTO_MIGRATE": "false",
        "DESKQL_BROADCAST_URL": broadcast_url,
    }


async def bench_deskql(
    urls: list[str],
    http_url: str,
    data: dict[str, Any],
    args: argparse.Namespace,
    servers: list[common.Server],
) -> tuple[dict[str, Any], str, Fleet]:
    fleet = Fleet()
    tokens = data["tokens"]
    query = SUBSCRIPTIONS[args.subscription]
    variables = {"id": data["ticket"]} if args.subscription == "ticketUpdates" else {}
    makers = [
        (lambda url=urls[i % len(urls)], t=t: graphql_client(url, t, query, variables))
        for i, t in enumerate(tokens)
    ]
    await connect_all(fleet, makers)
    http = httpx.AsyncClient(base_url=http_url, timeout=60)
    trigger = comment_trigger(http, data)

    # Warm-up: also proves every subscription is live before measuring.
    fleet.clear()
    await trigger(-1)
    await fleet.wait_all(60)
    if fleet.received() != len(fleet.conns):
        for server in servers:
            print(f"--- {server.name} log (tail) ---\n{server.log_path.read_text()[-2000:]}")
        raise SystemExit(f"warm-up reached {fleet.received()} of {len(fleet.conns)} subscribers")
    payload = fleet.arrivals[0][0][1]
    result = await run_events(fleet, trigger, args.events, args.timeout, servers)
    result["trigger"] = trigger
    result["http"] = http
    return result, payload, fleet


async def bench_raw(
    url: str, http_url: str, payload: str, args: argparse.Namespace, server: common.Server
) -> Any:
    fleet = Fleet()
    await connect_all(fleet, [lambda: raw_client(url)] * args.subscribers)
    async with httpx.AsyncClient(base_url=http_url, timeout=60) as http:

        async def trigger(i: int) -> None:
            await http.post("/publish", content=payload)

        await trigger(-1)
        await fleet.wait_all(30)
        result = await run_events(fleet, trigger, args.events, args.timeout, [server])
    await fleet.close()
    return result


def show(name: str, r: dict[str, Any]) -> None:
    print(
        f"  {name:<28} last delivery after response: median {r['median_ms']:8.1f} ms, "
        f"p99 {r['p99_ms']:8.1f} ms; {r['deliveries_per_s']:9.0f} deliveries/s; "
        f"lost {r['lost']}; server CPU {r['server_cpu_share'] * 100:.0f}% of wall time, "
        f"{r['cpu_ms_per_event']:.0f} ms per event"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--memory-events", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--reset", action="store_true")
    parser.add_argument("--redis", action="store_true", help="also two processes with Redis")
    parser.add_argument(
        "--profile", default="", help="sample the DeskQL server with py-spy into this file"
    )
    parser.add_argument(
        "--subscription",
        choices=sorted(SUBSCRIPTIONS),
        default="ticketUpdates",
        help="ticketUpdates (shared by every follower) or notificationCreated (per agent)",
    )
    args = parser.parse_args()
    # The measuring client holds 1,000 WebSockets: at Python's default GC threshold its own
    # full collections (up to 0.6 s) landed in the latencies of both sides. The DeskQL server
    # tunes itself the same way (Settings.gc_threshold); the raw reference is left as is.
    gc.set_threshold(50_000)

    tmp = Path(tempfile.mkdtemp(prefix="deskql-fanout-"))
    database_url = args.database_url or f"sqlite://{tmp / 'bench.sqlite3'}"
    print(f"seeding {args.subscribers} followers on {database_url.split('://')[0]} ...")
    data = await seed(database_url, tmp, args.subscribers, args.reset)
    env = server_env(database_url, tmp, "memory://")
    servers: list[common.Server] = []
    try:
        deskql = common.Server("deskql", "deskql.server:create_app", env, tmp)
        raw = common.Server("raw", "fanout:raw_app", {}, tmp, app_dir=BENCH)
        servers += [deskql, raw]
        deskql.start()
        raw.start()
        ws0 = f"ws://{common.HOST}:{deskql.port}/graphql"
        http0 = f"http://{common.HOST}:{deskql.port}"
        d, payload, fleet = await bench_deskql([ws0], http0, data, args, [deskql])
        r = await bench_raw(
            f"ws://{common.HOST}:{raw.port}/ws",
            f"http://{common.HOST}:{raw.port}",
            payload,
            args,
            raw,
        )
        print(f"\n{args.subscribers} subscribers, {args.events} events, one server process each")
        print(f"  payload: {len(payload)} bytes per delivery")
        show(f"DeskQL {args.subscription}", d)
        show("raw Starlette + broadcaster", r)
        print(
            f"  ratio DeskQL/raw: median {d['median_ms'] / max(r['median_ms'], 1e-9):.1f}x, "
            f"p99 {d['p99_ms'] / max(r['p99_ms'], 1e-9):.1f}x, deliveries/s "
            f"{r['deliveries_per_s'] / max(d['deliveries_per_s'], 1e-9):.1f}x fewer"
        )
        before = rss_mib(deskql)
        profiler = None
        if args.profile:
            py_spy = common.py_spy_available()
            if py_spy is None:
                raise SystemExit("--profile needs py-spy (pip install py-spy)")
            profiler = common.start_profile(py_spy, deskql.proc.pid, 15, Path(args.profile))
        # In quarters, so that steady memory (collected between passes) shows apart from
        # growth that goes on with the events.
        trajectory = [before]
        lost_mem = 0
        for quarter in range(4):
            n = args.memory_events // 4 + (1 if quarter < args.memory_events % 4 else 0)
            mem = await run_events(fleet, d["trigger"], n, args.timeout, [deskql])
            lost_mem += mem["lost"]
            trajectory.append(rss_mib(deskql))
        if profiler is not None:
            profiler.wait()
            shares, hot = common.summarise_profile(Path(args.profile))
            print("  profile of the DeskQL server (15 s of the memory run), hottest frames:")
            for line in hot:
                print(f"    {line}")
        after = rss_mib(deskql)
        print(
            f"  DeskQL server memory over {args.memory_events} more events: {before:.1f} MiB -> "
            f"{after:.1f} MiB (growth {after - before:+.1f} MiB); lost {lost_mem}"
        )
        steps = " -> ".join(f"{m:.1f}" for m in trajectory)
        print(f"  resident memory (MiB) after each quarter of them: {steps}")
        await d["http"].aclose()
        await fleet.close()
        deskql.stop()
        raw.stop()

        if args.redis:
            if not database_url.startswith("postgres"):
                print("\n--redis needs --database-url to PostgreSQL; skipped")
                return
            env2 = {**env, "DESKQL_BROADCAST_URL": "redis://127.0.0.1:6379"}
            a = common.Server("deskql-a", "deskql.server:create_app", env2, tmp)
            b = common.Server("deskql-b", "deskql.server:create_app", env2, tmp)
            rawr = common.Server(
                "raw-redis",
                "fanout:raw_app",
                {"BENCH_BROADCAST_URL": "redis://127.0.0.1:6379"},
                tmp,
                app_dir=BENCH,
            )
            servers += [a, b, rawr]
            for s in (a, b, rawr):
                s.start()
            urls = [f"ws://{common.HOST}:{s.port}/graphql" for s in (a, b)]
            d2, payload2, fleet2 = await bench_deskql(
                urls, f"http://{common.HOST}:{a.port}", data, args, [a, b]
            )
            r2 = await bench_raw(
                f"ws://{common.HOST}:{rawr.port}/ws",
                f"http://{common.HOST}:{rawr.port}",
                payload2,
                args,
                rawr,
            )
            print("\nRedis: DeskQL on two processes (subscribers split), raw on one")
            show("DeskQL x2 + Redis", d2)
            show("raw Starlette + Redis", r2)
            print(
                f"  ratio DeskQL/raw: median {d2['median_ms'] / max(r2['median_ms'], 1e-9):.1f}x,"
                f" p99 {d2['p99_ms'] / max(r2['p99_ms'], 1e-9):.1f}x"
            )
            await d2["http"].aclose()
            await fleet2.close()
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    common.run(main())
