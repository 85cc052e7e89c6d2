"""The mechanics every outbox shares (DESIGN: "Outboxes, one pattern"): outgoing email
(services/outbox.py), webhook deliveries (services/webhooks/) and reminders
(services/activities/reminders.py) are rows written in the
transaction of the change, claimed by any process, retried with backoff, and sent by a
background worker per process.

- `claim` turns due rows QUEUED -> SENDING with `SELECT ... FOR UPDATE SKIP LOCKED` plus a
  conditional update, so two workers (or two processes) never take the same row.
- `backoff` is the exponential delay between attempts.
- `recover_stale` ends rows a crashed worker left SENDING (never re-sent by themselves: they
  may have been delivered).
- `QueueWorker` is the loop: a pass whenever `wake()` is called (after a commit), when the
  next row falls due (`next_due`) or every interval, surviving database hiccups.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from tortoise.expressions import F
from tortoise.queryset import QuerySet

from deskql.services import uow

log = logging.getLogger("deskql.queue")

MAX_BACKOFF = timedelta(hours=1)


def backoff(base_ms: int, attempts: int, cap: timedelta = MAX_BACKOFF) -> timedelta:
    """Delay before attempt `attempts + 1`: base * 2^(attempts-1), at most `cap`."""
    delay = timedelta(milliseconds=base_ms * 2 ** min(max(attempts - 1, 0), 40))
    return min(delay, cap)


async def claim(
    due: QuerySet[Any],
    *,
    limit: int,
    queued: Enum,
    sending: Enum,
    order: Sequence[str] = ("next_attempt_at", "id"),
) -> list[int]:
    """Take up to `limit` rows of `due` (QUEUED -> SENDING, attempts + 1) and return the ids
    this call won. On PostgreSQL the rows are locked (SKIP LOCKED: concurrent workers take
    disjoint rows); the conditional update re-checks QUEUED besides (tested with concurrent
    workers on PostgreSQL). Opens its own transaction (or joins the caller's)."""
    model = due.model
    now = datetime.now(UTC)
    async with uow.transaction():
        # Rows, not values_list: tortoise drops FOR UPDATE SKIP LOCKED from a values_list
        # query, and without the locks two processes could pick the same rows and tell them
        # apart only by claimed_at, which two processes can share to the microsecond.
        rows = (
            await due.filter(status=queued)
            .select_for_update(skip_locked=True)
            .order_by(*order)
            .limit(limit)
            .only("id")
        )
        ids = [row.id for row in rows]
        if not ids:
            return []
        # The update re-checks QUEUED on the latest row version: a row another worker took
        # meanwhile is not updated, and is not ours (claimed_at is this claim's mark).
        await model.filter(id__in=ids, status=queued).update(
            status=sending, claimed_at=now, attempts=F("attempts") + 1
        )
        return list(
            await model.filter(id__in=ids, status=sending, claimed_at=now).values_list(
                "id", flat=True
            )
        )


async def recover_stale(
    model: Any, *, sending: Enum, failed: Enum, older_than: timedelta, message: str
) -> int:
    """Rows left SENDING for longer than `older_than` (a crashed worker) become FAILED."""
    limit = datetime.now(UTC) - older_than
    stale = await model.filter(status=sending, claimed_at__lt=limit).values_list("id", flat=True)
    for row_id in stale:
        await model.filter(id=row_id, status=sending).update(
            status=failed, claimed_at=None, last_error=message
        )
    return len(stale)


class QueueWorker:
    """Runs `run_once` in the background until it finds nothing, then waits for `wake()` or
    the interval; `recover` runs at start and after each idle interval. Subclasses implement
    both; `registry` is the module's list of live workers that its `wake()` pokes."""

    name = "queue"
    # Seconds to wait after a wake-up before the pass (0: at once).
    settle = 0.0

    def __init__(self, interval_ms: int, registry: list[Any]) -> None:
        self.interval = interval_ms / 1000
        self._registry = registry
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        """Handle the due rows once; returns how many were attempted."""
        raise NotImplementedError

    async def recover(self) -> int:
        """Recover rows a crashed worker left behind."""
        return 0

    async def close(self) -> None:
        """Release what the worker holds (connections) after its loop ended."""

    async def next_due(self) -> float | None:
        """Seconds until the next row falls due (None: unknown; the interval applies)."""
        return None

    async def _wait(self) -> float:
        try:
            due = await self.next_due()
        except Exception:  # noqa: BLE001 - an estimate only; the interval still applies
            due = None
        return self.interval if due is None else max(0.0, min(self.interval, due))

    def start(self) -> None:
        """Start the loop in the running event loop."""
        self._registry.append(self)
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        """Stop the loop; a row being sent finishes first or is recovered later."""
        if self in self._registry:
            self._registry.remove(self)
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await self.close()

    def wake(self) -> None:
        """Look for due rows now."""
        self._event.set()

    async def _loop(self) -> None:
        try:
            await self.recover()
        except Exception:  # noqa: BLE001 - the loop must survive a database hiccup
            log.exception("%s: recovering stale rows failed", self.name)
        while True:
            try:
                self._event.clear()
                while await self.run_once():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the loop must survive a database hiccup
                log.exception("%s pass failed", self.name)
            try:
                # The timeout first: cancelled while it is read, no wait() is left unawaited.
                timeout = await self._wait()
                await asyncio.wait_for(self._event.wait(), timeout)
                if self.settle:
                    await asyncio.sleep(self.settle)
            except TimeoutError:
                try:
                    await self.recover()
                except Exception:  # noqa: BLE001
                    log.exception("%s: recovering stale rows failed", self.name)
