"""Assignment resolvers: decode ids, call services.assignments, build payloads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from deskql.resolvers.common import mutate
from deskql.schema.context import actor_of
from deskql.schema.errors import MutationError
from deskql.schema.ids import decode_id, input_id, input_ids, optional_input_id, to_global_id
from deskql.schema.types import Ticket
from deskql.services import assignments as svc

if TYPE_CHECKING:
    from deskql.schema.tickets import TagCount
    from deskql.schema.workflows_assign import TicketAssignInput, TicketTakeInput


async def ticket_assign(info: strawberry.Info, input: TicketAssignInput) -> Any:
    """`ticketAssign`."""
    from deskql.schema.workflows_assign import TicketAssignPayload, TicketAssignResult

    async def run() -> dict[str, Any]:
        results = await svc.assign_tickets(
            actor_of(info),
            ticket_ids=input_ids(input.ticket_ids, "Ticket", "ticketIds"),
            agent_id=optional_input_id(input.agent_id, "Agent", "agentId"),
            team_id=optional_input_id(input.team_id, "Team", "teamId"),
        )
        return {
            "results": [
                TicketAssignResult(
                    ticket_id=strawberry.ID(to_global_id("Ticket", result.ticket_id)),
                    ticket=Ticket.from_row(result.ticket) if result.ticket else None,
                    errors=[
                        MutationError(field=e.field, message=e.message, code=e.code)
                        for e in result.errors
                    ],
                )
                for result in results
            ]
        }

    return await mutate(TicketAssignPayload, run)


async def ticket_take(info: strawberry.Info, input: TicketTakeInput) -> Any:
    """`ticketTake`."""
    from deskql.schema.tickets import TicketPayload

    async def run() -> dict[str, Any]:
        row = await svc.take_ticket(
            actor_of(info), ticket_id=input_id(input.ticket_id, "Ticket", "ticketId")
        )
        return {"ticket": Ticket.from_row(row)}

    return await mutate(TicketPayload, run)


async def top_tags(
    info: strawberry.Info, *, department_id: str | None, first: int
) -> list[TagCount]:
    """`topTags`."""
    from deskql.schema.tickets import TagCount

    rows = await svc.top_tags(
        actor_of(info),
        department_id=decode_id(department_id, "Department") if department_id else None,
        first=first,
    )
    return [TagCount(name=name, count=count) for name, count in rows]
