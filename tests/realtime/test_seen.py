"""The ids a stream remembers to drop duplicates stay few: bounded by age and by count,
whatever the number of events (the memory growth bench/fanout.py measured)."""

from __future__ import annotations

import pytest

from deskql.realtime.streams import common


def test_recent_ids_are_forgotten_after_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(common.time, "monotonic", lambda: clock[0])
    seen = common._Seen(start=5)
    for pk in range(10, 20):
        seen.add(pk)
        clock[0] += 1
    seen.prune()
    assert seen.recent_set == set(range(10, 20)) and seen.max_id == 19
    clock[0] += common.SEEN_WINDOW - 5
    seen.prune()
    # Added at 1000..1009; now 1015: those older than 1005 are gone.
    assert seen.recent_set == set(range(15, 20))
    assert [pk for _, pk in seen.recent] == list(range(15, 20))
    assert seen.max_id == 19


def test_recent_ids_are_bounded_in_number(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "SEEN_MAX", 3)
    seen = common._Seen()
    for pk in (7, 3, 9, 12, 11):
        seen.add(pk)
    assert seen.recent_set == {9, 12, 11} and len(seen.recent) == 3
    assert seen.max_id == 12
