"""Ticket view and detail view resolvers: decode view ids and criteria, call services.views."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from deskql import models
from deskql.resolvers.common import mutate, page
from deskql.resolvers.tickets import ticket_filter
from deskql.schema.connections import (
    Connection,
)
from deskql.schema.context import actor_of
from deskql.schema.ids import InvalidId, decode_id, to_global_id
from deskql.schema.loaded_pages import list_page, own_key, with_nodes
from deskql.schema.lookahead import node_selection, prime, prime_tickets
from deskql.schema.page_request import PageRequest
from deskql.schema.types import Comment, Thread, Ticket
from deskql.services import tickets as tickets_svc
from deskql.services import views as svc
from deskql.services.errors import ErrorCode, ValidationFailed

if TYPE_CHECKING:
    from deskql.schema.tickets import TicketFilter, TicketSort
    from deskql.schema.views import (
        TicketView,
        TicketViewCreateInput,
        TicketViewDeleteInput,
        TicketViewUpdateInput,
    )

STANDARD_PREFIX = "standard:"


def parse_view_id(view_id: str) -> svc.StandardView | int:
    """`standard:<NAME>` or a TicketView global id; InvalidId when it is neither."""
    if view_id.startswith(STANDARD_PREFIX):
        name = view_id[len(STANDARD_PREFIX) :]
        try:
            return svc.StandardView(name)
        except ValueError:
            raise InvalidId(f"no standard ticket view {name[:40]!r}") from None
    return decode_id(view_id, "TicketView")


def _input_view_id(view_id: str) -> svc.StandardView | int:
    try:
        return parse_view_id(view_id)
    except InvalidId as exc:
        raise ValidationFailed.one("id", str(exc), ErrorCode.INVALID) from None


def _view_id(view: svc.View) -> str:
    if view.standard is not None:
        return f"{STANDARD_PREFIX}{view.standard.value}"
    assert view.row is not None
    return to_global_id("TicketView", view.row.id)


def criteria_out(flt: tickets_svc.TicketFilter) -> dict[str, Any]:
    """A service filter in the shape of the TicketFilter input, with global ids."""
    out: dict[str, Any] = {}
    if flt.statuses:
        out["status"] = [s.name for s in flt.statuses]
    if flt.priorities:
        out["priority"] = [p.name for p in flt.priorities]
    if flt.channels:
        out["channel"] = [c.name for c in flt.channels]
    if flt.department_ids:
        out["departmentIds"] = [to_global_id("Department", pk) for pk in flt.department_ids]
    assignees = [to_global_id("Agent", pk) for pk in flt.assignee_agent_ids] + [
        to_global_id("Team", pk) for pk in flt.assignee_team_ids
    ]
    if assignees:
        out["assigneeIds"] = assignees
    for key, type_name, value in (
        ("contactId", "Contact", flt.contact_id),
        ("accountId", "Account", flt.account_id),
        ("productId", "Product", flt.product_id),
    ):
        if value is not None:
            out[key] = to_global_id(type_name, value)
    for key, value in (("tag", flt.tag), ("text", flt.text)):
        if value is not None:
            out[key] = value
    for key, when in (("createdAfter", flt.created_after), ("createdBefore", flt.created_before)):
        if when is not None:
            out[key] = when.isoformat()
    for key, flag in (
        ("unassigned", flt.unassigned),
        ("overdue", flt.overdue),
        ("isSpam", flt.is_spam),
    ):
        if flag is not None or key == "isSpam":
            out[key] = flag
    return out


def _to_type(view: svc.View, count: int | None = None) -> TicketView:
    from deskql.schema.tickets import SortDirection, TicketSortField
    from deskql.schema.views import TicketView, TicketViewSort

    return TicketView(
        id=strawberry.ID(_view_id(view)),
        name=view.name,
        standard=view.standard,
        is_shared=view.standard is not None or bool(view.row and view.row.is_shared),
        criteria=criteria_out(view.flt),
        sort=TicketViewSort(
            field=TicketSortField(view.sort),
            direction=SortDirection.DESC if view.desc else SortDirection.ASC,
        ),
        owner_pk=view.row.owner_id if view.row else None,  # type: ignore[attr-defined]
        view=view,
        count=count,
    )


# The standard views in their order, then the saved ones by id (svc.list_views' order).
_STANDARD_ORDER = {view: i for i, view in enumerate(svc.StandardView)}


def _view_key(view: svc.View) -> tuple[int, int]:
    if view.standard is not None:
        return (0, _STANDARD_ORDER[view.standard])
    return (1, view.row_id or 0)


def _selects_count(info: strawberry.Info) -> bool:
    return "ticketCount" in node_selection(info)


async def ticket_views(
    info: strawberry.Info, *, first: int | None, after: str | None
) -> Connection[TicketView]:
    """`ticketViews`: a page of views with their counts (one statement for the page's counts,
    if asked)."""
    actor = actor_of(info)
    views = list_page(
        await svc.list_views(actor),
        PageRequest.of(info, first, after),
        key=_view_key,
        sort="standard,id",
    )
    chosen = [e.node for e in views.edges]
    counts = await svc.count_views(actor, chosen) if _selects_count(info) else {}
    for edge in views.edges:
        edge.node = _to_type(edge.node, counts.get(edge.node.key))
    return views


async def ticket_view(info: strawberry.Info, view_id: str) -> TicketView | None:
    """`ticketView(id)`: null when absent or another agent's private view."""
    try:
        view = await svc.get_view(actor_of(info), view=parse_view_id(view_id))
    except svc.ViewNotFound:
        return None
    return _to_type(view)


