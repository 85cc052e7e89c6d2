"""Duplicate groups (CUS-5): decode arguments, call services.duplicates, build connections.

Groups page by keyset on their key, a group's members by keyset on their id (signed cursors,
schema/loaded_pages.py), forward with first/after and backward with last/before; offset
cursors handed out before still page forward by position.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader

from deskql.schema.connections import Connection, CursorMismatch, SignedEdge, edges_page_info
from deskql.schema.context import actor_of
from deskql.schema.cursors import cursor_key, decode_cursor, is_keyset
from deskql.schema.loaded_pages import cursor_values
from deskql.schema.page_request import PageRequest
from deskql.schema.types import Account, Contact
from deskql.services import duplicates as svc


@dataclass
class _GroupCount:
    """totalCount of a page of groups: one COUNT statement, only when asked."""

    actor: Any
    kind: str
    field: str

    async def count(self) -> int:
        return await svc.count_groups(self.actor, kind=self.kind, field=self.field)


def _window(request: PageRequest, sort: str, value: type) -> svc.Window:
    """The page the arguments ask for, one row more than the page to tell if more follow."""
    size = request.size()
    after = before = None
    offset = 0
    if request.after is not None:
        if is_keyset(request.after):
            (after,) = cursor_values(request, sort, request.after, (value,))
        else:
            offset = decode_cursor(request.after) + 1
    if request.before is not None:
        if not is_keyset(request.before):
            raise CursorMismatch("offset cursors page forward only: pass a keyset cursor")
        (before,) = cursor_values(request, sort, request.before, (value,))
    if offset and request.backward:
        raise CursorMismatch("offset cursors page forward only: pass a keyset cursor")
    return svc.Window(size + 1, after, before, request.backward, offset)


def _connection(
    items: list[Any],
    window: svc.Window,
    request: PageRequest,
    sort: str,
    key: Callable[[Any], Any],
    count_query: Any,
) -> Connection[Any]:
    size = window.limit - 1
    more = len(items) > size
    # A backward window came in ascending order with its extra row first.
    chosen = items[-size:] if window.backward and more else items[:size]
    if not size:
        chosen = []
    signing, name = cursor_key(request.settings), request.list_name
    edges = [SignedEdge(item, [key(item)], list, signing, name, sort) for item in chosen]
    after = window.after is not None or window.offset > 0
    has_next = (more and not window.backward) or window.before is not None
    has_previous = (more and window.backward) or after
    whole = not has_next and not has_previous and size > 0
    return Connection(
        edges=edges,
        page_info=edges_page_info(edges, has_next=has_next, has_previous=has_previous),
        count_query=count_query,
        known_total=len(edges) if whole else None,
        handles_backward=True,
    )


async def groups(
    info: strawberry.Info,
    *,
    kind: str,
    field: str,
    first: int | None,
    after: str | None,
    convert: Any,
) -> Connection[Any]:
    """A page of duplicate groups of contacts or accounts."""
    actor = actor_of(info)
    request = PageRequest.of(info, first, after)
    sort = f"key:{field}"
    window = _window(request, sort, str)
    found = (
        await svc.groups(actor, kind=kind, field=field, window=window) if window.limit > 1 else []
    )
    groups = [convert(g) for g in found]
    return _connection(
        groups, window, request, sort, lambda g: g.group.key, _GroupCount(actor, kind, field)
    )


def _member_loader(info: strawberry.Info, kind: str, field: str, window: svc.Window) -> Any:
    """One loader per (kind, field, window) in the request: the members of every group of a
    page load in one statement."""
    cache: dict[tuple[Any, ...], DataLoader[str, list[Any]]] = info.context.__dict__.setdefault(
        "_duplicate_members", {}
    )
    key = (kind, field, window)
    if key not in cache:

        async def load(keys: Sequence[str]) -> list[list[Any]]:
            rows = await svc.members(kind=kind, field=field, keys=list(keys), window=window)
            return [rows.get(k, []) for k in keys]

        cache[key] = DataLoader(load_fn=load)
    return cache[key]


@dataclass
class _MemberCount:
    value: int

    async def count(self) -> int:
        return self.value


async def members(
    info: strawberry.Info,
    group: svc.Group,
    *,
    first: int | None,
    after: str | None,
) -> Connection[Any]:
    """A page of a group's members, by id."""
    request = PageRequest.of(info, first, after)
    window = _window(request, "id", int)
    loader = _member_loader(info, group.kind, group.field, window)
    rows = await loader.load(group.key) if window.limit > 1 else []
    convert = Contact.from_row if group.kind == "contact" else Account.from_row
    nodes = [convert(r) for r in rows]
    return _connection(nodes, window, request, "id", lambda n: n.pk, _MemberCount(group.count))
