"""The process's connection to the broadcast backend (memory://, redis://), carrying JSON."""

from __future__ import annotations

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
        """Open the backend connection."""
        await self.broadcast.connect()
        self.connected = True

    async def disconnect(self) -> None:
        """Close the backend connection."""
        if self.connected:
            await self.broadcast.disconnect()
            self.connected = False

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Publish a JSON-serialisable message on a channel."""
        await self.broadcast.publish(channel=channel, message=orjson.dumps(message).decode())
