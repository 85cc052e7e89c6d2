"""The scale-out stack: Redis stopped and started under connected subscribers, and two uvicorn
processes sharing PostgreSQL and Redis (a mutation on one reaches a subscriber on the other)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from deskql import models
from deskql.realtime import topics
from deskql.services import auth, follows, tickets
from deskql.settings import Settings
from tests.conftest import World, gid
from tests.realtime.conftest import LiveServer, free_port, live_server, wait_until, ws_client

ROOT = Path(__file__).resolve().parents[2]
NOTIFICATIONS = """subscription { notificationCreated {
  cursor unreadCount notification { id activity { kind changes } } } }"""
COMMENT = """mutation($id: ID!, $body: String!) {
  commentAdd(input: {ticketId: $id, body: $body}) { errors { code } } }"""


def _reachable(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


class RedisProcess:
    """A redis-server of our own on a free port, which a test may stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="deskql-redis-")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):
            if _reachable("127.0.0.1", self.port):
                return
            import time

            time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def own_redis() -> Iterator[RedisProcess]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    redis = RedisProcess()
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()
        shutil.rmtree(redis.dir, ignore_errors=True)


@pytest_asyncio.fixture
async def redis_server(clean_db: Settings, own_redis: RedisProcess) -> AsyncIterator[LiveServer]:
    settings = Settings.from_env(
        var_dir=clean_db.var_dir,
        database_url=clean_db.database_url,
        password_time_cost=1,
        password_memory_kib=8192,
        smtp_enabled=False,
        broadcast_url=f"redis://127.0.0.1:{own_redis.port}",
    )
    async with live_server(settings) as live:
        hub = live.app.state.hub
        hub.heartbeat_interval = 0.2
        hub.backoff_max = 0.5
        yield live


async def _comment(world: World, ticket: models.Ticket, body: str) -> None:
    await tickets.add_comment(await auth.load_actor(world.admin.id), ticket_id=ticket.id, body=body)


async def test_redis_restart_resumes_delivery_and_serves_what_was_missed(
    redis_server: LiveServer, own_redis: RedisProcess, world: World
) -> None:
    hub = redis_server.app.state.hub
    ticket = await tickets.create_ticket(
        await auth.load_actor(world.admin.id),
        subject="Printer on fire",
        department_id=world.support.id,
        contact_id=world.contact.id,
    )
    await follows.follow_ticket(await auth.load_actor(world.alice.id), ticket_id=ticket.id)
    async with ws_client(redis_server, world.alice_token) as client:
        await client.subscribe(NOTIFICATIONS)
        await wait_until(lambda: hub.count() == 1)
        await _comment(world, ticket, "before")
        event = (await client.data())["notificationCreated"]
        assert event["notification"]["activity"]["kind"] == "ticket.comment_added"

        own_redis.stop()
        await wait_until(lambda: not hub.connected, within=10)
        # Changes keep working while Redis is down; their notifications are in the table.
        await _comment(world, ticket, "while down 1")
        await _comment(world, ticket, "while down 2")
        assert await models.Notification.filter(agent_id=world.alice.id).count() == 3

        own_redis.start()
        await wait_until(lambda: hub.connected and hub.reconnects >= 1, within=20)
        assert hub.count() == 1 and topics.agent(world.alice.id) in hub.backend_channels()
        missed = [(await client.data())["notificationCreated"] for _ in range(2)]
        assert [m["unreadCount"] for m in missed] == [3, 3]
        await _comment(world, ticket, "after")
        live = (await client.data())["notificationCreated"]
        ids = [event["notification"]["id"]] + [m["notification"]["id"] for m in missed]
        ids.append(live["notification"]["id"])
        expected = await models.Notification.filter(agent_id=world.alice.id).order_by("id")
        assert ids == [gid("Notification", n.id) for n in expected]
        await client.nothing_for(0.5)


# -- two server processes -----------------------------------------------------------------


def _scale_out_or_skip(settings: Settings) -> None:
    if not settings.db_url.startswith("postgres"):
        pytest.skip("two-process test needs PostgreSQL: set DESKQL_DATABASE_URL=postgres://...")
    if not _reachable("127.0.0.1", 6379):
        pytest.skip("two-process test needs Redis on 127.0.0.1:6379")