async def ticket_count(info: strawberry.Info, view: svc.View) -> int:
    """`TicketView.ticketCount` outside `ticketViews`: one COUNT for this view."""
    return (await svc.count_views(actor_of(info), [view]))[view.key]


async def tickets_in_view(
    info: strawberry.Info,
    view_id: str,
    *,
    filter: TicketFilter | None,
    sort: TicketSort | None,
) -> Any:
    """The query of `tickets(viewId:)`: NOT_FOUND for a view the caller may not use."""
    actor = actor_of(info)
    view = await svc.get_view(actor, view=parse_view_id(view_id))
    return svc.view_tickets(
        actor,
        view=view,
        narrow=ticket_filter(filter) if filter is not None else None,
        sort=sort.field.value if sort else None,
        desc=sort.direction.value == "DESC" if sort else None,
    )


def _criteria(criteria: TicketFilter | None) -> tickets_svc.TicketFilter:
    try:
        return ticket_filter(criteria)
    except InvalidId as exc:
        raise ValidationFailed.one("criteria", str(exc), ErrorCode.INVALID) from None


async def ticket_view_create(info: strawberry.Info, input: TicketViewCreateInput) -> Any:
    """`ticketViewCreate`."""
    from deskql.schema.views import TicketViewPayload

    async def run() -> dict[str, Any]:
        row = await svc.create_view(
            actor_of(info),
            name=input.name,
            flt=_criteria(input.criteria),
            sort=input.sort.field.value if input.sort else "CREATED_AT",
            desc=input.sort.direction.value == "DESC" if input.sort else True,
            is_shared=input.is_shared,
        )
        return {"view": _to_type(svc.saved_view(row))}

    return await mutate(TicketViewPayload, run)


async def ticket_view_update(info: strawberry.Info, input: TicketViewUpdateInput) -> Any:
    """`ticketViewUpdate`."""
    from deskql.schema.views import TicketViewPayload

    async def run() -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if input.name is not strawberry.UNSET:
            changes["name"] = input.name
        if input.criteria is not strawberry.UNSET:
            changes["flt"] = _criteria(input.criteria)
        if input.sort is not strawberry.UNSET:
            sort = input.sort
            changes["sort"] = sort.field.value if sort else "CREATED_AT"
            changes["desc"] = sort.direction.value == "DESC" if sort else True
        if input.is_shared is not strawberry.UNSET and input.is_shared is not None:
            changes["is_shared"] = input.is_shared
        actor = actor_of(info)
        row = await svc.update_view(actor, view=_input_view_id(input.id), changes=changes)
        return {"view": _to_type(svc.saved_view(row))}

    return await mutate(TicketViewPayload, run)


async def ticket_view_delete(info: strawberry.Info, input: TicketViewDeleteInput) -> Any:
    """`ticketViewDelete`."""
    from deskql.schema.views import TicketViewPayload

    async def run() -> dict[str, Any]:
        row = await svc.delete_view(actor_of(info), view=_input_view_id(input.id))
        return {"view": _to_type(svc.saved_view(row))}

    return await mutate(TicketViewPayload, run)


# --- detail views -------------------------------------------------------------------------


async def conversation(
    info: strawberry.Info, ticket_pk: int, *, first: int | None, after: str | None
) -> Connection[Any]:
    """`Ticket.conversation`: threads and comments interleaved, oldest first, by keyset on
    (time, kind, id) (schema/loaded_pages.py)."""
    keys = await svc.conversation_keys(actor_of(info), ticket_id=ticket_pk)
    request = PageRequest.of(info, first, after)
    result = list_page(keys, request, key=own_key, sort="created_at,kind,id")
    rows = await svc.conversation_items([edge.node for edge in result.edges])
    nodes = [
        None
        if row is None
        else Thread.from_row(row)
        if isinstance(row, models.Thread)
        else Comment.from_row(row)
        for row in rows
    ]
    with_nodes(result, nodes)
    # Comment authors for the whole page in one batch.
    await prime(
        info.context.loaders.agent,
        (e.node.author_pk for e in result.edges if isinstance(e.node, Comment)),
    )
    return result


async def timeline(
    info: strawberry.Info, contact_pk: int, *, first: int | None, after: str | None
) -> Connection[Ticket]:
    """`Contact.timeline`: the contact's tickets newest first, nested fields batched."""
    query = svc.contact_timeline(actor_of(info), contact_id=contact_pk)
    result = await page(info, query, first=first, after=after, convert=Ticket.from_row)
    await prime_tickets(
        info.context.loaders, [edge.node for edge in result.edges], node_selection(info)
    )
    return result
