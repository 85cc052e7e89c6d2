"""`search`'s cursors: keyset cursors signed like every list's (schema/cursors.py), whose
`sort` names the ordering and a hash of what was searched (query text, modules, facets,
criteria, letter, spam), so a cursor of another search is CURSOR_MISMATCH; offset cursors
(`o:<n>`) handed out before still page by position."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from deskql.schema.connections import Edge
from deskql.schema.cursors import (
    BadPagination,
    CursorMismatch,
    InvalidCursor,
    decode_cursor,
    decode_keyset,
    encode_keyset,
    is_keyset,
)
from deskql.schema.page_request import PageRequest
from deskql.services.search import keyset

LIST_NAME = "Query.search"


def sort_key(kind: str, searched: Any) -> str:
    """The cursor's `sort`: the ordering's kind and a short hash of the search's arguments."""
    digest = hashlib.sha256(orjson.dumps(searched, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f"{kind}:{digest[:16]}"


def position(key: bytes, sort: str, cursor: str, pg: bool) -> keyset.Position:
    """A keyset cursor of this search as a position; InvalidCursor when it does not decode
    or was altered, CursorMismatch when it belongs to another list or another search."""
    found = decode_keyset(key, cursor)
    if found.list != LIST_NAME:
        raise CursorMismatch(f"this cursor belongs to {found.list}, not {LIST_NAME}")
    if found.sort != sort:
        raise CursorMismatch("this cursor belongs to another search (query, modules, facets)")
    try:
        return keyset.from_json(sort.partition(":")[0], found.values, pg)
    except (ValueError, TypeError):
        raise InvalidCursor("the cursor's values do not fit this search") from None


@dataclass(frozen=True)
class Slice:
    """What to read: a keyset window, or (offset cursors) a range of positions."""

    window: keyset.Window | None
    offset: int = 0
    limit: int = 0
    end: int | None = None


def plan_slice(request: PageRequest, size: int, key: bytes, sort: str, pg: bool) -> Slice:
    """The page the request asks for, by keyset or (offset cursors) by position."""
    cursors = [c for c in (request.after, request.before) if c is not None]
    if cursors and not all(is_keyset(c) for c in cursors):
        if any(is_keyset(c) for c in cursors):
            raise BadPagination("after and before must be cursors of the same kind")
        start = decode_cursor(request.after) + 1 if request.after is not None else 0
        end = decode_cursor(request.before) if request.before is not None else None
        if request.backward and end is not None:
            start = max(start, end - size)
        limit = size if end is None else max(0, min(size, end - start))
        return Slice(None, start, limit, end)
    after = position(key, sort, request.after, pg) if request.after is not None else None
    before = position(key, sort, request.before, pg) if request.before is not None else None
    return Slice(keyset.Window(after, before, request.backward), limit=size)


def page_flags(request: PageRequest, chosen: Slice, more: bool) -> tuple[bool, bool]:
    """(hasNextPage, hasPreviousPage) of a page that found `more` in its direction."""
    if chosen.window is None:
        # Before an offset cursor, its item (at least) follows the page.
        return more or chosen.end is not None, chosen.offset > 0
    if chosen.window.backward:
        return request.before is not None, more or request.after is not None
    return more or request.before is not None, request.after is not None


class SignedEdge(Edge[Any]):
    """An edge whose keyset cursor is signed when it is read (most searches select no
    cursor, and the HMAC of each hit would be wasted)."""

    def __init__(self, node: Any, pos: keyset.Position, key: bytes, sort: str) -> None:
        self.node = node
        self._source = (pos, key, sort)
        self._cursor: str | None = None

    @property  # type: ignore[override]
    def cursor(self) -> str:
        """The signed keyset cursor of this hit."""
        if self._cursor is None:
            pos, key, sort = self._source
            self._cursor = encode_keyset(key, LIST_NAME, sort, keyset.to_json(pos))
        return self._cursor
