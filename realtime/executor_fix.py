"""A workaround for graphql-core 3.3.2: long-lived subscriptions grow without bound.

`Executor.build_per_event_executor` makes each event's executor a shallow copy of the
subscription's executor, so every event shares one `_relevant_sub_fields` memo. That memo is
keyed by the id of per-event field lists, so each event adds entries that are never hit again:
about 1.5 KB per event per subscription (400 events of one subscription: +600 KB; 1,000
subscribers x 50 events: +200 MB in bench/fanout.py). Giving each event its own memo keeps
the memoisation within an event (where it pays off, for lists) and memory steady.
"""

from __future__ import annotations

from typing import Any

from graphql.execution.executor import Executor

_original = Executor.build_per_event_executor


def _per_event_executor(self: Executor, payload: Any) -> Executor:
    executor = _original(self, payload)
    if getattr(executor, "_relevant_sub_fields", None) is getattr(self, "_relevant_sub_fields", 0):
        executor._relevant_sub_fields = {}
    return executor


def install() -> None:
    """Patch Executor once (idempotent)."""
    if Executor.build_per_event_executor is not _per_event_executor:
        Executor.build_per_event_executor = _per_event_executor  # type: ignore[method-assign]
