"""Ticket list views (SRC-5): standard and saved views, their counts, and saving views."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from deskql.resolvers import views as r
from deskql.schema.connections import Connection
from deskql.schema.errors import MutationError
from deskql.schema.permissions import IsAuthenticated
from deskql.schema.tickets import SortDirection, TicketFilter, TicketSort, TicketSortField
from deskql.schema.types import Agent
from deskql.services.views import StandardView, View

strawberry.enum(
    StandardView,
    name="StandardTicketView",
    description="The built-in ticket views. Every view but SPAM leaves spam out. ALL_OPEN: not "
    "closed; MINE: assigned to you, not closed; MY_TEAMS: assigned to a team you belong to, not "
    "closed; UNASSIGNED: assigned to nobody, not closed; OVERDUE: past the due date, not closed "
    "(soonest due first); ON_HOLD: on hold; CLOSED: closed; SPAM: marked as spam; FOLLOWED: "
    "tickets you follow.",
)


@strawberry.type(
    description="A ticket list view: a standard one (id `standard:<NAME>`) or a view saved by an "
    "agent (a global id). Pass its id to `tickets(viewId:)`."
)
class TicketView:
    id: strawberry.ID = strawberry.field(
        description="`standard:ALL_OPEN` etc. for standard views; a global id for saved ones."
    )
    name: str = strawberry.field(description="Display name.")
    standard: StandardView | None = strawberry.field(
        description="Which standard view this is; null for a saved view."
    )
    is_shared: bool = strawberry.field(
        description="True: shared by an administrator with every agent. Standard views: true."
    )
    criteria: JSON = strawberry.field(
        description="The view's criteria in the shape of a TicketFilter input (global ids), "
        "so a client can show or reuse them. MINE, MY_TEAMS and FOLLOWED also depend on who "
        "asks; that part is not in these criteria."
    )
    sort: TicketViewSort = strawberry.field(description="How the view sorts its tickets.")
    owner_pk: strawberry.Private[int | None]
    view: strawberry.Private[View]
    count: strawberry.Private[int | None] = None

    @strawberry.field(description="The agent who saved the view; null for standard views.")
    async def owner(self, info: strawberry.Info) -> Agent | None:
        if self.owner_pk is None:
            return None
        return await info.context.loaders.agent.load(self.owner_pk)

    @strawberry.field(
        description="How many tickets the view shows you now (departments you are not in never "
        "count). In `ticketViews` all counts come from one SQL statement."
    )
    async def ticket_count(self, info: strawberry.Info) -> int:
        if self.count is not None:
            return self.count
        return await r.ticket_count(info, self.view)


@strawberry.type(description="The sort of a ticket view.")
class TicketViewSort:
    field: TicketSortField = strawberry.field(description="The field sorted by.")
    direction: SortDirection = strawberry.field(description="ASC or DESC.")


@strawberry.input(description="A ticket view to save; private to you unless shared.")
class TicketViewCreateInput:
    name: str = strawberry.field(description="Display name, 1 to 120 characters.")
    criteria: TicketFilter | None = strawberry.field(
        default=None,
        description="The tickets it shows; every id must name a record you may see. Your "
        "department visibility applies on top whatever the criteria say.",
    )
    sort: TicketSort | None = strawberry.field(
        default=None, description="Its order (default: newest first)."
    )
    is_shared: bool = strawberry.field(
        default=False, description="Share it with every agent (administrators only)."
    )


@strawberry.input(description="Changes to a saved ticket view; only the fields you set change.")
class TicketViewUpdateInput:
    id: strawberry.ID = strawberry.field(description="The saved view (standard ones are fixed).")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name.")
    criteria: TicketFilter | None = strawberry.field(
        default=strawberry.UNSET, description="New criteria, replacing the old ones whole."
    )
    sort: TicketSort | None = strawberry.field(default=strawberry.UNSET, description="New order.")
    is_shared: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Share or unshare it (administrators only)."
    )


@strawberry.input(description="The saved ticket view to delete.")
class TicketViewDeleteInput:
    id: strawberry.ID = strawberry.field(description="The saved view (standard ones are fixed).")


@strawberry.type(description="Result of a mutation that changes a ticket view.")
class TicketViewPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    view: TicketView | None = strawberry.field(
        default=None, description="The view as saved (as it was, for a delete)."
    )


@strawberry.type
class ViewQueries:
    @strawberry.field(
        description="The standard ticket views, then the saved views you may use (yours and "
        "the shared ones), oldest first.",
        permission_classes=[IsAuthenticated],
    )
    async def ticket_views(
        self,
        info: strawberry.Info,
        first: Annotated[
            int | None, strawberry.argument(description="Page size, 0 to 100 (default 20).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(description="Cursor of the item after which the page starts."),
        ] = None,
    ) -> Connection[TicketView]:
        return await r.ticket_views(info, first=first, after=after)

    @strawberry.field(
        description="One ticket view by id; null when it does not exist or is another agent's "
        "private view.",
        permission_classes=[IsAuthenticated],
    )
    async def ticket_view(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The view's id.")],
    ) -> TicketView | None:
        return await r.ticket_view(info, id)


@strawberry.type
class ViewMutations:
    @strawberry.mutation(
        description="Save a ticket view (private unless an administrator shares it).",
        permission_classes=[IsAuthenticated],
    )
    async def ticket_view_create(
        self, info: strawberry.Info, input: TicketViewCreateInput
    ) -> TicketViewPayload:
        return await r.ticket_view_create(info, input)

    @strawberry.mutation(
        description="Change a saved ticket view (its owner, or an administrator for a shared one).",
        permission_classes=[IsAuthenticated],
    )
    async def ticket_view_update(
        self, info: strawberry.Info, input: TicketViewUpdateInput
    ) -> TicketViewPayload:
        return await r.ticket_view_update(info, input)

    @strawberry.mutation(
        description="Delete a saved ticket view (its owner, or an administrator for a shared "
        "one); standard views cannot be deleted.",
        permission_classes=[IsAuthenticated],
    )
    async def ticket_view_delete(
        self, info: strawberry.Info, input: TicketViewDeleteInput
    ) -> TicketViewPayload:
        return await r.ticket_view_delete(info, input)
