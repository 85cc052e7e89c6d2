"""Relay connections with `totalCount`; forward pagination with `first`/`after`.

Cursors are opaque offsets into the sorted list. Page sizes are capped by the
`max_page_size` setting (100): a larger `first` is an error, not silently trimmed.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

import strawberry
from tortoise.queryset import QuerySet

from deskql.services.errors import ClientError

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 20


class CompiledFetch:
    """How the compiled read path wants the next page of one model read (readpath/compiled)."""

    model: Any

    async def fetch(self, query: QuerySet[Any]) -> list[Any]:
        """The rows of a sliced query, reading only the columns the request needs."""
        raise NotImplementedError


# Set by the compiled read path around one root field's resolver: the next page of its model
# is read by it (and the connection's nodes are its rows, not schema objects).
COMPILING: ContextVar[CompiledFetch | None] = ContextVar("deskql_compiling", default=None)


class BadPagination(ClientError):
    """A page size out of range or a cursor that does not decode."""

    code = "BAD_PAGINATION"


@strawberry.type(description="Where a page sits in the whole list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page.")
    has_previous_page: bool = strawberry.field(description="Items precede this page.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first item.")
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last item; pass as `after`."
    )


@strawberry.type(description="An item of a page and its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page with cursors.")
    page_info: PageInfo = strawberry.field(description="Pagination state.")
    count_query: strawberry.Private[Any]
    # Set when the page itself shows how many items there are (it reaches the end of the
    # list), so totalCount needs no COUNT query.
    known_total: strawberry.Private[int | None] = None
    # The nodes are the compiled read path's rows (nothing to load ahead for them).
    compiled: strawberry.Private[bool] = False

    @strawberry.field(description="Items in the whole list (all pages).")
    async def total_count(self) -> int:
        if self.known_total is not None:
            return self.known_total
        return await self.count_query.count()

    @strawberry.field(description="The items of this page, without cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def encode_cursor(offset: int) -> str:
    """Opaque cursor for a position."""
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The position a cursor names; BadPagination when it does not decode."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
        prefix, _, value = raw.partition(":")
        offset = int(value)
        if prefix != "o" or offset < 0:
            raise ValueError
        return offset
    except (ValueError, UnicodeError):
        raise BadPagination(f"malformed cursor {cursor[:60]!r}") from None


def check_first(first: int | None, max_size: int) -> int:
    """The page size to use; BadPagination outside 0..max_size."""
    size = DEFAULT_PAGE_SIZE if first is None else first
    if size < 0 or size > max_size:
        raise BadPagination(f"first must be between 0 and {max_size}, got {size}")
    return size


async def paginate(
    query: QuerySet[Any],
    *,
    first: int | None,
    after: str | None,
    max_size: int,
    convert: Callable[[Any], T],
    fetch: Callable[[QuerySet[Any]], Awaitable[list[Any]]] | None = None,
) -> Connection[T]:
    """One page of a sorted query as a connection (one query, plus one for totalCount unless
    the page reaches the end of the list). `fetch` reads the sliced query (the compiled read
    path reads only the columns a request selects); by default it gives model instances."""
    size = check_first(first, max_size)
    start = decode_cursor(after) + 1 if after else 0
    compiled = COMPILING.get()
    if fetch is None and compiled is not None and compiled.model is query.model:
        COMPILING.set(None)
        fetch, convert = compiled.fetch, _same
    sliced = query.offset(start).limit(size + 1)
    rows = (await (fetch(sliced) if fetch else sliced)) if size else []
    has_next = len(rows) > size
    edges = [
        Edge(cursor=encode_cursor(start + i), node=convert(r)) for i, r in enumerate(rows[:size])
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=start > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count_query=query,
        # A non-empty page without a next one ends the list: the total is its end.
        known_total=start + len(edges) if edges and not has_next else None,
        compiled=fetch is not None and convert is _same,
    )


def _same(row: Any) -> Any:
    return row


def list_page(
    items: Sequence[T], *, first: int | None, after: str | None, max_size: int
) -> Connection[T]:
    """One page of a list already loaded (a DataLoader's group) as a connection."""
    size = check_first(first, max_size)
    start = decode_cursor(after) + 1 if after else 0
    chosen = items[start : start + size]
    edges = [Edge(cursor=encode_cursor(start + i), node=n) for i, n in enumerate(chosen)]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=start + size < len(items),
            has_previous_page=start > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count_query=None,
        known_total=len(items),
    )
