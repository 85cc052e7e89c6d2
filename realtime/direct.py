"""Deliver a shared subscription event to idle subscribers without waking them.

With shared execution (realtime/shared.py) and pre-encoded sends (realtime/sink.py) an event
still woke every subscriber of the process: its queue, its stream generator re-checking
access, the shared-result wait, Starlette's and uvicorn's send, each a task switch and a few
awaits, about 130 µs a subscriber. Most subscribers of a busy ticket are idle when its event
arrives: parked in `LocalSubscription.get` with nothing queued, so everything sent before has
been written. For those, the hub's pump (realtime/hub/channels.py) calls the subscription's
`Route` synchronously instead of queueing the message. The route does what the woken subscriber
would do and nothing else:

1. the stream's checks (realtime/streams/tickets.py): the prepared rows are for its ticket
   and not delivered yet, its actor is fresh in the actor cache, i.e. read at most ACTOR_TTL before
   the event arrived (`Stale` otherwise: the pump re-reads every such token in one query, as
   the woken subscribers' batched reads would, and tries again; an actor re-read for the
   event stays good for that event, however long delivering it to thousands takes) and may
   see the ticket (ORG-5, DESIGN rule 2);
2. the group result (`sender`): the subscriber's group key, as `sink.fan_out` computes it;
   if no one has executed the event for that group yet, `Pending`: the pump queues the
   message for ONE member, who executes it the normal way, waits for that result, and tries
   the others again;
3. the frame: the bytes `Sink.send` would send (operation id, message type, the result's
   JSON), made once per distinct (operation head, payload) and written straight to uvicorn's
   transport (`Sink.write_now`) only while uvicorn's connection is as that module expects
   (open, writable, not compressed, between messages).

Any other answer (`False`) queues the message as before, and the subscriber wakes and does
the same work the normal way: a refused token or lost access ends its stream with the error,
a deleted ticket, a failed execution, a personal event, a compressed or paused connection,
another server than uvicorn. So every subscriber receives exactly the frames it would have
received, in the same order; only the task switches are gone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from deskql.realtime.shared import EncodedData, _Entry, group_prefix, key_of, results
from deskql.realtime.sink import SINK

if TYPE_CHECKING:
    from deskql.realtime.hub import LocalSubscription
    from deskql.services.auth import Actor

log = logging.getLogger("deskql.direct")

# Seconds the pump waits for a group's execution (by the member it queued the event for)
# before queueing the event for the group's other members too.
RESULT_WAIT = 2.0
# Seconds the pump waits for the re-read of stale tokens before queueing their events.
RELOAD_WAIT = 2.0


class Pending(NamedTuple):
    """No result for the subscriber's group yet: wait for the one under `key`."""

    key: Hashable


class Stale(NamedTuple):
    """The subscriber's access must be re-read first: `reload([token])` does it."""

    token: str
    reload: Callable[[list[str]], Awaitable[None]]


# True: written; False: queue it (the subscriber does it the normal way).
Outcome = bool | Pending | Stale
# One frame per (operation head, payload) for the event being delivered.
Frames = dict[tuple[bytes, bytes], bytes]
# Installed by a stream on its LocalSubscription: deliver this message now, if it can; the
# float is when the event arrived (time.monotonic()), what the actor's freshness is judged by.
Route = Callable[[dict[str, Any], Frames, float], Outcome]
# What a resolver hands its stream: deliver the group's result of `event` for `actor`.
Send = Callable[["Actor", Hashable, Frames], Outcome]
Offer = Callable[["LocalSubscription", dict[str, Any]], None]


@dataclass
class Stats:
    """Counts for tests and metrics."""

    written: int = 0
    queued: int = 0
    # Groups whose result never came (nobody executed the event for them in RESULT_WAIT).
    unanswered: int = 0


stats = Stats()


async def deliver(
    subs: list[LocalSubscription],
    message: dict[str, Any],
    offer: Offer,
    since: float | None = None,
) -> None:
    """Deliver a prepared message to every subscriber: written at once where a route can,
    queued (`offer`) for the others. `since`: when the event arrived (time.monotonic(),
    before its rows were read; now if not given)."""
    at = Attempt(message, {}, offer, time.monotonic() if since is None else since)
    started = time.perf_counter()
    pending: dict[Hashable, list[LocalSubscription]] = {}
    stale: list[tuple[LocalSubscription, Stale]] = []
    for sub in subs:
        _attempt(sub, at, pending, stale)
    checked = time.perf_counter()
    if stale:
        reloaded = await _reload(stale)
        for sub, _ in stale:
            if reloaded:
                _attempt(sub, at, pending, None)
            else:
                _queue(sub, at)
    reread = time.perf_counter()
    if pending:
        await _after_execution(pending, at)
    if log.isEnabledFor(logging.DEBUG):
        log.debug(
            "delivered to %d subscribers: first pass %.1f ms, %d stale re-read in %.1f ms, "
            "%d waited %.1f ms for their group's result; written %d, queued %d in all",
            len(subs),
            (checked - started) * 1000,
            len(stale),
            (reread - checked) * 1000,
            sum(len(group) for group in pending.values()),
            (time.perf_counter() - reread) * 1000,
            stats.written,
            stats.queued,
        )


