"""One local subscriber of the hub: a bounded queue of envelopes, dropped when it is full."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from deskql.realtime import direct

log = logging.getLogger("deskql.hub")

DEFAULT_QUEUE_SIZE = 256
SLOW_CONSUMER_CODE = 4008
SLOW_CONSUMER_REASON = "slow consumer: too many undelivered events"


class SlowConsumer(Exception):
    """The subscriber did not keep up and was dropped."""


class LocalSubscription:
    """One subscriber's bounded queue of envelopes on one channel."""

    def __init__(self, channel: str, size: int) -> None:
        self.channel = channel
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=size)
        self.dropped = False
        self.on_drop: Callable[[], Any] | None = None
        # Set by the stream while it may be served without waking (realtime/direct.py).
        self.direct: direct.Route | None = None
        self._reader: asyncio.Task[Any] | None = None  # parked in `get`
        self._wakeup = asyncio.Event()

    @property
    def idle(self) -> bool:
        """Whether the reader is parked in `get` with nothing queued (so all it had to send
        is sent) and not being cancelled (an operation the client completed)."""
        reader = self._reader
        return (
            reader is not None
            and not reader.cancelling()
            and not self.dropped
            and self.queue.empty()
        )

    async def get(self) -> dict[str, Any]:
        """The next envelope; raises SlowConsumer once dropped."""
        while True:
            if self.dropped:
                raise SlowConsumer(SLOW_CONSUMER_REASON)
            if not self.queue.empty():
                return self.queue.get_nowait()
            self._wakeup.clear()
            self._reader = asyncio.current_task()
            try:
                await self._wakeup.wait()
            finally:
                self._reader = None

    def drain(self) -> list[dict[str, Any]]:
        """Envelopes already waiting, without blocking."""
        items: list[dict[str, Any]] = []
        while not self.queue.empty():
            items.append(self.queue.get_nowait())
        return items

    def offer(self, message: dict[str, Any]) -> bool:
        """Queue an envelope; False when the queue is full."""
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            return False
        self._wakeup.set()
        return True

    def drop(self) -> None:
        """Mark as dropped and wake the reader."""
        self.dropped = True
        self._wakeup.set()
        if self.on_drop is not None:
            try:
                self.on_drop()
            except Exception:  # noqa: BLE001 - a failing callback must not stop fan-out
                log.exception("on_drop callback failed")
