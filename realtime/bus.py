"""The process's connection to the broadcast backend (memory://, redis://), carrying JSON."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import orjson
from broadcaster import Broadcast


class Bus:
    """A thin wrapper around broadcaster: publishes JSON strings only (Redis needs strings)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.broadcast = Broadcast(url)
        self.connected = False

    async def connect(self) -> None:
        """Open the backend connection (a connected one stays as it is: two hubs of one
        process may share a memory:// bus, tests/security/test_auth_cache.py)."""
        if self.connected:
            return
        await self.broadcast.connect()
        self.connected = True

    def _listeners(self) -> list[asyncio.Task[Any]]:
        tasks = [
            getattr(self.broadcast, "_listener_task", None),
            getattr(self.broadcast._backend, "_listener", None),
        ]
        return [t for t in tasks if isinstance(t, asyncio.Task)]

    async def disconnect(self) -> None:
        """Close the backend connection (also after the backend died under us, or after a
        connect that failed half-way) and end its listener tasks."""
        listeners = self._listeners()
        if self.connected:
            self.connected = False
            try:
                await self.broadcast.disconnect()
            except Exception:  # noqa: BLE001 - a dead listener re-raises its error here
                # Broadcast.disconnect stops at the dead listener's error: close the backend.
                with contextlib.suppress(Exception):
                    await self.broadcast._backend.disconnect()
        else:
            # A failed connect (Redis down while reconnecting) leaves the backend's listener
            # task started and waiting forever: it was destroyed pending with this Bus, once
            # per failed attempt ("Task was destroyed but it is pending!").
            with contextlib.suppress(Exception):
                await self.broadcast._backend.disconnect()
        pending = [t for t in listeners if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=2.0)
        for task in listeners:
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: never "exception was never retrieved"

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Publish a JSON-serialisable message on a channel."""
        await self.broadcast.publish(channel=channel, message=orjson.dumps(message).decode())

    async def publish_many(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        """Publish messages in order; on Redis in one pipelined round trip (one message per
        follower of a busy ticket must not cost one round trip each)."""
        conn = getattr(self.broadcast._backend, "_conn", None)
        pipeline = getattr(conn, "pipeline", None)
        if pipeline is None or not self.url.startswith(("redis://", "rediss://")):
            for channel, message in events:
                await self.publish(channel, message)
            return
        async with pipeline(transaction=False) as pipe:
            for channel, message in events:
                pipe.publish(channel, orjson.dumps(message).decode())
            await pipe.execute()
