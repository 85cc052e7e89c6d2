"""Fixtures of the webhook tests: a real HTTP/1.1 receiver on a free port of 127.0.0.1 in the
test's event loop that records what it gets and answers as told (a status, a huge body, a
redirect, no answer at all); settings that allow loopback targets and retry fast."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace

import pytest
import pytest_asyncio

from deskql import models
from deskql.models.enums import Role
from deskql.services.auth import Actor
from deskql.settings import Settings


@dataclass
class Request:
    """One request the receiver got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Answer:
    """How to answer: a status and body, or `hang` (never answer), or a body of `size` bytes."""

    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False
    size: int = 0


@dataclass
class Receiver:
    """An HTTP server that records requests; `answers` are used in order, then `default`."""

    host: str = "127.0.0.1"
    port: int = 0
    requests: list[Request] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    default: Answer = field(default_factory=Answer)
    server: asyncio.AbstractServer | None = None
    sent_bytes: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/hook"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                method, path, _ = line.decode().split(" ", 2)
                headers: dict[str, str] = {}
                while (h := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    k, _, v = h.decode().partition(":")
                    headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append(Request(method, path, headers, body, time.monotonic()))
                self.arrived.set()
                answer = self.answers.pop(0) if self.answers else self.default
                if answer.hang:
                    await asyncio.sleep(3600)
                size = answer.size or len(answer.body)
                head = f"HTTP/1.1 {answer.status} X\r\nContent-Length: {size}\r\n"
                head += "".join(f"{k}: {v}\r\n" for k, v in answer.headers.items())
                writer.write(head.encode() + b"\r\n")
                if not answer.size:
                    writer.write(answer.body)
                # A big body goes out in chunks (never whole in memory: tests measure memory).
                chunk = b"x" * 65536
                for start in range(0, answer.size, len(chunk)):
                    part = chunk[: min(len(chunk), answer.size - start)]
                    writer.write(part)
                    await writer.drain()
                    self.sent_bytes += len(part)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            writer.close()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None

    async def wait_for(self, count: int, within: float = 10.0) -> None:
        deadline = time.monotonic() + within
        while len(self.requests) < count:
            self.arrived.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"got {len(self.requests)} requests, expected {count}")
            try:
                await asyncio.wait_for(self.arrived.wait(), left)
            except TimeoutError:
                pass


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rx = Receiver()
    await rx.start()
    yield rx
    await rx.stop()


@pytest.fixture
def hook_settings(clean_db: Settings) -> Settings:
    """Loopback targets allowed (as the tests need), short timeouts and backoff."""
    return replace(
        clean_db,
        webhook_allow_private=True,
        webhook_timeout_ms=2000,
        webhook_backoff_ms=20,
        webhook_max_attempts=4,
        webhook_disable_after=3,
    )


def actor_of(agent: models.Agent, depts: list[int] | None = None) -> Actor:
    return Actor(agent_id=agent.id, role=agent.role, department_ids=frozenset(depts or []))


@pytest_asyncio.fixture
async def admin(clean_db: Settings) -> models.Agent:
    from deskql.services import organisation

    return await organisation.create_agent(
        None, email="root@zylker.com", last_name="Root", role=Role.ADMINISTRATOR
    )
