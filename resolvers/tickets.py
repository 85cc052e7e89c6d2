"""Ticket resolvers: decode ids and enums, call services.tickets, build payloads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from deskql.resolvers.common import given, mutate, page
from deskql.schema.connections import Connection
from deskql.schema.context import actor_of
from deskql.schema.ids import decode_id, from_global_id, input_id, optional_input_id
from deskql.schema.lookahead import node_selection, prime_tickets
from deskql.schema.types import Comment, Ticket
from deskql.services import tickets as svc
from deskql.services.errors import ClientError, ErrorCode, ValidationFailed

if TYPE_CHECKING:
    from deskql.schema.tickets import (
        CommentAddInput,
        TicketCreateInput,
        TicketDeleteInput,
        TicketFilter,
        TicketSort,
        TicketTagRemoveInput,
        TicketTagsAddInput,
        TicketUpdateInput,
    )


def assignee_ids(global_id: str | None, field: str = "assigneeId") -> tuple[int | None, int | None]:
    """Split an assignee id into (agent pk, team pk)."""
    if global_id is None:
        return None, None
    try:
        type_name, pk = from_global_id(global_id)
    except Exception as exc:
        raise ValidationFailed.one(field, str(exc), ErrorCode.INVALID) from None
    if type_name == "Agent":
        return pk, None
    if type_name == "Team":
        return None, pk
    raise ValidationFailed.one(
        field,
        f"id {global_id!r} is a {type_name} id; expected an Agent or Team id",
        ErrorCode.INVALID,
    )


async def ticket(info: strawberry.Info, *, id: str | None, number: int | None) -> Ticket | None:
    """`ticket(id|number)`: null when absent or not visible."""
    actor = actor_of(info)
    if id is None and number is None:
        raise ClientError("ticket needs an id or a number")
    row = await svc.get_ticket(
        actor, ticket_id=decode_id(id, "Ticket") if id is not None else None, number=number
    )
    return Ticket.from_row(row) if row else None


def ticket_filter(flt: TicketFilter | None) -> svc.TicketFilter:
    """The service filter a TicketFilter input describes; InvalidId for a malformed id."""
    if flt is None:
        return svc.TicketFilter()
    agents: list[int] = []
    teams: list[int] = []
    for gid in flt.assignee_ids or []:
        type_name, pk = from_global_id(gid)
        if type_name == "Agent":
            agents.append(pk)
        else:
            teams.append(decode_id(gid, "Team"))
    return svc.TicketFilter(
        statuses=flt.status or [],
        priorities=flt.priority or [],
        channels=flt.channel or [],
        department_ids=[decode_id(g, "Department") for g in flt.department_ids or []],
        assignee_agent_ids=agents,
        assignee_team_ids=teams,
        unassigned=flt.unassigned,
        contact_id=decode_id(flt.contact_id, "Contact") if flt.contact_id else None,
        account_id=decode_id(flt.account_id, "Account") if flt.account_id else None,
        product_id=decode_id(flt.product_id, "Product") if flt.product_id else None,
        tag=flt.tag,
        overdue=flt.overdue,
        created_after=flt.created_after,
        created_before=flt.created_before,
        text=flt.text,
        is_spam=flt.is_spam,
    )


async def tickets(
    info: strawberry.Info,
    *,
    filter: TicketFilter | None,
    sort: TicketSort | None,
    first: int | None,
    after: str | None,
    view_id: str | None = None,
) -> Connection[Ticket]:
    """`tickets`: a page of visible tickets, of a view when `view_id` is given."""
    actor = actor_of(info)
    if view_id is not None:
        from deskql.resolvers import views

        query = await views.tickets_in_view(info, view_id, filter=filter, sort=sort)
    else:
        sort_field = sort.field.value if sort else "CREATED_AT"
        desc = sort.direction.value == "DESC" if sort else True
        query = svc.list_tickets(actor, ticket_filter(filter), sort=sort_field, desc=desc)
    result = await page(info, query, first=first, after=after, convert=Ticket.from_row)
    if result.compiled:
        return result
    # Load what the client selects for the whole page now, level by level.
    await prime_tickets(
        info.context.loaders, [edge.node for edge in result.edges], node_selection(info)
    )
    return result


async def ticket_create(info: strawberry.Info, input: TicketCreateInput) -> Any:
    """`ticketCreate`."""
    from deskql.schema.tickets import TicketPayload

    async def run() -> dict[str, Any]:
        agent_pk, team_pk = assignee_ids(input.assignee_id)
        row = await svc.create_ticket(
            actor_of(info),
            subject=input.subject,
            description=input.description,
            department_id=input_id(input.department_id, "Department", "departmentId"),
            contact_id=optional_input_id(input.contact_id, "Contact", "contactId"),
            contact_email=input.contact_email,
            contact_name=input.contact_name,
            account_id=optional_input_id(input.account_id, "Account", "accountId"),
            product_id=optional_input_id(input.product_id, "Product", "productId"),
            status=input.status,
            priority=input.priority,
            channel=input.channel,
            due_at=input.due_at,
            assignee_agent_id=agent_pk,
            assignee_team_id=team_pk,
            tags=input.tags,
            ticket_template_id=optional_input_id(
                input.ticket_template_id, "TicketTemplate", "ticketTemplateId"
            ),
        )
        return {"ticket": Ticket.from_row(row)}

    return await mutate(TicketPayload, run)


_UPDATE_FIELDS = {
    "subject": "subject",
    "description": "description",
    "status": "status",
    "priority": "priority",
    "channel": "channel",
    "due_at": "due_at",
}
_UPDATE_REFS = {
    "department_id": ("department_id", "Department", "departmentId"),
    "contact_id": ("contact_id", "Contact", "contactId"),
    "account_id": ("account_id", "Account", "accountId"),
    "product_id": ("product_id", "Product", "productId"),
}


async def ticket_update(info: strawberry.Info, input: TicketUpdateInput) -> Any:
    """`ticketUpdate`."""
    from deskql.schema.tickets import TicketPayload

    async def run() -> dict[str, Any]:
        changes = given(input, _UPDATE_FIELDS)
        for attr, (kwarg, type_name, field) in _UPDATE_REFS.items():
            value = getattr(input, attr)
            if value is not strawberry.UNSET:
                changes[kwarg] = optional_input_id(value, type_name, field)
        if input.assignee_id is not strawberry.UNSET:
            agent_pk, team_pk = assignee_ids(input.assignee_id)
            changes["assignee_agent_id"] = agent_pk
            changes["assignee_team_id"] = team_pk
        row = await svc.update_ticket(
            actor_of(info),
            ticket_id=input_id(input.id, "Ticket", "id"),
            version=input.version,
            changes=changes,
        )
        return {"ticket": Ticket.from_row(row)}

    return await mutate(TicketPayload, run)


async def ticket_delete(info: strawberry.Info, input: TicketDeleteInput) -> Any:
    """`ticketDelete`."""
    from deskql.schema.tickets import TicketPayload

    async def run() -> dict[str, Any]:
        row = await svc.delete_ticket(actor_of(info), ticket_id=input_id(input.id, "Ticket", "id"))
        return {"ticket": Ticket.from_row(row)}

    return await mutate(TicketPayload, run)


async def ticket_tags_add(info: strawberry.Info, input: TicketTagsAddInput) -> Any:
    """`ticketTagsAdd`."""
    from deskql.schema.tickets import TicketPayload

    async def run() -> dict[str, Any]:
        row = await svc.add_tags(
            actor_of(info),
            ticket_id=input_id(input.ticket_id, "Ticket", "ticketId"),
            names=input.tags,
        )
        return {"ticket": Ticket.from_row(row)}

    return await mutate(TicketPayload, run)


async def ticket_tag_remove(info: strawberry.Info, input: TicketTagRemoveInput) -> Any:
    """`ticketTagRemove`."""
    from deskql.schema.tickets import TicketPayload

    async def run() -> dict[str, Any]:
        row = await svc.remove_tag(
            actor_of(info),
            ticket_id=input_id(input.ticket_id, "Ticket", "ticketId"),
            name=input.tag,
        )
        return {"ticket": Ticket.from_row(row)}

    return await mutate(TicketPayload, run)


async def comment_add(info: strawberry.Info, input: CommentAddInput) -> Any:
    """`commentAdd`."""
    from deskql.schema.tickets import CommentAddPayload

    async def run() -> dict[str, Any]:
        actor = actor_of(info)
        ticket_id = input_id(input.ticket_id, "Ticket", "ticketId")
        comment = await svc.add_comment(
            actor, ticket_id=ticket_id, body=input.body, is_public=input.is_public
        )
        row = await svc.get_ticket(actor, ticket_id=ticket_id)
        return {
            "comment": Comment.from_row(comment),
            "ticket": Ticket.from_row(row) if row else None,
        }

    return await mutate(CommentAddPayload, run)
