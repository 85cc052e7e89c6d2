"""Tickets."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from deskql import models
from deskql.schema.connections import Connection
from deskql.schema.ids import to_global_id
from deskql.schema.lookahead import peek
from deskql.schema.types.common import (
    Channel,
    Node,
    TicketPriority,
    TicketStatus,
    _After,
    _Call,
    _Event,
    _First,
    _page,
    _Task,
    _TicketRating,
    _TimeEntry,
    _TimeSummary,
    loaded,
)

if TYPE_CHECKING:
    from deskql.schema.activities.inputs import (
        CallFilter,
        CallSort,
        EventFilter,
        EventSort,
        TaskFilter,
        TaskSort,
    )


@strawberry.type(description="A support request (TIC-1).")
class Ticket(Node):
    number: int = strawberry.field(description="Sequential ticket number, unique.")
    subject: str = strawberry.field(description="Subject line.")
    description: str = strawberry.field(description="Description of the request.")
    status: TicketStatus = strawberry.field(description="Lifecycle state.")
    priority: TicketPriority = strawberry.field(description="Priority.")
    channel: Channel = strawberry.field(description="How the ticket arrived.")
    is_spam: bool = strawberry.field(description="True when marked as spam (TIC-7).")
    version: int = strawberry.field(
        description="Increases with every change; pass it to ticketUpdate (optimistic locking)."
    )
    due_at: datetime | None = strawberry.field(description="When it should be resolved.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    closed_at: datetime | None = strawberry.field(description="When it was closed.")
    is_overdue: bool = strawberry.field(description="Not closed and past its due date.")
    pk: strawberry.Private[int]
    department_pk: strawberry.Private[int]
    contact_pk: strawberry.Private[int | None]
    account_pk: strawberry.Private[int | None]
    product_pk: strawberry.Private[int | None]
    assignee_agent_pk: strawberry.Private[int | None]
    assignee_team_pk: strawberry.Private[int | None]
    merged_into_pk: strawberry.Private[int | None] = None
    split_from_pk: strawberry.Private[int | None] = None

    @classmethod
    def from_row(cls, row: models.Ticket) -> Ticket:
        """Build from a database row."""
        due = row.due_at
        return cls(
            id=strawberry.ID(to_global_id("Ticket", row.id)),
            number=row.number,
            subject=row.subject,
            description=row.description,
            status=row.status,
            priority=row.priority,
            channel=row.channel,
            is_spam=row.is_spam,
            version=row.version,
            due_at=due,
            created_at=row.created_at,
            updated_at=row.updated_at,
            closed_at=row.closed_at,
            is_overdue=bool(
                due is not None
                and row.status is not TicketStatus.CLOSED
                and due < datetime.now(UTC)
            ),
            pk=row.id,
            department_pk=row.department_id,  # type: ignore[attr-defined]
            contact_pk=row.contact_id,  # type: ignore[attr-defined]
            account_pk=row.account_id,  # type: ignore[attr-defined]
            product_pk=row.product_id,  # type: ignore[attr-defined]
            assignee_agent_pk=row.assignee_agent_id,  # type: ignore[attr-defined]
            assignee_team_pk=row.assignee_team_id,  # type: ignore[attr-defined]
            merged_into_pk=row.merged_into_id,  # type: ignore[attr-defined]
            split_from_pk=row.split_from_id,  # type: ignore[attr-defined]
        )

    @strawberry.field(description="The department the ticket belongs to.")
    def department(self, info: strawberry.Info) -> Department:
        return peek(info.context.loaders.department, self.department_pk)

    @strawberry.field(
        description="A printable page of the ticket with its whole conversation (TIC-11): a "
        "signed URL a browser can open once, for a few minutes (DESKQL_SIGNED_URL_SECONDS)."
    )
    def print_url(self, info: strawberry.Info) -> str:
        from deskql.resolvers import exports

        return exports.print_url(info, ticket_id=self.pk)

    @strawberry.field(description="The contact who raised the ticket.")
    def contact(self, info: strawberry.Info) -> Contact | None:
        if self.contact_pk is None:
            return None
        return peek(info.context.loaders.contact, self.contact_pk)

    @strawberry.field(description="The contact's account.")
    def account(self, info: strawberry.Info) -> Account | None:
        if self.account_pk is None:
            return None
        return peek(info.context.loaders.account, self.account_pk)

    @strawberry.field(description="The product the ticket is about.")
    def product(self, info: strawberry.Info) -> Product | None:
        if self.product_pk is None:
            return None
        return peek(info.context.loaders.product, self.product_pk)

    @strawberry.field(description="The agent or team the ticket is assigned to; null: unassigned.")
    def assignee(self, info: strawberry.Info) -> Assignee | None:
        loaders = info.context.loaders
        if self.assignee_agent_pk is not None:
            return peek(loaders.agent, self.assignee_agent_pk)
        if self.assignee_team_pk is not None:
            return peek(loaders.team, self.assignee_team_pk)
        return None

    @strawberry.field(description="Tag names, alphabetical (TIC-6).")
    def tags(self, info: strawberry.Info) -> list[str]:
        return peek(info.context.loaders.tags_by_ticket, self.pk)

    @strawberry.field(description="Comments, oldest first.")
    async def comments(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Comment]:
        loader = info.context.loaders.comments_by_ticket
        return _page(info, await loaded(info, loader, self.pk), first, after)

    @strawberry.field(description="Conversation messages, oldest first (TIC-3).")
    async def threads(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Thread]:
        loader = info.context.loaders.threads_by_ticket
        return _page(info, await loaded(info, loader, self.pk), first, after)

    @strawberry.field(
        description="Messages and comments interleaved in time, oldest first (TIC-4), public "
        "and private alike, each marked by `isPublic`. `threads` is the messages alone."
    )
    async def conversation(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[ConversationItem]:
        from deskql.resolvers import views

        return await views.conversation(info, self.pk, first=first, after=after)

    @strawberry.field(description="Attachments of the ticket, its threads and comments.")
    async def attachments(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Attachment]:
        return _page(
            info, await info.context.loaders.attachments_by_ticket.load(self.pk), first, after
        )

    @strawberry.field(
        description="The contact's rating of the closed ticket from the help center (TIC-5); "
        "null: not rated."
    )
    async def rating(self, info: strawberry.Info) -> _TicketRating | None:
        from deskql.resolvers import helpcenter_admin

        return await helpcenter_admin.ticket_rating(info, self.pk)

    @strawberry.field(description="History of the ticket, oldest first.")
    async def activities(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Activity]:
        loader = info.context.loaders.activities_by_ticket
        return _page(info, await loaded(info, loader, self.pk), first, after)

    @strawberry.field(description="Tasks linked to the ticket (ORG-5: your departments').")
    async def tasks(
        self,
        info: strawberry.Info,
        filter: Annotated[
            Annotated[TaskFilter, strawberry.lazy("deskql.schema.activities.inputs")] | None,
            strawberry.argument(description="Only tasks matching these criteria."),
        ] = None,
        sort: Annotated[
            Annotated[TaskSort, strawberry.lazy("deskql.schema.activities.inputs")] | None,
            strawberry.argument(description="Order (default: due time, earliest first)."),
        ] = None,
        first: _First = None,
        after: _After = None,
    ) -> Connection[_Task]:
        from deskql.resolvers import activities

        return await activities.task_list(
            info, filter=filter, sort=sort, first=first, after=after, ticket_id=self.pk
        )

    @strawberry.field(description="Events linked to the ticket (ORG-5: your departments').")
    async def events(
        self,
        info: strawberry.Info,
        filter: Annotated[
            Annotated[EventFilter, strawberry.lazy("deskql.schema.activities.inputs")] | None,
            strawberry.argument(description="Only events matching these criteria."),
        ] = None,
        sort: Annotated[
            Annotated[EventSort, strawberry.lazy("deskql.schema.activities.inputs")] | None,
            strawberry.argument(description="Order (default: start, earliest first)."),
        ] = None,
        first: _First = None,
        after: _After = None,
    ) -> Connection[_Event]:
        from deskql.resolvers import activities

        return await activities.event_list(
            info, filter=filter, sort=sort, first=first, after=after, ticket_id=self.pk
        )

    @strawberry.field(description="Calls linked to the ticket (ORG-5: your departments').")
    async def calls(
        self,
        info: strawberry.Info,
        filter: Annotated[
            Annotated[CallFilter, strawberry.lazy("deskql.schema.activities.inputs")] | None,
            strawberry.argument(description="Only calls matching these criteria."),
        ] = None,
        sort: Annotated[
            Annotated[CallSort, strawberry.lazy("deskql.schema.activities.inputs")] | None,
            strawberry.argument(description="Order (default: start, latest first)."),
        ] = None,
        first: _First = None,
        after: _After = None,
    ) -> Connection[_Call]:
        from deskql.resolvers import activities

        return await activities.call_list(
            info, filter=filter, sort=sort, first=first, after=after, ticket_id=self.pk
        )

    @strawberry.field(description="Agents following the ticket (those you may see).")
    async def followers(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Agent]:
        from deskql.resolvers import realtime

        return await realtime.followers(info, first=first, after=after, ticket_id=self.pk)

    # Merge and split links (TIC-5, TIC-9): resolvers/merge_split.py.
    @strawberry.field(
        description="The ticket this one was merged into (TIC-5); null unless merged. A merged "
        "ticket is CLOSED and its replies land on this one."
    )
    async def merged_into(self, info: strawberry.Info) -> Ticket | None:
        from deskql.resolvers import merge_split

        return await merge_split.linked_ticket(info, self.merged_into_pk)

    @strawberry.field(description="Tickets merged into this one, oldest first (TIC-5).")
    async def merged_tickets(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Ticket]:
        return _page(info, await info.context.loaders.merged_by_ticket.load(self.pk), first, after)

    @strawberry.field(description="The ticket this one was split off (TIC-9); null if none.")
    async def split_from(self, info: strawberry.Info) -> Ticket | None:
        from deskql.resolvers import merge_split

        return await merge_split.linked_ticket(info, self.split_from_pk)

    @strawberry.field(description="Tickets split off this one, oldest first (TIC-9).")
    async def split_tickets(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Ticket]:
        return _page(info, await info.context.loaders.split_by_ticket.load(self.pk), first, after)

    @strawberry.field(
        description="History of the ticket as a connection, newest first (`activities` is the "
        "whole list, oldest first)."
    )
    async def activity_history(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Activity]:
        from deskql.resolvers import realtime

        return await realtime.activities(info, first=first, after=after, ticket_id=self.pk)

    @strawberry.field(description="Time logged on the ticket and its tasks, oldest first (TIM-2).")
    async def time_entries(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[_TimeEntry]:
        from deskql.resolvers import time_tracking

        return await time_tracking.ticket_time_entries(info, self.pk, first=first, after=after)

    @strawberry.field(description="Totals of the time logged on the ticket and its tasks.")
    async def time_summary(self, info: strawberry.Info) -> _TimeSummary:
        from deskql.resolvers import time_tracking

        return await time_tracking.ticket_time_summary(info, self)


# ruff: noqa: E402
# The types this module names only in annotations and function bodies (resolved when the schema
# is built or a field is resolved), imported last so that schema.types' modules can name one
# another.
from deskql.schema.types.accounts import Account, Product
from deskql.schema.types.contacts import Contact
from deskql.schema.types.conversation import Activity, Attachment, Comment, ConversationItem, Thread
from deskql.schema.types.org import Agent, Assignee, Department
