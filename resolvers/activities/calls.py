"""Call resolvers: create, update, delete, dial and list calls; an agent's telephony."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from deskql.resolvers.activities.common import _call, _changes, _filter_id, _opt
from deskql.resolvers.common import mutate, page
from deskql.schema.connections import (
    Connection,
)
from deskql.schema.context import actor_of
from deskql.schema.ids import input_id, optional_input_id
from deskql.schema.tickets import SortDirection
from deskql.schema.types import Agent
from deskql.services.activities import calls, dial

if TYPE_CHECKING:
    from deskql.schema.activities.inputs import (
        AgentTelephonyPayload,
        AgentTelephonyUpdateInput,
        CallCreateInput,
        CallDialInput,
        CallFilter,
        CallIdInput,
        CallPayload,
        CallSort,
        CallUpdateInput,
    )
    from deskql.schema.activities.types import Call


# -- calls ------------------------------------------------------------------------------------


async def call_create(info: strawberry.Info, input: CallCreateInput) -> CallPayload:
    """`callCreate`."""
    from deskql.schema.activities.inputs import CallPayload

    async def run() -> dict[str, Any]:
        row = await calls.create_call(
            actor_of(info),
            direction=input.direction,
            number=input.number,
            started_at=input.started_at,
            duration_seconds=input.duration_seconds,
            agent_id=optional_input_id(input.agent_id, "Agent", "agentId"),
            outcome=input.outcome,
            recording_url=input.recording_url,
            notes=input.notes,
            department_id=optional_input_id(input.department_id, "Department", "departmentId"),
            ticket_id=optional_input_id(input.ticket_id, "Ticket", "ticketId"),
            contact_id=optional_input_id(input.contact_id, "Contact", "contactId"),
            account_id=optional_input_id(input.account_id, "Account", "accountId"),
            region=info.context.settings.telephony_default_region,
        )
        return {"call": _call(row)}

    return await mutate(CallPayload, run)


async def call_update(info: strawberry.Info, input: CallUpdateInput) -> CallPayload:
    """`callUpdate`."""
    from deskql.schema.activities.inputs import CallPayload

    async def run() -> dict[str, Any]:
        values = _changes(
            input,
            {
                "outcome": "outcome",
                "duration_seconds": "duration_seconds",
                "recording_url": "recording_url",
                "notes": "notes",
            },
        )
        row = await calls.update_call(
            actor_of(info),
            call_id=input_id(input.id, "Call", "id"),
            ticket_id=_opt(input.ticket_id, "Ticket", "ticketId"),
            contact_id=_opt(input.contact_id, "Contact", "contactId"),
            account_id=_opt(input.account_id, "Account", "accountId"),
            **values,
        )
        return {"call": _call(row)}

    return await mutate(CallPayload, run)


async def call_delete(info: strawberry.Info, input: CallIdInput) -> CallPayload:
    """`callDelete`."""
    from deskql.schema.activities.inputs import CallPayload

    async def run() -> dict[str, Any]:
        row = await calls.delete_call(actor_of(info), call_id=input_id(input.id, "Call", "id"))
        return {"call": _call(row)}

    return await mutate(CallPayload, run)


async def call_dial(info: strawberry.Info, input: CallDialInput) -> CallPayload:
    """`callDial`."""
    from deskql.schema.activities.inputs import CallPayload

    async def run() -> dict[str, Any]:
        row = await dial.dial(
            actor_of(info),
            info.context.settings,
            contact_id=optional_input_id(input.contact_id, "Contact", "contactId"),
            number=input.number,
            ticket_id=optional_input_id(input.ticket_id, "Ticket", "ticketId"),
            department_id=optional_input_id(input.department_id, "Department", "departmentId"),
        )
        return {"call": _call(row)}

    return await mutate(CallPayload, run)


async def call_list(
    info: strawberry.Info,
    *,
    filter: CallFilter | None,
    sort: CallSort | None,
    first: int | None,
    after: str | None,
    **links: int | None,
) -> Connection[Call]:
    """`calls`, and the call lists of tickets, contacts and accounts."""
    kwargs: dict[str, Any] = {}
    f = filter
    if f is not None:
        kwargs = {
            "agent_id": _filter_id(f.agent_id, "Agent"),
            "direction": f.direction,
            "outcome": f.outcome,
            "started_before": f.started_before,
            "started_after": f.started_after,
            "ticket_id": _filter_id(f.ticket_id, "Ticket"),
            "contact_id": _filter_id(f.contact_id, "Contact"),
            "account_id": _filter_id(f.account_id, "Account"),
        }
    kwargs.update({k: v for k, v in links.items() if v is not None})
    if sort is not None:
        kwargs["sort"] = sort.field.value
        kwargs["descending"] = sort.direction is SortDirection.DESC
    query = calls.list_calls(actor_of(info), **kwargs)
    return await page(info, query, first=first, after=after, convert=_call)


async def agent_telephony_update(
    info: strawberry.Info, input: AgentTelephonyUpdateInput
) -> AgentTelephonyPayload:
    """`agentTelephonyUpdate`."""
    from deskql.schema.activities.inputs import AgentTelephonyPayload

    async def run() -> dict[str, Any]:
        row = await dial.update_telephony_profile(
            actor_of(info),
            info.context.settings,
            agent_id=optional_input_id(input.agent_id, "Agent", "agentId"),
            extension=input.extension,
            phone_number=input.phone_number,
        )
        return {"agent": Agent.from_row(row)}

    return await mutate(AgentTelephonyPayload, run)
