"""Pages of lists already loaded (a loader's group, a service's list), by keyset (issue 18).

Such a list is in memory, sorted ascending by a key of its items: their id (the loaders of
schema/loaders.py all sort by it), or a key given by the caller (`ticketViews`: the standard
views in their order, then the saved ones by id). A cursor is a keyset cursor on that key
(schema/cursors.py: signed, naming the list and the sort), so `after`/`before` find their place
by value, not by position: an item added or removed ahead of the cursor does not shift the next
page, and a cursor whose item is gone still pages from where that item was. `first`/`after`
page forward, `last`/`before` backward. Offset cursors handed out before keep paging by position.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from deskql.schema.connections import Connection, Edge, SignedEdge, edges_page_info
from deskql.schema.cursors import (
    InvalidCursor,
    cursor_key,
    decode_cursor,
    is_keyset,
    keyset_values,
)
from deskql.schema.page_request import PageRequest

T = TypeVar("T")

ItemKey = Callable[[Any], tuple[int, ...]]


def item_id(item: Any) -> tuple[int, ...]:
    """The key of an item of a list sorted by id: an id itself, a schema object's `pk`, or a
    compiled read's row's `id`."""
    if isinstance(item, int):
        return (item,)
    pk = getattr(item, "pk", None)
    if pk is None:
        pk = item.id
    if type(pk) is not int:
        raise TypeError(f"{type(item).__name__} has no integer pk to page by")
    return (pk,)


def cursor_values(
    request: PageRequest, sort: str, cursor: str, types: tuple[type, ...]
) -> tuple[Any, ...]:
    """The values of a keyset cursor of this list and sort, one of each type in `types`;
    CURSOR_MISMATCH for another list's or sort's, INVALID_CURSOR when altered or ill-fitting."""
    values = keyset_values(cursor_key(request.settings), cursor, request.list_name, sort)
    if len(values) != len(types) or any(
        type(v) is not t for v, t in zip(values, types, strict=False)
    ):
        raise InvalidCursor("the cursor's values do not fit this list")
    return tuple(values)


def _bound(
    items: Sequence[Any], request: PageRequest, key: ItemKey, sort: str, *, after: bool
) -> int | None:
    """Where the page may start (after) or must end (before), as a position in `items`."""
    cursor = request.after if after else request.before
    if cursor is None:
        return None
    if not is_keyset(cursor):
        position = decode_cursor(cursor)  # an offset cursor handed out before
        return position + 1 if after else position
    # The sort names the key's columns (`standard,id`: two values in each cursor).
    wanted = cursor_values(request, sort, cursor, (int,) * len(sort.split(",")))
    keys = [key(item) for item in items]
    return bisect_right(keys, wanted) if after else bisect_left(keys, wanted)


def own_key(item: Any) -> Any:
    """The key of a list whose items are their own sort keys."""
    return item


def list_page(
    items: Sequence[T], request: PageRequest, *, key: ItemKey = item_id, sort: str = "id"
) -> Connection[T]:
    """One page of a list already loaded, sorted ascending by `key` (`sort` names that key in
    its cursors), as a connection: forward with first/after, backward with last/before."""
    size = request.size()
    start = _bound(items, request, key, sort, after=True) or 0
    end = _bound(items, request, key, sort, after=False)
    end = len(items) if end is None else min(end, len(items))
    end = max(start, end)
    if request.backward:
        start = max(start, end - size)
    else:
        end = min(end, start + size)
    signing, name = cursor_key(request.settings), request.list_name
    edges: list[Edge[T]] = [
        SignedEdge(item, key(item), list, signing, name, sort) for item in items[start:end]
    ]
    return Connection(
        edges=edges,
        page_info=edges_page_info(edges, has_next=end < len(items), has_previous=start > 0),
        count_query=None,
        known_total=len(items),
        handles_backward=True,
    )


def with_nodes(page: Connection[Any], objects: Sequence[Any]) -> Connection[Any]:
    """The page with these objects as its nodes, one per edge in order; an edge whose object
    is None (gone since its key was read) is dropped."""
    kept = []
    for edge, obj in zip(page.edges, objects, strict=True):
        if obj is not None:
            edge.node = obj
            kept.append(edge)
    page.edges = kept
    return page
