"""Relay connections with `totalCount`; `first`/`after` forward, `last`/`before` backward.

Lists backed by a sorted query page by keyset (schema/keyset.py) with signed cursors
(schema/cursors.py); lists already loaded page by keyset on their items' keys
(schema/loaded_pages.py). Page sizes are capped by the
`max_page_size` setting (100): a larger `first` is an error, not silently trimmed. `totalCount`
counts up to the `total_count_cap` setting: past it, the cap with `totalCountIsEstimate`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from functools import partial
from typing import Any, Generic, TypeVar

import strawberry
from pypika_tortoise.terms import ValueWrapper
from tortoise.queryset import QuerySet

from deskql.schema.cursors import (
    BadPagination,
    CursorMismatch,
    InvalidCursor,
    cursor_key,
    decode_cursor,
    encode_cursor,
    encode_keyset,
    is_keyset,
    keyset_values,
)
from deskql.schema.keyset import (
    Ordering,
    after_condition,
    ordered,
    ordering_of,
    parse_values,
    row_values,
)
from deskql.schema.page_request import DEFAULT_PAGE_SIZE, PageRequest, check_size

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "BadPagination",
    "Connection",
    "COMPILING",
    "CompiledFetch",
    "CursorMismatch",
    "Edge",
    "InvalidCursor",
    "PageInfo",
    "PageRequest",
    "SignedEdge",
    "check_first",
    "decode_cursor",
    "edges_page_info",
    "encode_cursor",
    "paginate",
]

T = TypeVar("T")


class CompiledFetch:
    """How the compiled read path wants the next page of one model read (readpath/compiled)."""

    model: Any

    async def fetch(self, query: QuerySet[Any]) -> list[Any]:
        """The rows of a sliced query, reading only the columns the request needs."""
        raise NotImplementedError

    def of_type(self, type_name: str) -> CompiledFetch | None:
        """How `node`/`nodes` read objects of this GraphQL type (None: as always)."""
        return None

    async def children(self, loader: Any, key: int) -> list[Any] | None:
        """The list `loader` gives for `key`, as rows (None: ask the loader)."""
        return None


# Set by the compiled read path around one root field's resolver: the next page of its model
# is read by it (and the connection's nodes are its rows, not schema objects); around `node`
# and `nodes`, it reads the objects of the types `of_type` names (resolvers/nodes.py); around
# a list field read from a loader, that list (`children`, schema.types.common.loaded).
COMPILING: ContextVar[CompiledFetch | None] = ContextVar("deskql_compiling", default=None)


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
    # Most items counted for totalCount (0: no cap); past it the count is an estimate.
    count_cap: strawberry.Private[int] = 0
    # True when the list honoured `last`/`before` (schema/page_request.py refuses them else).
    handles_backward: strawberry.Private[bool] = False
    # The nodes are the compiled read path's rows (nothing to load ahead for them).
    compiled: strawberry.Private[bool] = False
    _total: strawberry.Private[asyncio.Future[tuple[int, bool]] | None] = None

    async def _count(self) -> tuple[int, bool]:
        if self.known_total is not None:
            return self.known_total, False
        if self._total is None:
            self._total = asyncio.ensure_future(capped_count(self.count_query, self.count_cap))
        return await self._total

    @strawberry.field(
        description="Items in the whole list (all pages), counted up to a cap "
        "(DESKQL_TOTAL_COUNT_CAP): past it, the cap, and `totalCountIsEstimate` is true."
    )
    async def total_count(self) -> int:
        return (await self._count())[0]

    @strawberry.field(
        description="True when `totalCount` is the cap, not an exact count: the list has "
        "more items than that."
    )
    async def total_count_is_estimate(self) -> bool:
        return (await self._count())[1]

    @strawberry.field(description="The items of this page, without cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


async def capped_count(query: Any, cap: int) -> tuple[int, bool]:
    """(count, is_estimate): a query's rows counted up to `cap` (one statement: COUNT over a
    `LIMIT cap+1` subquery without ORDER BY); over the cap, (cap, True). Not a QuerySet, or
    cap 0: its exact `count()`."""
    if not isinstance(query, QuerySet) or cap <= 0:
        return await query.count(), False
    inner = query.limit(cap + 1).values_list("id", flat=True)
    inner._choose_db_if_not_chosen()
    inner._make_query()
    # No ORDER BY (not even the model's default): any cap+1 rows count the same, and the
    # planner may stop at the cap on whichever index serves the filter.
    inner.query._orderbys = []
    # The cap written into the statement (a parameter LIMIT keeps PostgreSQL re-planning it).
    inner.query._limit = ValueWrapper(cap + 1, allow_parametrize=False)
    sql, params = inner.query.get_parameterized_sql()
    _, rows = await inner._db.execute_query(f"SELECT COUNT(*) FROM ({sql}) AS capped", params)
    count = int(next(iter(dict(rows[0]).values())))
    return (cap, True) if count > cap else (count, False)


def check_first(first: int | None, max_size: int) -> int:
    """The page size to use; BadPagination outside 0..max_size."""
    return check_size(first, max_size)


def edges_page_info(edges: list[Edge[Any]], *, has_next: bool, has_previous: bool) -> PageInfo:
    """The PageInfo of a page of these edges (its cursors are the first and last edges')."""
    return _EdgesPageInfo(edges, has_next, has_previous)


class _EdgesPageInfo(PageInfo):
    """A PageInfo whose cursors are its first and last edges' cursors, read when asked for
    (a keyset cursor is signed when read: a page that selects no cursor signs none)."""

    def __init__(self, edges: list[Edge[Any]], has_next: bool, has_previous: bool) -> None:
        self.has_next_page = has_next
        self.has_previous_page = has_previous
        self._edges = edges

    @property  # type: ignore[override]
    def start_cursor(self) -> str | None:
        """The first edge's cursor."""
        return self._edges[0].cursor if self._edges else None

    @property  # type: ignore[override]
    def end_cursor(self) -> str | None:
        """The last edge's cursor."""
        return self._edges[-1].cursor if self._edges else None


def _keyset_values(request: PageRequest, ordering: Ordering, key: bytes, cursor: str) -> list[Any]:
    values = keyset_values(key, cursor, request.list_name, ordering.key)
    try:
        return parse_values(ordering, values)
    except (ValueError, TypeError):
        raise InvalidCursor("the cursor's values do not fit this list") from None


async def paginate(
    query: QuerySet[Any], request: PageRequest, *, convert: Callable[[Any], T]
) -> Connection[T]:
    """One page of a sorted query as a connection, by keyset (one query, plus one for
    totalCount unless the page shows the whole list). Offset cursors handed out before keyset
    cursors still page by position."""
    size = request.size()
    read: Callable[[QuerySet[Any]], Awaitable[list[Any]]] = _models
    compiled = COMPILING.get()
    if compiled is not None and compiled.model is query.model:
        # The compiled read path reads the page's columns itself; its rows are the nodes.
        COMPILING.set(None)
        read, convert = compiled.fetch, _same
    ordering = ordering_of(query)
    if ordering is None:
        if request.last is not None or request.before is not None:
            raise BadPagination("this list is sorted by a related value: it pages forward only")
        sliced = query.offset(_offset_after(request.after)).limit(size + 1)
        page = _positional(await read(sliced) if size else [], request, size, convert, query)
        page.compiled = convert is _same
        return page
    key = cursor_key(request.settings)
    cursors = [c for c in (request.after, request.before) if c is not None]
    if cursors and not all(is_keyset(c) for c in cursors):
        page = await _offset_page(query, request, ordering, key, size, convert, read)
        page.compiled = convert is _same
        return page
    base = query
    if request.after is not None:
        values = _keyset_values(request, ordering, key, request.after)
        base = base.filter(after_condition(ordering, values, reverse=False))
    if request.before is not None:
        values = _keyset_values(request, ordering, key, request.before)
        base = base.filter(after_condition(ordering, values, reverse=True))
    backward = request.backward
    rows = await read(ordered(base, ordering, reverse=backward).limit(size + 1)) if size else []
    more = len(rows) > size
    rows = rows[:size]
    if backward:
        rows.reverse()
        has_next, has_previous = request.before is not None, more or request.after is not None
    else:
        has_next, has_previous = more or request.before is not None, request.after is not None
    page = _keyset_connection(rows, request, ordering, key, convert, query, has_next, has_previous)
    page.compiled = convert is _same
    return page


async def _models(query: QuerySet[Any]) -> list[Any]:
    return await query


def _same(row: Any) -> Any:
    return row


def _keyset_connection(
    rows: list[Any],
    request: PageRequest,
    ordering: Ordering,
    key: bytes,
    convert: Callable[[Any], T],
    query: Any,
    has_next: bool,
    has_previous: bool,
    known_total: int | None = None,
) -> Connection[T]:
    list_name, sort = request.list_name, ordering.key
    values_of = partial(row_values, ordering=ordering)
    edges: list[Edge[T]] = [
        SignedEdge(convert(row), row, values_of, key, list_name, sort) for row in rows
    ]
    if known_total is None and not has_next and not has_previous and request.size() > 0:
        known_total = len(edges)  # the page is the whole list
    return Connection(
        edges=edges,
        page_info=edges_page_info(edges, has_next=has_next, has_previous=has_previous),
        count_query=query,
        known_total=known_total,
        count_cap=request.count_cap,
        handles_backward=True,
    )


class SignedEdge(Edge[Any]):
    """An edge whose keyset cursor is made and signed when it is read (most pages select
    only the nodes, and the HMAC of each would be wasted): `values_of(source)` gives the
    cursor's values, `source` being what the edge was made from (a row, a sort key, a hit's
    position)."""

    def __init__(
        self,
        node: Any,
        source: Any,
        values_of: Callable[[Any], list[Any]],
        key: bytes,
        list_name: str,
        sort: str,
    ) -> None:
        self.node = node
        self._source = (source, values_of, key, list_name, sort)
        self._cursor: str | None = None

    @property  # type: ignore[override]
    def cursor(self) -> str:
        """The signed keyset cursor of this edge's source."""
        if self._cursor is None:
            source, values_of, key, list_name, sort = self._source
            self._cursor = encode_keyset(key, list_name, sort, values_of(source))
        return self._cursor


def _offset_after(after: str | None) -> int:
    if after is not None and is_keyset(after):
        raise CursorMismatch("a keyset cursor given to a list that pages by position")
    return decode_cursor(after) + 1 if after is not None else 0


async def _offset_page(
    query: QuerySet[Any],
    request: PageRequest,
    ordering: Ordering,
    key: bytes,
    size: int,
    convert: Callable[[Any], T],
    read: Callable[[QuerySet[Any]], Awaitable[list[Any]]],
) -> Connection[T]:
    """A page by position, for offset cursors handed out before keyset cursors."""
    if any(c is not None and is_keyset(c) for c in (request.after, request.before)):
        raise BadPagination("after and before must be cursors of the same kind")
    start = _offset_after(request.after)
    end = decode_cursor(request.before) if request.before is not None else None
    if request.backward and end is not None:
        start = max(start, end - size)
    limit = size + 1 if end is None else max(0, min(size, end - start))
    sliced = ordered(query, ordering, reverse=False).offset(start).limit(limit)
    rows = await read(sliced) if limit else []
    more = len(rows) > size
    rows = rows[:size]
    # Before an offset cursor, its item (at least) follows the page.
    has_next = more or end is not None
    # A non-empty page without a next one ends the list: the total is its end.
    total = start + len(rows) if rows and not has_next else None
    return _keyset_connection(
        rows, request, ordering, key, convert, query, has_next, start > 0, total
    )


def _positional(
    rows: Sequence[Any],
    request: PageRequest,
    size: int,
    convert: Callable[[Any], T],
    query: Any,
) -> Connection[T]:
    start = _offset_after(request.after)
    has_next = len(rows) > size
    edges = [
        Edge(cursor=encode_cursor(start + i), node=convert(r)) for i, r in enumerate(rows[:size])
    ]
    return Connection(
        edges=edges,
        page_info=edges_page_info(edges, has_next=has_next, has_previous=start > 0),
        count_query=query,
        # A non-empty page without a next one ends the list: the total is its end.
        known_total=start + len(edges) if edges and not has_next else None,
        count_cap=request.count_cap,
    )
