"""Real servers for subscription tests: uvicorn in this process on a free port (sharing the
test database), and a small client speaking graphql-transport-ws or the legacy graphql-ws."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
import websockets
from starlette.applications import Starlette

from deskql.realtime.streams import actors
from deskql.server import create_app
from deskql.settings import Settings

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    """A running uvicorn with our app."""

    app: Starlette
    port: int

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def gql(self, token: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        async with httpx.AsyncClient(base_url=self.http_url, timeout=10) as client:
            resp = await client.post(
                "/graphql",
                json={"query": query, "variables": variables or {}},
                headers={"Authorization": f"Bearer {token}"},
            )
        body = resp.json()
        assert not body.get("errors"), body
        return body["data"]


@contextlib.asynccontextmanager
async def live_server(settings: Settings) -> AsyncIterator[LiveServer]:
    """uvicorn serving create_app(settings) in this event loop (the test owns the ORM)."""
    app = create_app(settings, manage_db=False)
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", ws_ping_interval=None
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    assert server.started, "uvicorn did not start"
    try:
        yield LiveServer(app, port)
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)


@pytest_asyncio.fixture
async def server(clean_db: Settings) -> AsyncIterator[LiveServer]:
    settings = Settings.from_env(
        var_dir=clean_db.var_dir,
        database_url=clean_db.database_url,
        password_time_cost=1,
        password_memory_kib=8192,
        smtp_enabled=False,
        broadcast_url="memory://",
    )
    async with live_server(settings) as live:
        yield live


@pytest.fixture(autouse=True)
def _no_actor_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    # Access is re-checked on every event; without the cache a revocation shows at once.
    monkeypatch.setattr(actors, "ACTOR_TTL", 0.0)


class WSClient:
    """One WebSocket speaking either subscription protocol, normalised to next/error/complete."""

    def __init__(self, ws: websockets.ClientConnection, protocol: str) -> None:
        self.ws = ws
        self.protocol = protocol
        self._ids = 0

    async def init(self, payload: dict[str, Any] | None) -> dict[str, Any]:
        message: dict[str, Any] = {"type": "connection_init"}
        if payload is not None:
            message["payload"] = payload
        await self.ws.send(json.dumps(message))
        return await self.raw()

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        self._ids += 1
        op_id = str(self._ids)
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        await self.ws.send(
            json.dumps(
                {
                    "id": op_id,
                    "type": kind,
                    "payload": {"query": query, "variables": variables or {}},
                }
            )
        )
        return op_id

    async def stop(self, op_id: str) -> None:
        kind = "complete" if self.protocol == TRANSPORT_WS else "stop"
        await self.ws.send(json.dumps({"id": op_id, "type": kind}))

    async def raw(self, wait: float = 10) -> dict[str, Any]:
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), wait))
            if message.get("type") != "ka":  # legacy keep-alive
                return message

    async def next(self, wait: float = 10, op: str | None = None) -> tuple[str, Any]:
        """("next", data) | ("error", errors) | ("complete", None), of operation `op` if given."""
        message = await self.raw(wait)
        while op is not None and message.get("id") != op:
            message = await self.raw(wait)
        kind = message["type"]
        if kind in ("next", "data"):
            payload = message["payload"]
            if payload.get("errors"):
                return "error", payload["errors"]
            return "next", payload["data"]
        if kind == "error":
            payload = message["payload"]
            return "error", payload if isinstance(payload, list) else [payload]
        if kind == "complete":
            return "complete", None
        raise AssertionError(f"unexpected message {message}")

    async def data(self, wait: float = 10) -> Any:
        kind, value = await self.next(wait)
        assert kind == "next", (kind, value)
        return value

    async def nothing_for(self, seconds: float) -> None:
        with pytest.raises(TimeoutError):
            message = await self.raw(seconds)
            raise AssertionError(f"expected nothing, got {message}")


@contextlib.asynccontextmanager
async def ws_client(
    live: LiveServer, token: str | None, protocol: str = TRANSPORT_WS, **kwargs: Any
) -> AsyncIterator[WSClient]:
    """A connected and acknowledged client (token in the connection_init payload)."""
    async with websockets.connect(live.ws_url, subprotocols=[protocol], **kwargs) as ws:
        client = WSClient(ws, protocol)
        ack = await client.init({"token": token} if token else {})
        assert ack["type"] == "connection_ack", ack
        yield client


async def wait_until(predicate: Any, within: float = 10) -> None:
    """Poll until predicate() is true."""
    for _ in range(int(within / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")
