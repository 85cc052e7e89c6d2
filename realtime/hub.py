"""The per-process hub between broadcaster and the subscriptions of this process.

broadcaster 0.3.1 is treated as a thin transport (STACK_NOTES): its queues are unbounded, two
first subscribers to a channel at once can lose messages, and a Redis restart kills its listener
without a word. So the hub:

- holds ONE backend subscription per channel per process, however many local subscribers it
  has, reference-counted: the backend subscription is released when the last one leaves;
- fans each message out to bounded per-subscriber queues; a subscriber whose queue is full is
  dropped (its `on_drop` callback closes the WebSocket with 4008 "slow consumer") instead of
  letting memory grow;
- can prepare each message of a channel once for all its local subscribers (`prepare`, e.g.
  read the rows it names), before they wake, so a thousand subscribers do not each wait for
  the same read; a prepare that takes over PREPARE_TIMEOUT is given up (the message goes out
  bare), so a stalled database cannot pile messages up in the backend's unbounded queue; a
  prepared message goes through realtime/direct.py, which serves the idle subscribers it can
  without waking them and queues it for the others;
- watches the backend with a heartbeat on a private channel and the transport's own listener
  tasks, and after a failure reconnects with exponential backoff, re-subscribes every channel
  and tells each subscriber to RESYNC (re-read the tables for what it may have missed);
- carries the process's own internal channels (`listen`, e.g. the token cache's
  invalidations): a callback per channel, held for the hub's whole life, never counted as a
  subscription; `on_reconnect` callbacks learn that messages may have been missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from deskql.realtime import direct, envelopes
from deskql.realtime.bus import Bus

log = logging.getLogger("deskql.hub")

DEFAULT_QUEUE_SIZE = 256
# Key under which a prepared message carries what its channel's `prepare` returned.
PREPARED = "_prepared"
# Seconds a message waits for its `prepare` at most. The channel's pump reads nothing else
# meanwhile, so while the database stalls the backend's (unbounded) queue for the channel
# would fill; past this the message goes out bare, into the bounded per-subscriber queues.
PREPARE_TIMEOUT = 2.0

Prepare = Callable[[dict[str, Any]], Awaitable[Any]]
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


class Hub:
    """One per process: the only place that talks to the broadcast backend."""

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

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Connect the backend and start watching it."""
        self._stopping = False
        await self._connect_with_backoff(first=True)
        self._supervisor = asyncio.create_task(self._supervise())

    async def stop(self) -> None:
        """Release every backend subscription and disconnect."""
        self._stopping = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._supervisor
        await self._stop_pumps()
        for subs in list(self._locals.values()):
            for sub in list(subs):
                sub.drop()
        self._locals.clear()
        self._prepare.clear()
        self._internal.clear()
        self._reconnected.clear()
        await self._disconnect_bus()

    @property
    def connected(self) -> bool:
        """Whether the backend is connected and subscribed right now."""
        return self._connected.is_set()

    # -- counts for tests and metrics ----------------------------------------------------

    def count(self, channel: str | None = None) -> int:
        """Local subscribers on a channel (all channels when None)."""
        if channel is not None:
            return len(self._locals.get(channel, ()))
        return sum(len(subs) for subs in self._locals.values())

    def backend_channels(self) -> set[str]:
        """Channels this process holds a backend subscription for (heartbeat excluded)."""
        return set(self._pumps)

    # -- internal channels -----------------------------------------------------------------

    async def listen(self, channel: str, callback: Callable[[dict[str, Any]], None]) -> None:
        """Hand every message of an internal channel to `callback` (synchronous, quick) until
        the hub stops; kept across reconnections, not a subscription (not counted)."""
        self._internal[channel] = callback
        if self.connected and channel not in self._internal_pumps:
            ready = asyncio.Event()
            self._internal_pumps[channel] = asyncio.create_task(
                self._listen_pump(self.bus, channel, ready)
            )
            await asyncio.wait_for(ready.wait(), 5.0)

    def on_reconnect(self, callback: Callable[[], None]) -> None:
        """Call `callback` each time the hub is connected again after a failure (whatever was
        published meanwhile was lost), before the subscribers are told to RESYNC."""
        self._reconnected.append(callback)

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

    # -- internals -----------------------------------------------------------------------

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

    async def _listen_pump(self, bus: Bus, channel: str, ready: asyncio.Event) -> None:
        try:
            async with bus.broadcast.subscribe(channel) as subscriber:
                ready.set()
                async for event in subscriber:  # type: ignore[union-attr]
                    message = envelopes.decode(event.message)
                    callback = self._internal.get(channel)
                    if message is None or callback is None:
                        continue
                    try:
                        callback(message)
                    except Exception:  # noqa: BLE001 - one bad message must not stop the channel
                        log.exception("the listener of %s failed", channel)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001
            log.warning("backend subscription to %s failed", channel)
            self._bus_failed(bus)

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
