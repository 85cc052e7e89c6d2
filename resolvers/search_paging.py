"""`search`'s cursors: keyset cursors signed like every list's (schema/cursors.py), whose
`sort` names the ordering and a hash of what was searched (query text, modules, facets,
criteria, letter, spam), so a cursor of another search is CURSOR_MISMATCH; offset cursors
(`o:<n>`) handed out before still page by position."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from deskql.schema.connections import Edge, SignedEdge
from deskql.schema.cursors import (
    BadPagination,
    InvalidCursor,
    decode_cursor,
    is_keyset,
    keyset_values,
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
    other = "this cursor belongs to another search (query, modules, facets)"
    values = keyset_values(key, cursor, LIST_NAME, sort, other)
    try:
        return keyset.from_json(sort.partition(":")[0], values, pg)
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


def signed_edge(node: Any, pos: keyset.Position, key: bytes, sort: str) -> Edge[Any]:
    """The edge of a hit, its keyset cursor signed when read (most searches select none)."""
    return SignedEdge(node, pos, keyset.to_json, key, LIST_NAME, sort)