class Attempt(NamedTuple):
    """One message being delivered: its frames (made once each), where queued subscribers
    go, and when it arrived."""

    message: dict[str, Any]
    frames: Frames
    offer: Offer
    since: float


def _attempt(
    sub: LocalSubscription,
    at: Attempt,
    pending: dict[Hashable, list[LocalSubscription]] | None,
    stale: list[tuple[LocalSubscription, Stale]] | None,
) -> None:
    route = sub.direct
    if route is None or not sub.idle:
        _queue(sub, at)
        return
    try:
        outcome = route(at.message, at.frames, at.since)
    except Exception:  # noqa: BLE001 - the normal path will do it (and report any error)
        log.exception("a direct route failed; the event is queued instead")
        outcome = False
    if outcome is True:
        stats.written += 1
    elif isinstance(outcome, Pending) and pending is not None:
        pending.setdefault(outcome.key, []).append(sub)
    elif isinstance(outcome, Stale) and stale is not None:
        stale.append((sub, outcome))
    else:
        _queue(sub, at)


def _queue(sub: LocalSubscription, at: Attempt) -> None:
    stats.queued += 1
    at.offer(sub, at.message)


async def _reload(stale: list[tuple[LocalSubscription, Stale]]) -> bool:
    by_loader: dict[Callable[[list[str]], Awaitable[None]], list[str]] = {}
    for _, outcome in stale:
        by_loader.setdefault(outcome.reload, []).append(outcome.token)
    try:
        async with asyncio.timeout(RELOAD_WAIT):
            await asyncio.gather(*(reload(tokens) for reload, tokens in by_loader.items()))
    except Exception:  # noqa: BLE001 - the subscribers re-read for themselves instead
        log.warning("re-reading %d subscribers' tokens failed", len(stale), exc_info=True)
        return False
    return True


async def _after_execution(pending: dict[Hashable, list[LocalSubscription]], at: Attempt) -> None:
    # One member per group is woken and executes the event for its group (sink.fan_out
    # claims it); the others get that result once it is there.
    waits = []
    for key, group in pending.items():
        _queue(group[0], at)
        waits.append(_settled(key))
    await asyncio.gather(*waits)
    for group in pending.values():
        for sub in group[1:]:
            _attempt(sub, at, None, None)


async def _settled(key: Hashable) -> None:
    waiter = results.watch(key)
    try:
        async with asyncio.timeout(RESULT_WAIT):
            entry: _Entry = await waiter
            await asyncio.wait([entry.future])
    except TimeoutError:
        stats.unanswered += 1
        log.warning("no result for a subscription group in %.1fs; queued", RESULT_WAIT)
    finally:
        results.unwatch(key, waiter)


def sender(info: Any, on_sent: Callable[[Actor], None] | None = None) -> Send | None:
    """For a shared (not personal) subscription operation: a `Send` that writes its group's
    result of an event straight to the connection; None when this operation's frames cannot
    be written that way (no sink, not uvicorn's connection, an unshareable document)."""
    sink = SINK.get()
    if sink is None or sink.protocol is None:
        return None
    raw = info._raw_info
    prefix = group_prefix(raw.schema, raw.operation, raw.fragments, raw.variable_values)
    if prefix is None:
        return None

    def send(actor: Actor, event: Hashable, frames: Frames) -> Outcome:
        key = key_of(prefix, actor, event)
        entry = results.get(key)
        if entry is None or not entry.future.done():
            return Pending(key)
        future = entry.future
        if future.cancelled() or future.exception() is not None:
            return False  # abandoned or failed: the subscriber executes it itself
        result = future.result()
        if result.errors or not isinstance(result.data, EncodedData):
            return False  # sink.fan_out would execute it too
        if not sink.write_now(sink.frame(result.data.json, frames)):
            return False
        results.direct += 1
        if on_sent is not None:
            on_sent(actor)
        return True

    return send
