"""Split and merge mutations: ticketSplit (TIC-9) and ticketMerge (TIC-5)."""

from __future__ import annotations

import strawberry

from deskql.resolvers import merge_split as r
from deskql.schema.errors import MutationError
from deskql.schema.permissions import IsAuthenticated
from deskql.schema.types import Ticket


@strawberry.input(description="A customer's message to split off into a new ticket (TIC-9).")
class TicketSplitInput:
    thread_id: strawberry.ID = strawberry.field(
        description="An INCOMING thread (a customer's message) of a ticket with more than one "
        "thread; an agent's reply or a ticket's only thread is refused (INVALID)."
    )


@strawberry.type(description="Result of ticketSplit.")
class TicketSplitPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    ticket: Ticket | None = strawberry.field(
        default=None,
        description="The new ticket holding the thread (its `splitFrom` is the source).",
    )
    source_ticket: Ticket | None = strawberry.field(
        default=None, description="The ticket the thread was taken from."
    )


@strawberry.input(
    description="Tickets to merge into a target (TIC-5): all of the same department as the "
    "target, neither spam nor already merged, at most 20 at once."
)
class TicketMergeInput:
    target_id: strawberry.ID = strawberry.field(
        description="The ticket that receives everything and stays open."
    )
    source_ids: list[strawberry.ID] = strawberry.field(
        description="The duplicates, 1 to 20: closed as merged into the target. Refused with "
        "LIMIT_EXCEEDED when the target would carry more than 10 tags."
    )


@strawberry.type(description="Result of ticketMerge.")
class TicketMergePayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    ticket: Ticket | None = strawberry.field(
        default=None, description="The target, now holding the sources' threads and the rest."
    )
    sources: list[Ticket] = strawberry.field(
        default_factory=list,
        description="The merged tickets, in the order given: CLOSED, `mergedInto` the target.",
    )


@strawberry.type
class MergeSplitMutations:
    @strawberry.mutation(
        description="Split a customer's message off into a new ticket with its own number, the "
        "same contact, account, department and priority (TIC-9).",
        permission_classes=[IsAuthenticated],
    )
    async def ticket_split(
        self, info: strawberry.Info, input: TicketSplitInput
    ) -> TicketSplitPayload:
        return await r.ticket_split(info, input)

    @strawberry.mutation(
        description="Merge duplicate tickets into one (TIC-5): threads, comments, attachments, "
        "tags, followers, time entries, timers, tasks and drafts move to the target; the sources "
        "close as merged and their numbers keep resolving. All or nothing.",
        permission_classes=[IsAuthenticated],
    )
    async def ticket_merge(
        self, info: strawberry.Info, input: TicketMergeInput
    ) -> TicketMergePayload:
        return await r.ticket_merge(info, input)
