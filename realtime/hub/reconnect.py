"""The hub's watch over the broadcast backend: a heartbeat on a private channel and the
transport's own listener tasks; after a failure, reconnection with exponential backoff, every
channel subscribed again and every subscriber told to RESYNC."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from deskql.realtime import envelopes
from deskql.realtime.bus import Bus
from deskql.realtime.hub.base import HubBase

log = logging.getLogger("deskql.hub")


class Reconnect(HubBase):
    """Part of Hub (realtime/hub/core.py): connecting, watching and reconnecting."""

    @property
    def connected(self) -> bool:
        """Whether the backend is connected and subscribed right now."""
        return self._connected.is_set()

    async def _heartbeat_listener(self, bus: Bus, ready: asyncio.Event) -> None:
        try:
            async with bus.broadcast.subscribe(self._heartbeat_channel) as subscriber:
                ready.set()
                async for _event in subscriber:  # type: ignore[union-attr]
                    self._last_beat = time.monotonic()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001
            self._bus_failed(bus)

    def _bus_failed(self, bus: Bus) -> None:
        # A pump of a bus the hub has already replaced (it ended late, e.g. unsubscribing
        # from a dead connection) says nothing about the current one.
        if bus is self.bus:
            self._failed.set()

    def _transport_dead(self) -> bool:
        # broadcaster's listener tasks end silently when the backend connection dies (#144).
        broadcast = self.bus.broadcast
        tasks = [
            getattr(broadcast, "_listener_task", None),
            getattr(getattr(broadcast, "_backend", None), "_listener", None),
        ]
        return any(task is not None and task.done() for task in tasks)

    async def _supervise(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._failed.wait(), self.heartbeat_interval)
            if self._stopping:
                return
            failed = self._failed.is_set() or self._transport_dead()
            if not failed:
                try:
                    await asyncio.wait_for(
                        self.bus.publish(self._heartbeat_channel, {"type": "heartbeat"}),
                        self.heartbeat_interval,
                    )
                except Exception:  # noqa: BLE001
                    failed = True
                silent = time.monotonic() - self._last_beat
                if silent > 3 * self.heartbeat_interval + 0.5:
                    failed = True
            if failed:
                log.warning("broadcast backend %s failed; reconnecting", self.url)
                self._connected.clear()
                await self._stop_pumps()
                await self._disconnect_bus()
                await self._connect_with_backoff(first=False)

    async def _connect_with_backoff(self, *, first: bool) -> None:
        delay = self.backoff_initial
        while not self._stopping:
            bus = self.bus if first else Bus(self.url)
            try:
                await asyncio.wait_for(bus.connect(), 5.0)
                self.bus = bus
                await self._start_all()
                break
            except Exception as exc:  # noqa: BLE001
                if first:
                    raise
                log.warning("reconnecting to %s failed (%s); retry in %.1fs", self.url, exc, delay)
                self.bus = bus
                await self._stop_pumps()
                await self._disconnect_bus()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff_max)
        if not first:
            self.reconnects += 1
            for callback in list(self._reconnected):
                try:
                    callback()
                except Exception:  # noqa: BLE001 - the subscribers must still be told
                    log.exception("a reconnect callback failed")
            # Anything published while we were away is lost on the transport: tell every
            # subscriber to catch up from the tables.
            for subs in list(self._locals.values()):
                for sub in list(subs):
                    if not sub.offer({"type": envelopes.RESYNC}):
                        self._release(sub)
                        sub.drop()

    async def _start_all(self) -> None:
        self._failed.clear()
        beat_ready = asyncio.Event()
        self._heartbeat_pump = asyncio.create_task(self._heartbeat_listener(self.bus, beat_ready))
        for channel in list(self._locals):
            self._start_pump(channel)
        internal_ready = []
        for channel in list(self._internal):
            ready = asyncio.Event()
            internal_ready.append(ready.wait())
            self._internal_pumps[channel] = asyncio.create_task(
                self._listen_pump(self.bus, channel, ready)
            )
        waits = [beat_ready.wait(), *internal_ready]
        waits += [event.wait() for event in self._ready.values()]
        await asyncio.wait_for(asyncio.gather(*waits), 5.0)
        if self._failed.is_set():
            raise ConnectionError("subscribing on the backend failed")
        self._last_beat = time.monotonic()
        self._connected.set()

    async def _stop_pumps(self) -> None:
        tasks = list(self._pumps.values()) + list(self._internal_pumps.values())
        self._internal_pumps.clear()
        if self._heartbeat_pump is not None:
            tasks.append(self._heartbeat_pump)
            self._heartbeat_pump = None
        self._pumps.clear()
        self._ready.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(task, 2.0)

    async def _disconnect_bus(self) -> None:
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(self.bus.disconnect(), 2.0)
