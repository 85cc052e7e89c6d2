"""Keyset paging of search hits: each kind of search's ORDER BY as columns of the CTE `r`, a
hit's place in it (a `Position`), and the WHERE that starts a page after a position or ends it
before one, so a record indexed between two pages does not shift the next one.

`r` has the columns id (search_doc's), tier, score, s (sort_at) and k (the lowered name):
- RANKED (words): tier 0 are the candidates ranked by the engine (statement.py), tier 1 the
  further matches with score 0, newest first. Which matches are candidates is fixed by the
  first page: a position carries the cut-offs (sort_at, id) of its two candidate sets (the
  CANDIDATES newest matches and the CANDIDATES newest title matches; null: all of them), so a
  newer match does not push an older candidate into tier 1 between pages.
- RECENT (criteria only): newest first.  NAME (a letter, SRC-4): by lowered name.
Tier -1 is the `#123` jump, which comes before every row of `r`.

A position's score is compared with the score the same statement computes for that record
(SQLite's bm25 depends on the whole index, so it moves when a record is added), and with the
score the cursor carries only when that record is no longer a candidate. (bm25's statistics
also move the other records' scores: two hits of nearly equal score may swap places across
an insert on SQLite, the one case where a walk can still repeat or miss a hit; PostgreSQL's
ts_rank depends on the record alone.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

RANKED, RECENT, NAME = "rank", "recent", "name"
# The ordering's columns of `r`: (column, descending).
ORDERS: dict[str, tuple[tuple[str, bool], ...]] = {
    RANKED: (("tier", False), ("score", True), ("s", True), ("id", True)),
    RECENT: (("tier", False), ("s", True), ("id", True)),
    NAME: (("tier", False), ("k", False), ("id", False)),
}
JUMP_TIER = -1
CUTOFFS = 4  # newest's (sort_at, id), titled's (sort_at, id)


@dataclass(frozen=True)
class Position:
    """A hit's values in its search's ORDER BY (ORDERS[kind]) and, for RANKED, the cut-offs
    of the candidate sets it was ranked among."""

    kind: str
    values: tuple[Any, ...]
    cutoffs: tuple[Any, ...] = (None,) * CUTOFFS

    @property
    def tier(self) -> int:
        """The position's tier (-1 the jump, 0 the ranked candidates, 1 the rest)."""
        return int(self.values[0])


@dataclass(frozen=True)
class Window:
    """A keyset page: after and/or before positions, and whether it counts back (`last`)."""

    after: Position | None = None
    before: Position | None = None
    backward: bool = False

    @property
    def cutoffs(self) -> tuple[Any, ...] | None:
        """The candidate cut-offs the cursors carry (None: none given, take them afresh)."""
        for pos in (self.after, self.before):
            if pos is not None:
                return pos.cutoffs
        return None


def order_sql(kind: str, reverse: bool) -> str:
    """ORDER BY of `r`'s columns, reversed for a page counted back."""
    return ", ".join(f"{col} {'DESC' if desc != reverse else 'ASC'}" for col, desc in ORDERS[kind])


def _beyond(
    kind: str, values: list[Any], before: bool, score_sql: str | None
) -> tuple[str, list[Any]]:
    """Rows of `r` strictly after (or before) these values in the ordering. `score_sql`, when
    given, replaces the score parameter (it takes the score's parameter last)."""
    cols = ORDERS[kind]
    ors: list[str] = []
    params: list[Any] = []
    for i in range(len(cols)):
        parts: list[str] = []
        for j in range(i + 1):
            name, d = cols[j]
            op = "=" if j < i else ("<" if d != before else ">")
            if name == "score" and score_sql is not None:
                parts.append(f"{name} {op} {score_sql}")
                params.extend([values[-1], values[j]])  # the record's id, then the fallback
            else:
                parts.append(f"{name} {op} ?")
                params.append(values[j])
        ors.append("(" + " AND ".join(parts) + ")")
    return "(" + " OR ".join(ors) + ")", params


def condition(window: Window | None, kind: str, ranked: bool) -> tuple[str, list[Any]]:
    """The WHERE on `r` of the window (`1=1` without one). `ranked`: the CTE `rk` of the
    candidates' scores exists, so a tier-0 position's score is read from it afresh."""
    if window is None:
        return "1=1", []
    parts: list[str] = []
    params: list[Any] = []
    for pos, before in ((window.after, False), (window.before, True)):
        if pos is None:
            continue
        anchor = None
        if kind == RANKED and ranked and pos.tier == 0:
            anchor = "COALESCE((SELECT rk.score FROM rk WHERE rk.id = ?), ?)"
        sql, more = _beyond(kind, list(pos.values), before, anchor)
        parts.append(sql)
        params.extend(more)
    return (" AND ".join(parts) or "1=1"), params


def to_json(pos: Position) -> list[Any]:
    """The position as the JSON values of a cursor (datetimes as ISO text)."""
    raw = [*pos.values, *(pos.cutoffs if pos.kind == RANKED else ())]
    return [v.isoformat() if isinstance(v, datetime) else v for v in raw]


def _time(value: Any, pg: bool) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError("a time must be text")
    return datetime.fromisoformat(value) if pg else value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("not an integer")
    return value


def from_json(kind: str, raw: list[Any], pg: bool) -> Position:
    """A cursor's JSON values as a position of this kind; ValueError/TypeError when they do
    not fit it."""
    size = len(ORDERS[kind]) + (CUTOFFS if kind == RANKED else 0)
    if len(raw) != size:
        raise ValueError("wrong number of values")
    tier = _int(raw[0])
    if tier not in (JUMP_TIER, 0, 1):
        raise ValueError("no such tier")
    if kind == RANKED:
        score = raw[1]
        if not isinstance(score, int | float) or isinstance(score, bool):
            raise TypeError("score")
        values: tuple[Any, ...] = (tier, float(score), _time(raw[2], pg), _int(raw[3]))
        cut = raw[4:]
        cutoffs = (
            _time(cut[0], pg),
            None if cut[1] is None else _int(cut[1]),
            _time(cut[2], pg),
            None if cut[3] is None else _int(cut[3]),
        )
        if (cutoffs[0] is None) != (cutoffs[1] is None) or (cutoffs[2] is None) != (
            cutoffs[3] is None
        ):
            raise ValueError("half a cut-off")
        return Position(kind, values, cutoffs)
    if kind == RECENT:
        return Position(kind, (tier, _time(raw[1], pg), _int(raw[2])))
    if not isinstance(raw[1], str):
        raise TypeError("name")
    return Position(kind, (tier, raw[1], _int(raw[2])))
