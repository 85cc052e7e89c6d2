"""A unit of work: a database transaction that publishes its events only after it commits.

Services write inside `async with uow.transaction():` instead of tortoise's `in_transaction()`.
While it is open, `uow.add_event(channel, message)` collects real-time envelopes in a
ContextVar. Only the outermost transaction publishes them, and only after a successful commit:
a rolled-back change announces nothing, and no network I/O happens while a transaction (and on
SQLite the process's only connection) is held (STACK_NOTES: never await broadcast inside it).

A nested `transaction()` is a savepoint: its failure rolls back only its own writes. A group
that would rather pay a rollback now and then than two round trips per nested block opens the
outermost with `savepoints=False`: nested blocks then join it, and the failure of any of them
dooms the whole transaction (it rolls back at its end even if the failure was caught).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from tortoise.transactions import _get_connection, in_transaction

log = logging.getLogger("deskql.uow")

Event = tuple[str, dict[str, Any]]
Publisher = Callable[[list[Event]], Awaitable[None]]

# Seconds a commit waits for the broadcast backend before giving up on publishing; the
# persisted Activity/Notification rows stay the source of truth that clients catch up from.
PUBLISH_TIMEOUT = 5.0


@dataclass
class _Batch:
    events: list[Event] = field(default_factory=list)
    # Reads that stay true until the transaction writes what they read (see `memo`).
    memo: dict[Any, Any] = field(default_factory=dict)
    savepoints: bool = True  # False: nested transactions join this one (see the module doc)
    failed: BaseException | None = None  # the first nested block that failed without one
    # Called after the outermost commit (a worker's wake-up); a rolled-back savepoint's
    # callbacks stay: they only make a worker look for rows.
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    # Work to do inside the transaction just before it commits, once per key (see
    # `before_commit`): e.g. the search index catching up with the rows written.
    before: dict[Any, Callable[[], Awaitable[None]]] = field(default_factory=dict)


class NestedFailed(Exception):
    """A nested block of a transaction without savepoints failed: the whole one rolled back."""


_current: ContextVar[_Batch | None] = ContextVar("deskql_uow_batch", default=None)
_publishers: list[Publisher] = []


def set_publisher(publisher: Publisher) -> None:
    """Register where committed events go (the process's hub); the latest one wins."""
    _publishers.append(publisher)


def clear_publisher(publisher: Publisher) -> None:
    """Unregister a publisher (on shutdown)."""
    if publisher in _publishers:
        _publishers.remove(publisher)


def in_unit_of_work() -> bool:
    """True inside `transaction()`."""
    return _current.get() is not None


def without_savepoints() -> bool:
    """True inside a transaction opened with `savepoints=False` (it commits or rolls back
    whole: nothing in it is undone alone)."""
    batch = _current.get()
    return batch is not None and not batch.savepoints


def memo() -> dict[Any, Any] | None:
    """A dict for reads repeated within the current transaction (None outside one).

    Whoever writes what a memoised read depends on must drop its entries; the dict lives
    until the outermost transaction ends, so nothing outlives a rollback of the rows.
    """
    batch = _current.get()
    return batch.memo if batch is not None else None


def on_commit(callback: Callable[[], None]) -> None:
    """Call `callback` once the surrounding transaction commits (at once outside one); a
    harmless wake-up, so a rolled-back savepoint may still trigger it."""
    batch = _current.get()
    if batch is None:
        callback()
    elif callback not in batch.after_commit:
        batch.after_commit.append(callback)


def before_commit(key: Any, work: Callable[[], Awaitable[None]]) -> Any:
    """Run `work` inside the current transaction just before the outermost one commits, once
    per key: returns the work registered under the key (this one or an earlier one), or None
    outside a transaction (the caller does the work itself)."""
    batch = _current.get()
    if batch is None:
        return None
    return batch.before.setdefault(key, work)


async def _run_before_commit(batch: _Batch) -> None:
    """Run the registered pre-commit work, including work registered while it runs."""
    done: set[Any] = set()
    while pending := [k for k in batch.before if k not in done]:
        for key in pending:
            done.add(key)
            await batch.before[key]()


def add_event(channel: str, message: dict[str, Any]) -> None:
    """Queue an envelope for publishing after the surrounding transaction commits.

    Outside a transaction there is nothing to wait for: the event is published at once
    (in the background) by the registered publisher.
    """
    batch = _current.get()
    if batch is not None:
        batch.events.append((channel, message))
        return
    if _publishers:
        task = asyncio.get_running_loop().create_task(_publish([(channel, message)]))
        _background.add(task)
        task.add_done_callback(_background.discard)


_background: set[asyncio.Task[None]] = set()


async def _publish(events: list[Event]) -> None:
    if not events or not _publishers:
        return
    publisher = _publishers[-1]
    try:
        await asyncio.wait_for(publisher(events), PUBLISH_TIMEOUT)
    except Exception:  # noqa: BLE001 - a failed publish must never undo a committed change
        log.warning("publishing %d event(s) failed; clients catch up from the tables", len(events))


@asynccontextmanager
async def transaction(
    connection_name: str | None = None, *, savepoints: bool = True
) -> AsyncIterator[Any]:
    """`in_transaction()` that publishes the events it collected after the outermost commit.

    `savepoints` (outermost only): False makes nested transactions join this one without a
    savepoint; if one of them fails, this one raises NestedFailed at its end and rolls back.
    """
    outer = _current.get()
    if outer is not None and not outer.savepoints:
        try:
            yield _get_connection(connection_name)
        except BaseException as exc:
            if outer.failed is None:
                outer.failed = exc
            raise
        return
    if outer is not None:
        # Nested: a savepoint in tortoise; its events join the outer batch, unless it rolls back.
        mark = len(outer.events)
        try:
            async with in_transaction(connection_name) as conn:
                yield conn
        except BaseException:
            del outer.events[mark:]
            outer.memo.clear()  # reads made after the savepoint may have seen its writes
            raise
        return
    batch = _Batch(savepoints=savepoints)
    token = _current.set(batch)
    try:
        async with in_transaction(connection_name) as conn:
            yield conn
            if batch.failed is not None:  # a nested block failed and someone caught it
                raise NestedFailed(f"a nested block failed: {batch.failed!r}") from batch.failed
            await _run_before_commit(batch)
    finally:
        _current.reset(token)
    # Reached only when the transaction committed (an exception skips this line).
    for callback in batch.after_commit:
        callback()
    await _publish(batch.events)