@contextlib.contextmanager
def _uvicorn(settings: Settings, port: int, var_dir: str) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DESKQL_DATABASE_URL": settings.database_url,
        "DESKQL_BROADCAST_URL": "redis://127.0.0.1:6379",
        "DESKQL_SMTP_ENABLED": "false",
        "DESKQL_AUTO_MIGRATE": "false",
        "DESKQL_VAR_DIR": var_dir,
        "DESKQL_PASSWORD_TIME_COST": "1",
        "DESKQL_PASSWORD_MEMORY_KIB": "8192",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "deskql.server:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


async def _wait_healthy(port: int) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise AssertionError(f"server on port {port} did not become healthy")


async def test_a_mutation_on_one_process_reaches_a_subscriber_on_the_other(
    clean_db: Settings, world: World
) -> None:
    _scale_out_or_skip(clean_db)
    ticket = await tickets.create_ticket(
        await auth.load_actor(world.admin.id),
        subject="Printer on fire",
        department_id=world.support.id,
        contact_id=world.contact.id,
    )
    await follows.follow_ticket(await auth.load_actor(world.alice.id), ticket_id=ticket.id)
    var_dir = tempfile.mkdtemp(prefix="deskql-2proc-")
    port_a, port_b = free_port(), free_port()
    with _uvicorn(clean_db, port_a, var_dir), _uvicorn(clean_db, port_b, var_dir):
        await asyncio.gather(_wait_healthy(port_a), _wait_healthy(port_b))
        a = LiveServer(app=None, port=port_a)  # type: ignore[arg-type]
        b = LiveServer(app=None, port=port_b)  # type: ignore[arg-type]
        async with ws_client(a, world.alice_token) as client:
            await client.subscribe(NOTIFICATIONS)
            op = await client.subscribe(
                "subscription($id: ID!) { ticketUpdates(ticketId: $id) { kind ticket { id } } }",
                {"id": gid("Ticket", ticket.id)},
            )
            await asyncio.sleep(0.5)  # the subscriptions reach Redis (no hub to poll here)
            result = await b.gql(
                world.admin_token, COMMENT, {"id": gid("Ticket", ticket.id), "body": "from B"}
            )
            assert result["commentAdd"]["errors"] == []
            got = {}
            for _ in range(2):
                message = await client.raw()
                got[message["id"]] = message["payload"]["data"]
            assert got[op]["ticketUpdates"]["kind"] == "ticket.comment_added"
            other = next(v for k, v in got.items() if k != op)
            assert other["notificationCreated"]["notification"]["activity"]["kind"] == (
                "ticket.comment_added"
            )
    shutil.rmtree(var_dir, ignore_errors=True)


async def test_no_listener_task_leaks_across_reconnects(
    redis_server: LiveServer, own_redis: RedisProcess, world: World
) -> None:
    """Issue 17, point 6: each failed reconnect attempt used to leave broadcaster's Redis
    listener task pending forever, destroyed with its Bus ("Task was destroyed but it is
    pending!", once per attempt)."""
    import gc

    hub = redis_server.app.state.hub
    loop = asyncio.get_running_loop()
    reported: list[str] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, ctx: reported.append(str(ctx.get("message"))))

    def listeners() -> list[asyncio.Task[object]]:
        names = {"_pubsub_listener", "_listener"}
        return [t for t in asyncio.all_tasks() if t.get_coro().__name__ in names]  # type: ignore[union-attr]

    try:
        own_redis.stop()
        await wait_until(lambda: not hub.connected, within=10)
        await asyncio.sleep(2.0)  # several failed attempts (backoff at most 0.5 s)
        own_redis.start()
        await wait_until(lambda: hub.connected and hub.reconnects >= 1, within=20)
        gc.collect()
        await asyncio.sleep(0.1)
        gc.collect()
        assert [m for m in reported if "destroyed but it is pending" in m] == []
        # One listener of each kind: the live Bus's.
        assert sorted(t.get_coro().__name__ for t in listeners()) == [  # type: ignore[union-attr]
            "_listener",
            "_pubsub_listener",
        ]
    finally:
        loop.set_exception_handler(previous)
