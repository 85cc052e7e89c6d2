"""Duplicate groups (CUS-5): decode arguments, call services.duplicates, build connections."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader

from deskql.schema.connections import (
    Connection,
    Edge,
    PageInfo,
    check_first,
    decode_cursor,
    encode_cursor,
)
from deskql.schema.context import actor_of
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


def _connection(items: list[Any], start: int, size: int, count_query: Any) -> Connection[Any]:
    has_next = len(items) > size
    edges = [Edge(cursor=encode_cursor(start + i), node=n) for i, n in enumerate(items[:size])]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=start > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count_query=count_query,
        known_total=start + len(edges) if edges and not has_next else None,
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
    size = check_first(first, info.context.settings.max_page_size)
    start = decode_cursor(after) + 1 if after else 0
    found = (
        await svc.groups(actor, kind=kind, field=field, offset=start, limit=size + 1)
        if size
        else []
    )
    return _connection([convert(g) for g in found], start, size, _GroupCount(actor, kind, field))


def _member_loader(info: strawberry.Info, kind: str, field: str, start: int, size: int) -> Any:
    """One loader per (kind, field, page) in the request: the members of every group of a page
    load in one statement."""
    cache: dict[tuple[Any, ...], DataLoader[str, list[Any]]] = info.context.__dict__.setdefault(
        "_duplicate_members", {}
    )
    key = (kind, field, start, size)
    if key not in cache:

        async def load(keys: Sequence[str]) -> list[list[Any]]:
            rows = await svc.members(
                kind=kind, field=field, keys=list(keys), offset=start, limit=size + 1
            )
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
    size = check_first(first, info.context.settings.max_page_size)
    start = decode_cursor(after) + 1 if after else 0
    rows = (
        await _member_loader(info, group.kind, group.field, start, size).load(group.key)
        if size
        else []
    )
    convert = Contact.from_row if group.kind == "contact" else Account.from_row
    return _connection([convert(r) for r in rows], start, size, _MemberCount(group.count))
