"""The groups' results, kept for RESULT_TTL seconds and at most MAX_RESULTS (`results`)."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Coroutine, Hashable
from typing import Any

from graphql import (
    ExecutionResult,
)

# How long a computed group result is kept for the group's slower members, and how many.
RESULT_TTL = 5.0


MAX_RESULTS = 4096


class Abandoned(Exception):
    """The subscriber that was to execute an event for its group left before it did."""


class _Entry:
    """One event's result for one group: claimed, then started, then done."""

    __slots__ = ("created", "future", "started")

    def __init__(self) -> None:
        self.created = time.monotonic()
        self.future: asyncio.Future[ExecutionResult] = asyncio.get_running_loop().create_future()
        # Nobody may be waiting for an abandoned or failed execution: never log it as lost.
        self.future.add_done_callback(_retrieve)
        self.started = False

    def start(self, execution: Coroutine[Any, Any, ExecutionResult]) -> None:
        """Run the group's execution in its own task (no subscriber can cancel it)."""
        self.started = True
        task = asyncio.ensure_future(execution)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Future[ExecutionResult]) -> None:
        if self.future.done():
            return
        if task.cancelled():
            self.future.set_exception(Abandoned())
        elif task.exception() is not None:
            self.future.set_exception(task.exception())  # type: ignore[arg-type]
        else:
            self.future.set_result(task.result())

    def abandon(self) -> None:
        """The claimer left before executing: its group falls back to executing again."""
        if not self.started and not self.future.done():
            self.future.set_exception(Abandoned())

    @property
    def abandoned(self) -> bool:
        """Whether this entry will never have a result."""
        return self.future.done() and isinstance(self.future.exception(), Abandoned)


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


class _Results:
    """Group results of recent events, by group key; bounded by age and count."""

    def __init__(self) -> None:
        self._items: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._watchers: dict[Hashable, list[asyncio.Future[_Entry]]] = {}
        self.executions = 0
        self.shared = 0
        self.direct = 0

    def get(self, key: Hashable) -> _Entry | None:
        entry = self._items.get(key)
        if entry is not None and time.monotonic() - entry.created > RESULT_TTL:
            del self._items[key]
            return None
        return entry

    def new(self, key: Hashable) -> _Entry:
        entry = self._items[key] = _Entry()
        self._items.move_to_end(key)
        for waiter in self._watchers.pop(key, ()):
            if not waiter.done():
                waiter.set_result(entry)
        now = entry.created
        while self._items:
            oldest_key, oldest = next(iter(self._items.items()))
            if len(self._items) <= MAX_RESULTS and now - oldest.created <= RESULT_TTL:
                break
            del self._items[oldest_key]
        return entry

    def claim(self, key: Hashable) -> tuple[_Entry, bool]:
        """The entry of a group's event, and whether the caller is the first to ask."""
        entry = self.get(key)
        if entry is None or entry.abandoned:
            return self.new(key), True
        return entry, False

    def watch(self, key: Hashable) -> asyncio.Future[_Entry]:
        """The entry of a group's event as soon as a subscriber claims it (at once if one
        has); realtime/direct.py waits on it for the group's result."""
        waiter: asyncio.Future[_Entry] = asyncio.get_running_loop().create_future()
        entry = self.get(key)
        if entry is not None and not entry.abandoned:
            waiter.set_result(entry)
        else:
            self._watchers.setdefault(key, []).append(waiter)
        return waiter

    def unwatch(self, key: Hashable, waiter: asyncio.Future[_Entry]) -> None:
        """Stop waiting for a claim (after a timeout)."""
        waiters = self._watchers.get(key)
        if waiters is not None and waiter in waiters:
            waiters.remove(waiter)
            if not waiters:
                del self._watchers[key]

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()
        for waiters in self._watchers.values():
            for waiter in waiters:
                waiter.cancel()
        self._watchers.clear()


results = _Results()
