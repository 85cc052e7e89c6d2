"""Event resolvers: create, update, delete and list events, and their attendees."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.dataloader import DataLoader

from deskql.resolvers.activities.common import _changes, _event, _filter_id, _opt
from deskql.resolvers.common import mutate, page
from deskql.schema.connections import (
    Connection,
)
from deskql.schema.context import actor_of
from deskql.schema.ids import input_id, input_ids, optional_input_id
from deskql.schema.tickets import SortDirection
from deskql.schema.types import Agent
from deskql.services.activities import events
from deskql.services.activities.common import UNCHANGED

if TYPE_CHECKING:
    from deskql.schema.activities.inputs import (
        EventCreateInput,
        EventFilter,
        EventIdInput,
        EventPayload,
        EventSort,
        EventUpdateInput,
    )
    from deskql.schema.activities.types import Event


# -- events -----------------------------------------------------------------------------------


async def event_create(info: strawberry.Info, input: EventCreateInput) -> EventPayload:
    """`eventCreate`."""
    from deskql.schema.activities.inputs import EventPayload

    async def run() -> dict[str, Any]:
        row = await events.create_event(
            actor_of(info),
            title=input.title,
            starts_at=input.starts_at,
            ends_at=input.ends_at,
            description=input.description,
            location=input.location,
            owner_id=optional_input_id(input.owner_id, "Agent", "ownerId"),
            attendee_ids=input_ids(input.attendee_ids, "Agent", "attendeeIds"),
            reminder_at=input.reminder_at,
            department_id=optional_input_id(input.department_id, "Department", "departmentId"),
            ticket_id=optional_input_id(input.ticket_id, "Ticket", "ticketId"),
            contact_id=optional_input_id(input.contact_id, "Contact", "contactId"),
            account_id=optional_input_id(input.account_id, "Account", "accountId"),
        )
        return {"event": _event(row)}

    return await mutate(EventPayload, run)


async def event_update(info: strawberry.Info, input: EventUpdateInput) -> EventPayload:
    """`eventUpdate`."""
    from deskql.schema.activities.inputs import EventPayload

    async def run() -> dict[str, Any]:
        values = _changes(
            input,
            {
                "title": "title",
                "description": "description",
                "location": "location",
                "starts_at": "starts_at",
                "ends_at": "ends_at",
                "reminder_at": "reminder_at",
            },
        )
        attendees: Any = UNCHANGED
        if input.attendee_ids is not strawberry.UNSET and input.attendee_ids is not None:
            attendees = input_ids(input.attendee_ids, "Agent", "attendeeIds")
        row = await events.update_event(
            actor_of(info),
            event_id=input_id(input.id, "Event", "id"),
            owner_id=_opt(input.owner_id, "Agent", "ownerId"),
            attendee_ids=attendees,
            **values,
        )
        return {"event": _event(row)}

    return await mutate(EventPayload, run)


async def event_delete(info: strawberry.Info, input: EventIdInput) -> EventPayload:
    """`eventDelete`."""
    from deskql.schema.activities.inputs import EventPayload

    async def run() -> dict[str, Any]:
        row = await events.delete_event(actor_of(info), event_id=input_id(input.id, "Event", "id"))
        return {"event": _event(row)}

    return await mutate(EventPayload, run)


async def event_list(
    info: strawberry.Info,
    *,
    filter: EventFilter | None,
    sort: EventSort | None,
    first: int | None,
    after: str | None,
    **links: int | None,
) -> Connection[Event]:
    """`events`, and the event lists of tickets, contacts and accounts."""
    kwargs: dict[str, Any] = {}
    f = filter
    if f is not None:
        kwargs = {
            "owner_id": _filter_id(f.owner_id, "Agent"),
            "attendee_id": _filter_id(f.attendee_id, "Agent"),
            "starts_before": f.starts_before,
            "starts_after": f.starts_after,
            "upcoming": f.upcoming,
            "ticket_id": _filter_id(f.ticket_id, "Ticket"),
            "contact_id": _filter_id(f.contact_id, "Contact"),
            "account_id": _filter_id(f.account_id, "Account"),
        }
    kwargs.update({k: v for k, v in links.items() if v is not None})
    if sort is not None:
        kwargs["sort"] = sort.field.value
        kwargs["descending"] = sort.direction is SortDirection.DESC
    query = events.list_events(actor_of(info), **kwargs)
    return await page(info, query, first=first, after=after, convert=_event)


def _attendee_loader(info: strawberry.Info) -> DataLoader[int, list[int]]:
    # Kept on the request's Loaders object: a page of events asks once for all attendees.
    loaders = info.context.loaders
    loader = getattr(loaders, "_event_attendees", None)
    if loader is None:

        async def load(keys: Sequence[int]) -> list[list[int]]:
            found = await events.attendee_ids(list(set(keys)))
            return [found[k] for k in keys]

        loader = DataLoader(load_fn=load)
        loaders._event_attendees = loader
    return loader


async def attendees(info: strawberry.Info, event_pk: int) -> list[Agent]:
    """`Event.attendees` (batched per request)."""
    ids = await _attendee_loader(info).load(event_pk)
    return [a for a in await info.context.loaders.agent.load_many(ids) if a is not None]
