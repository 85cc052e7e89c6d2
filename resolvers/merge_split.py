"""Split and merge resolvers: decode ids, call services.merge_split, build payloads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from deskql.resolvers.common import mutate
from deskql.schema.context import actor_of
from deskql.schema.ids import input_id, input_ids
from deskql.schema.types import Ticket
from deskql.services import merge_split as svc
from deskql.services import policies

if TYPE_CHECKING:
    from deskql.schema.merge_split import TicketMergeInput, TicketSplitInput


async def linked_ticket(info: strawberry.Info, pk: int | None) -> Ticket | None:
    """A ticket a merge or split link points at, if the actor may see it."""
    if pk is None:
        return None
    found = await info.context.loaders.ticket.load(pk)
    if found is None or not policies.can_see_department(actor_of(info), found.department_pk):
        return None
    return found


async def ticket_split(info: strawberry.Info, input: TicketSplitInput) -> Any:
    """`ticketSplit`."""
    from deskql.schema.merge_split import TicketSplitPayload

    async def run() -> dict[str, Any]:
        new, source = await svc.split_ticket(
            actor_of(info), thread_id=input_id(input.thread_id, "Thread", "threadId")
        )
        return {"ticket": Ticket.from_row(new), "source_ticket": Ticket.from_row(source)}

    return await mutate(TicketSplitPayload, run)


async def ticket_merge(info: strawberry.Info, input: TicketMergeInput) -> Any:
    """`ticketMerge`."""
    from deskql.schema.merge_split import TicketMergePayload

    async def run() -> dict[str, Any]:
        target, sources = await svc.merge_tickets(
            actor_of(info),
            target_id=input_id(input.target_id, "Ticket", "targetId"),
            source_ids=input_ids(input.source_ids, "Ticket", "sourceIds"),
        )
        return {"ticket": Ticket.from_row(target), "sources": [Ticket.from_row(s) for s in sources]}

    return await mutate(TicketMergePayload, run)
