"""Integer sort keys for lists ordered in memory (a conversation, open activities): the values
of their keyset cursors (schema/loaded_pages.py), exact and the same on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def epoch_micros(at: datetime) -> int:
    """A time as microseconds since 1970 UTC (a naive time is taken as UTC)."""
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return (aware - _EPOCH) // _MICROSECOND
