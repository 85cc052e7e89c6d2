"""Overview, attachments and ticket status at the time (CUS-3, CUS-4): batched loaders."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader

from deskql.models.enums import TicketStatus
from deskql.resolvers.common import page
from deskql.schema.connections import Connection
from deskql.schema.context import actor_of
from deskql.schema.customer_overview import CustomerOverview, TicketStatusCount
from deskql.schema.lookahead import node_selection
from deskql.schema.types import Attachment
from deskql.services import customer_overview as svc


def _loader(info: strawberry.Info, name: str, build: Any) -> DataLoader[Any, Any]:
    """A loader kept for the request (its context), built on first use."""
    cache: dict[str, DataLoader[Any, Any]] = info.context.__dict__.setdefault(
        "_customer_loaders", {}
    )
    if name not in cache:
        cache[name] = build()
    return cache[name]


def _to_object(item: svc.Overview) -> CustomerOverview:
    return CustomerOverview(
        total_tickets=item.total,
        tickets_by_status=[
            TicketStatusCount(status=TicketStatus(status), count=count)
            for status, count in sorted(item.by_status.items())
        ],
        open_tickets=item.awaiting_reply,
        overdue_tickets=item.overdue,
        last_contacted_at=item.last_contacted_at,
        average_rating=item.average_rating,
        rating_count=item.rating_count,
    )


def _overview_loader(info: strawberry.Info, kind: str) -> DataLoader[int, CustomerOverview]:
    actor = actor_of(info)

    def build() -> DataLoader[int, CustomerOverview]:
        async def load(keys: Sequence[int]) -> list[CustomerOverview]:
            found = await svc.overviews(actor, kind=kind, ids=keys)
            return [_to_object(found[k]) for k in keys]

        return DataLoader(load_fn=load)

    return _loader(info, f"overview:{kind}", build)


def _primed(info: strawberry.Info, kind: str) -> dict[int, CustomerOverview]:
    primed: dict[str, dict[int, CustomerOverview]] = info.context.__dict__.setdefault(
        "_primed_overviews", {}
    )
    return primed.setdefault(kind, {})


def overview(info: strawberry.Info, *, kind: str, pk: int) -> Any:
    """`Contact.overview` / `Account.overview`: every record of the request in one statement;
    the value itself when the list primed it (no await per record), else an awaitable."""
    found = _primed(info, kind).get(pk)
    if found is not None:
        return found
    return _overview_loader(info, kind).load(pk)


async def prime_overviews(info: strawberry.Info, *, kind: str, pks: list[int]) -> None:
    """Load the overviews of a page of contacts or accounts before their fields resolve, when
    the query selects `overview` on the page's nodes (no loader futures per record)."""
    if pks and "overview" in node_selection(info):
        found = await svc.overviews(actor_of(info), kind=kind, ids=pks)
        _primed(info, kind).update({pk: _to_object(item) for pk, item in found.items()})


async def attachments(
    info: strawberry.Info, *, kind: str, pk: int, first: int | None, after: str | None
) -> Connection[Attachment]:
    """`Contact.attachments` / `Account.attachments`: a page."""
    query = svc.attachments(actor_of(info), kind=kind, owner_id=pk)
    return await page(info, query, first=first, after=after, convert=Attachment.from_row)


async def ticket_status(info: strawberry.Info, *, activity_pk: int, ticket_pk: int) -> Any:
    """`Activity.ticketStatus`: the statuses of a page of activities in two statements."""

    def build() -> DataLoader[tuple[int, int], str | None]:
        async def load(keys: Sequence[tuple[int, int]]) -> list[str | None]:
            found = await svc.ticket_status_at(list(keys))
            return [found.get(k[0]) for k in keys]

        return DataLoader(load_fn=load)

    status = await _loader(info, "ticket_status", build).load((activity_pk, ticket_pk))
    return TicketStatus(status) if status in TicketStatus.__members__ else None
