"""Assignment and top tags (TIC-2, TIC-6): ticketAssign, ticketTake, topTags."""

from __future__ import annotations

from typing import Annotated

import strawberry

from deskql.resolvers import assignments as r
from deskql.schema.errors import MutationError
from deskql.schema.permissions import IsAuthenticated
from deskql.schema.tickets import TagCount, TicketPayload
from deskql.schema.types import Ticket


@strawberry.input(
    description="Tickets to assign to an agent or a team of their department; give neither "
    "agentId nor teamId to unassign them."
)
class TicketAssignInput:
    ticket_ids: list[strawberry.ID] = strawberry.field(
        description="The tickets, 1 to 100; each is assigned (or fails) on its own."
    )
    agent_id: strawberry.ID | None = strawberry.field(
        default=None, description="An active agent who is a member of each ticket's department."
    )
    team_id: strawberry.ID | None = strawberry.field(
        default=None, description="A team of each ticket's department."
    )


@strawberry.input(description="An unassigned ticket you take yourself.")
class TicketTakeInput:
    ticket_id: strawberry.ID = strawberry.field(
        description="The ticket: unassigned, in one of your departments."
    )


@strawberry.type(description="What happened to one ticket of ticketAssign.")
class TicketAssignResult:
    ticket_id: strawberry.ID = strawberry.field(description="The ticket, as given.")
    ticket: Ticket | None = strawberry.field(
        description="The ticket as assigned; null when it failed."
    )
    errors: list[MutationError] = strawberry.field(
        description="Why this ticket was left unchanged; empty: it was assigned."
    )


@strawberry.type(description="Result of ticketAssign: one result per ticket, in input order.")
class TicketAssignPayload:
    errors: list[MutationError] = strawberry.field(
        description="Why the whole input was refused (nothing written); per-ticket failures "
        "are in `results`."
    )
    results: list[TicketAssignResult] = strawberry.field(
        default_factory=list, description="One result per distinct ticket, in input order."
    )


@strawberry.type
class AssignmentQueries:
    @strawberry.field(
        description="Tag names with how many non-spam tickets you may see carry them, most "
        "used first (ties by name); `tickets(filter: {tag})` lists those tickets.",
        permission_classes=[IsAuthenticated],
    )
    async def top_tags(
        self,
        info: strawberry.Info,
        department_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only this department's tickets; none: all yours."),
        ] = None,
        first: Annotated[
            int, strawberry.argument(description="How many tags, 0 to 100 (default 10).")
        ] = 10,
    ) -> list[TagCount]:
        return await r.top_tags(info, department_id=department_id, first=first)


@strawberry.type
class AssignmentMutations:
    @strawberry.mutation(
        description="Assign one or many tickets to an agent or a team, or unassign them (TIC-2). "
        "Each ticket is assigned in its own transaction; the assignee is notified.",
        permission_classes=[IsAuthenticated],
    )
    async def ticket_assign(
        self, info: strawberry.Info, input: TicketAssignInput
    ) -> TicketAssignPayload:
        return await r.ticket_assign(info, input)

    @strawberry.mutation(
        description="Take an unassigned ticket of one of your departments (TIC-2); refused "
        "with ALREADY_ASSIGNED when someone has it.",
        permission_classes=[IsAuthenticated],
    )
    async def ticket_take(self, info: strawberry.Info, input: TicketTakeInput) -> TicketPayload:
        return await r.ticket_take(info, input)
