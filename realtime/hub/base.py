"""The Hub's state, set up once for all its parts (channels, internal channels, reconnect)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from deskql.realtime.bus import Bus
from deskql.realtime.hub.subscription import DEFAULT_QUEUE_SIZE, LocalSubscription

Prepare = Callable[[dict[str, Any]], Awaitable[Any]]


class HubBase:
    """What every part of the Hub reads and writes; the parts are mixins on top of it."""

    def __init__(
        self,
        url: str = "memory://",
        *,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        heartbeat_interval: float = 1.0,
        backoff_initial: float = 0.1,
        backoff_max: float = 5.0,
        bus: Bus | None = None,
    ) -> None:
        self.url = url
        self.queue_size = queue_size
        self.heartbeat_interval = heartbeat_interval
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.bus = bus or Bus(url)
        self.reconnects = 0
        self.dropped = 0
        self.delivered = 0
        self._locals: dict[str, set[LocalSubscription]] = {}
        self._pumps: dict[str, asyncio.Task[None]] = {}
        self._ready: dict[str, asyncio.Event] = {}
        self._prepare: dict[str, Prepare] = {}
        # Internal channels (`listen`): one callback each, pumps apart from the subscriptions'.
        self._internal: dict[str, Callable[[dict[str, Any]], None]] = {}
        self._internal_pumps: dict[str, asyncio.Task[None]] = {}
        self._reconnected: list[Callable[[], None]] = []
        self._heartbeat_channel = f"deskql.hub.{uuid.uuid4().hex}"
        self._last_beat = 0.0
        self._failed = asyncio.Event()
        self._connected = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._heartbeat_pump: asyncio.Task[None] | None = None
        self._stopping = False

    if TYPE_CHECKING:  # what one part calls of another (realtime/hub/core.py joins them)

        @property
        def connected(self) -> bool: ...

        def _bus_failed(self, bus: Bus) -> None: ...

        def _start_pump(self, channel: str) -> None: ...

        def _release(self, sub: LocalSubscription) -> None: ...

        async def _listen_pump(self, bus: Bus, channel: str, ready: asyncio.Event) -> None: ...
