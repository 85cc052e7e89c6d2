"""The hub's channels: local subscribers sharing one backend subscription per channel, the
pump that fans each message out to them (prepared once when the channel asks), publishing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from deskql.realtime import direct, envelopes
from deskql.realtime.bus import Bus
from deskql.realtime.hub.base import HubBase, Prepare
from deskql.realtime.hub.subscription import LocalSubscription

log = logging.getLogger("deskql.hub")

# Key under which a prepared message carries what its channel's `prepare` returned.
PREPARED = "_prepared"
# Seconds a message waits for its `prepare` at most. The channel's pump reads nothing else
# meanwhile, so while the database stalls the backend's (unbounded) queue for the channel
# would fill; past this the message goes out bare, into the bounded per-subscriber queues.
PREPARE_TIMEOUT = 2.0


class Channels(HubBase):
    """Part of Hub (realtime/hub/core.py): subscribing, publishing and fan-out."""

    # -- counts for tests and metrics ----------------------------------------------------

    def count(self, channel: str | None = None) -> int:
        """Local subscribers on a channel (all channels when None)."""
        if channel is not None:
            return len(self._locals.get(channel, ()))
        return sum(len(subs) for subs in self._locals.values())

    def backend_channels(self) -> set[str]:
        """Channels this process holds a backend subscription for (heartbeat excluded)."""
        return set(self._pumps)

    # -- subscribing and publishing ------------------------------------------------------

    @asynccontextmanager
    async def subscribe(
        self, channel: str, prepare: Prepare | None = None
    ) -> AsyncIterator[LocalSubscription]:
        """A bounded local subscription; the backend one is shared and reference-counted.

        With `prepare`, each message of the channel is handed to it once, before any local
        subscriber sees the message, and its result rides along under PREPARED (the same
        object for every subscriber: read-only). A failed prepare leaves PREPARED out. The
        channel's first subscriber decides the channel's `prepare`.
        """
        sub = LocalSubscription(channel, self.queue_size)
        self._locals.setdefault(channel, set()).add(sub)
        if prepare is not None:
            self._prepare.setdefault(channel, prepare)
        try:
            if channel not in self._pumps and self.connected:
                self._start_pump(channel)
            ready = self._ready.get(channel)
            if ready is not None:
                # Subscribed on the backend before the caller reads its backlog: no gap.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(ready.wait(), 5.0)
            yield sub
        finally:
            self._release(sub)

    def _release(self, sub: LocalSubscription) -> None:
        subs = self._locals.get(sub.channel)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._locals[sub.channel]
                self._prepare.pop(sub.channel, None)
                pump = self._pumps.pop(sub.channel, None)
                self._ready.pop(sub.channel, None)
                if pump is not None:
                    pump.cancel()

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Publish one envelope; a backend error marks the hub for reconnection and re-raises."""
        try:
            await self.bus.publish(channel, message)
        except Exception:
            self._failed.set()
            raise

    async def publish_many(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        """Publish envelopes in order (the unit of work's publisher)."""
        try:
            await self.bus.publish_many(events)
        except Exception:
            self._failed.set()
            raise

    # -- fan-out -------------------------------------------------------------------------

    def _fanout(self, channel: str, message: dict[str, Any]) -> None:
        for sub in list(self._locals.get(channel, ())):
            self._offer(sub, message)

    def _offer(self, sub: LocalSubscription, message: dict[str, Any]) -> None:
        """Queue a message for one subscriber; drop the subscriber when its queue is full."""
        if sub.offer(message):
            self.delivered += 1
            return
        self.dropped += 1
        log.warning("dropping a slow subscriber of %s", sub.channel)
        self._release(sub)
        sub.drop()

    async def _prepared(self, prepare: Prepare, message: dict[str, Any]) -> dict[str, Any]:
        try:
            prepared = await asyncio.wait_for(prepare(message), PREPARE_TIMEOUT)
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            log.warning("preparing a message took over %.1fs; sent unprepared", PREPARE_TIMEOUT)
            return message
        except Exception:  # noqa: BLE001 - the subscribers read for themselves instead
            log.warning("preparing a message failed", exc_info=True)
            return message
        return {**message, PREPARED: prepared}

    def _start_pump(self, channel: str) -> None:
        ready = asyncio.Event()
        self._ready[channel] = ready
        self._pumps[channel] = asyncio.create_task(self._pump(self.bus, channel, ready))

    async def _pump(self, bus: Bus, channel: str, ready: asyncio.Event) -> None:
        try:
            async with bus.broadcast.subscribe(channel) as subscriber:
                ready.set()
                async for event in subscriber:  # type: ignore[union-attr]
                    message = envelopes.decode(event.message)
                    if message is not None:
                        arrived = time.monotonic()
                        prepare = self._prepare.get(channel)
                        if prepare is not None:
                            message = await self._prepared(prepare, message)
                        if PREPARED in message:
                            # Idle subscribers with a direct route get it without waking.
                            subs = list(self._locals.get(channel, ()))
                            await direct.deliver(subs, message, self._offer, arrived)
                        else:
                            self._fanout(channel, message)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001
            log.warning("backend subscription to %s failed", channel)
            self._bus_failed(bus)
