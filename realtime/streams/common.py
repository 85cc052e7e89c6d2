"""What every stream shares: its errors, the ids it has delivered (`_Seen`), waiting for the
next batch of envelopes, and closing the WebSocket of a subscriber that does not keep up."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from deskql.realtime.hub import LocalSubscription
from deskql.services.errors import ClientError

T = TypeVar("T")

# How long, and how many, delivered ids each stream remembers to drop duplicates (_Seen).
SEEN_WINDOW = 10.0
SEEN_MAX = 2000


class AccessLost(ClientError):
    """The subscriber may no longer see what it subscribed to; the stream ends."""

    code = "FORBIDDEN"


class NotFound(ClientError):
    """Subscribing to something that does not exist or that the agent may not see."""

    code = "NOT_FOUND"


class _Seen:
    """Ids already delivered: the highest one and the recent ones (for late commits and the
    replay seam), kept SEEN_WINDOW seconds and at most SEEN_MAX of them.

    Every subscriber has one, so it must not grow with the events: holding the last 2,000
    ids of each of 1,000 subscribers was the memory growth bench/fanout.py measured (+13 MiB
    over 200 events). A duplicate can only come from an envelope that arrives after the
    same row was read by a replay or a resync, which is milliseconds, not seconds, later.
    """

    def __init__(self, start: int = 0) -> None:
        self.max_id = start
        self.recent: deque[tuple[float, int]] = deque()
        self.recent_set: set[int] = set()

    def add(self, pk: int) -> None:
        if len(self.recent) >= SEEN_MAX:
            self.recent_set.discard(self.recent.popleft()[1])
        self.recent.append((time.monotonic(), pk))
        self.recent_set.add(pk)
        self.max_id = max(self.max_id, pk)

    def prune(self) -> None:
        """Forget ids delivered more than SEEN_WINDOW seconds ago (call between batches)."""
        horizon = time.monotonic() - SEEN_WINDOW
        recent = self.recent
        while recent and recent[0][0] < horizon:
            self.recent_set.discard(recent.popleft()[1])


def _watch(sub: LocalSubscription, on_drop: Callable[[], Any] | None) -> None:
    sub.on_drop = on_drop


async def _next_batch(sub: LocalSubscription, wait: float | None = None) -> list[dict[str, Any]]:
    """The next envelope plus any already waiting (bursts are handled in one pass)."""
    if wait is None:
        first = await sub.get()
    else:
        try:
            first = await asyncio.wait_for(sub.get(), wait)
        except TimeoutError:
            return []
    return [first, *sub.drain()]


async def _each(load: Callable[[int], Awaitable[T]], pks: list[int]) -> list[T]:
    """`load` of every pk, through the batch loaders (one query for all subscribers)."""
    if len(pks) == 1:  # the usual case: no gather (it costs more than the load)
        return [await load(pks[0])]
    return list(await asyncio.gather(*(load(pk) for pk in pks)))


async def close_slow_consumer(websocket: Any, code: int, reason: str) -> None:
    """Close a WebSocket whose client does not keep up (best effort)."""
    with contextlib.suppress(Exception):
        await websocket.close(code=code, reason=reason)
