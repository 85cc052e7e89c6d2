"""Following, the notification center and live subscriptions (TIC-13, COL-1, COL-2, COL-3).

Mentions (COL-1): write `@[Display name](<Agent global id>)` in a comment body, e.g.
`@[Alice Smith](QWdlbnQ6Mw)`; the mentioned agent gets a MENTIONED notification at once.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from deskql import models
from deskql.models.enums import NotificationReason
from deskql.realtime import executor_fix
from deskql.resolvers import realtime as r
from deskql.schema.connections import Connection
from deskql.schema.errors import MutationError
from deskql.schema.ids import to_global_id
from deskql.schema.permissions import IsAuthenticated
from deskql.schema.types import Account, Activity, Contact, Department, Node, Ticket

executor_fix.install()  # subscriptions' per-event memory leak in graphql-core 3.3.2

strawberry.enum(
    NotificationReason,
    description="Why an agent was notified; one notification per agent per activity, with the "
    "strongest reason: MENTIONED (named in a comment with the markup "
    "`@[Display name](<Agent global id>)`, e.g. `@[Alice Smith](QWdlbnQ6Mw)`), then ASSIGNED "
    "(the ticket was assigned to you or your team), then OWNER (the record is yours: you wrote "
    "the article), then FOLLOWING (you follow the ticket, its contact or its account, or the "
    "record: an article); ADMINISTRATOR: told to every administrator (a webhook was switched "
    "off after repeated failures), above all others.",
)


@strawberry.type(
    description="An entry of your notification center: an activity that concerns you (COL-3)."
)
class Notification(Node):
    reason: NotificationReason = strawberry.field(description="Why you were notified.")
    created_at: datetime = strawberry.field(description="When it was created.")
    read_at: datetime | None = strawberry.field(description="When you marked it read.")
    is_read: bool = strawberry.field(description="True once marked read.")
    cursor: str = strawberry.field(
        description="Its position in your feed: pass as `after` to notificationCreated, or as "
        "`newerThan` to me.notifications, to get exactly what came after it."
    )
    pk: strawberry.Private[int]
    # Rows, made into objects only when the field is selected (a thousand subscribers of one
    # event build them once, in the one execution of their group).
    activity_row: strawberry.Private[models.Activity | None]
    ticket_row: strawberry.Private[models.Ticket | None]  # None too once it may not be seen
    contact_pk: strawberry.Private[int | None]
    account_pk: strawberry.Private[int | None]
    activity_pk: strawberry.Private[int | None] = None

    @classmethod
    def from_row(
        cls,
        row: Any,
        activity: models.Activity | None = None,
        ticket: models.Ticket | None = None,
    ) -> Notification:
        """Build from a notification row, with its activity and its ticket (None: not loaded,
        or one the agent may not see)."""
        return cls(
            id=strawberry.ID(to_global_id("Notification", row.id)),
            reason=row.reason,
            created_at=row.created_at,
            read_at=row.read_at,
            is_read=row.read_at is not None,
            cursor=r.notification_cursor(row.id),
            pk=row.id,
            activity_row=activity,
            ticket_row=ticket,
            contact_pk=row.contact_id,
            account_pk=row.account_id,
            activity_pk=row.activity_id,
        )

    @strawberry.field(description="What happened.")
    def activity(self) -> Activity | None:
        return Activity.from_row(self.activity_row) if self.activity_row is not None else None

    @strawberry.field(description="The ticket it concerns, while you may see it.")
    def ticket(self) -> Ticket | None:
        return Ticket.from_row(self.ticket_row) if self.ticket_row is not None else None

    @strawberry.field(description="The contact it concerns.")
    async def contact(self, info: strawberry.Info) -> Contact | None:
        if self.contact_pk is None:
            return None
        return await info.context.loaders.contact.load(self.contact_pk)

    @strawberry.field(description="The account it concerns.")
    async def account(self, info: strawberry.Info) -> Account | None:
        if self.account_pk is None:
            return None
        return await info.context.loaders.account.load(self.account_pk)


@strawberry.type(description="What you follow (and may still see), a page at a time.")
class Following:
    agent_pk: strawberry.Private[int]

    @strawberry.field(description="Followed tickets, newest first.")
    async def tickets(
        self,
        info: strawberry.Info,
        first: Annotated[
            int | None, strawberry.argument(description="Page size, 0 to 100 (default 20).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(description="Cursor of the item after which the page starts."),
        ] = None,
    ) -> Connection[Ticket]:
        return await r.followed(info, self.agent_pk, "tickets", first=first, after=after)

    @strawberry.field(description="Followed contacts.")
    async def contacts(
        self,
        info: strawberry.Info,
        first: Annotated[
            int | None, strawberry.argument(description="Page size, 0 to 100 (default 20).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(description="Cursor of the item after which the page starts."),
        ] = None,
    ) -> Connection[Contact]:
        return await r.followed(info, self.agent_pk, "contacts", first=first, after=after)

    @strawberry.field(description="Followed accounts.")
    async def accounts(
        self,
        info: strawberry.Info,
        first: Annotated[
            int | None, strawberry.argument(description="Page size, 0 to 100 (default 20).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(description="Cursor of the item after which the page starts."),
        ] = None,
    ) -> Connection[Account]:
        return await r.followed(info, self.agent_pk, "accounts", first=first, after=after)


@strawberry.type(description="A new notification of yours, pushed as it is created.")
class NotificationCreatedEvent:
    cursor: str = strawberry.field(
        description="Cursor of this notification: resubscribe with `after` set to the last "
        "cursor you received to get what you missed, without gaps or doubles."
    )
    notification: Notification = strawberry.field(description="The notification.")
    unread_count: int = strawberry.field(description="Your unread notifications, now.")


@strawberry.type(description="One activity on the ticket you watch, with its state after it.")
class TicketUpdateEvent:
    kind: str = strawberry.field(description="What happened, e.g. `ticket.updated`.")
    changes: JSON = strawberry.field(
        description='Changed fields as {"field": {"old": ..., "new": ...}}, or a summary '
        "(the activity's `changes`: ids in it are global ids)."
    )
    activity: Activity = strawberry.field(description="The Activity row.")
    ticket: Ticket | None = strawberry.field(
        description="The ticket as it is now; null once it was deleted (the stream then ends)."
    )


@strawberry.type(description="Live counts of a department's tickets (spam left out).")
class DashboardCounts:
    department: Department = strawberry.field(description="The department.")
    open: int = strawberry.field(description="Tickets in status OPEN.")
    on_hold: int = strawberry.field(description="Tickets in status ON_HOLD.")
    escalated: int = strawberry.field(description="Tickets in status ESCALATED.")
    unassigned: int = strawberry.field(description="Not closed and assigned to nobody.")
    overdue: int = strawberry.field(description="Not closed and past their due date.")
    created_today: int = strawberry.field(description="Created since midnight UTC.")
    closed_today: int = strawberry.field(description="Closed since midnight UTC.")
    overdue_tasks: int = strawberry.field(
        description="Open tasks of the department past their due time (ACT-1)."
    )
    at: datetime = strawberry.field(description="When these counts were taken.")


@strawberry.input(description="The ticket to follow or unfollow.")
class TicketFollowInput:
    ticket_id: strawberry.ID = strawberry.field(description="A ticket you may see.")


@strawberry.input(description="The contact to follow or unfollow.")
class ContactFollowInput:
    contact_id: strawberry.ID = strawberry.field(description="The contact.")


@strawberry.input(description="The account to follow or unfollow.")
class AccountFollowInput:
    account_id: strawberry.ID = strawberry.field(description="The account.")


@strawberry.input(description="Notifications to mark read.")
class NotificationMarkReadInput:
    ids: list[strawberry.ID] = strawberry.field(
        description="Ids of your notifications, 1 to 100; all or none are marked."
    )


@strawberry.input(description="Which notifications to mark read.")
class NotificationMarkAllReadInput:
    up_to_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Only this notification and older ones (what you have seen); null: all.",
    )


@strawberry.type(description="Result of ticketFollow and ticketUnfollow.")
class TicketFollowPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    ticket: Ticket | None = strawberry.field(default=None, description="The ticket.")
    following: bool | None = strawberry.field(
        default=None, description="Whether you follow it now."
    )


@strawberry.type(description="Result of contactFollow and contactUnfollow.")
class ContactFollowPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    contact: Contact | None = strawberry.field(default=None, description="The contact.")
    following: bool | None = strawberry.field(
        default=None, description="Whether you follow it now."
    )


@strawberry.type(description="Result of accountFollow and accountUnfollow.")
class AccountFollowPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    account: Account | None = strawberry.field(default=None, description="The account.")
    following: bool | None = strawberry.field(
        default=None, description="Whether you follow it now."
    )


@strawberry.type(description="Result of notificationMarkRead.")
class NotificationMarkReadPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    notifications: list[Notification] | None = strawberry.field(
        default=None, description="The notifications, now read."
    )
    unread_count: int | None = strawberry.field(
        default=None, description="Your unread notifications, now."
    )


@strawberry.type(description="Result of notificationMarkAllRead.")
class NotificationMarkAllReadPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    marked: int | None = strawberry.field(default=None, description="How many were marked read.")
    unread_count: int | None = strawberry.field(
        default=None, description="Your unread notifications, now."
    )


@strawberry.type
class RealtimeQueries:
    @strawberry.field(
        description="How many of your notifications are unread.",
        permission_classes=[IsAuthenticated],
    )
    async def unread_notification_count(self, info: strawberry.Info) -> int:
        return await r.unread_count(info)


@strawberry.type
class RealtimeMutations:
    @strawberry.mutation(
        description="Follow a ticket you may see: its activity reaches your notifications.",
        permission_classes=[IsAuthenticated],
    )
    async def ticket_follow(
        self, info: strawberry.Info, input: TicketFollowInput
    ) -> TicketFollowPayload:
        return await r.ticket_follow(info, input, True)

    @strawberry.mutation(
        description="Stop following a ticket (also one you follow as its assignee).",
        permission_classes=[IsAuthenticated],
    )
    async def ticket_unfollow(
        self, info: strawberry.Info, input: TicketFollowInput
    ) -> TicketFollowPayload:
        return await r.ticket_follow(info, input, False)

    @strawberry.mutation(
        description="Follow a contact: activity on it and its tickets reaches you (COL-2).",
        permission_classes=[IsAuthenticated],
    )
    async def contact_follow(
        self, info: strawberry.Info, input: ContactFollowInput
    ) -> ContactFollowPayload:
        return await r.contact_follow(info, input, True)

    @strawberry.mutation(
        description="Stop following a contact.", permission_classes=[IsAuthenticated]
    )
    async def contact_unfollow(
        self, info: strawberry.Info, input: ContactFollowInput
    ) -> ContactFollowPayload:
        return await r.contact_follow(info, input, False)

    @strawberry.mutation(
        description="Follow an account: activity on it and its tickets reaches you (COL-2).",
        permission_classes=[IsAuthenticated],
    )
    async def account_follow(
        self, info: strawberry.Info, input: AccountFollowInput
    ) -> AccountFollowPayload:
        return await r.account_follow(info, input, True)

    @strawberry.mutation(
        description="Stop following an account.", permission_classes=[IsAuthenticated]
    )
    async def account_unfollow(
        self, info: strawberry.Info, input: AccountFollowInput
    ) -> AccountFollowPayload:
        return await r.account_follow(info, input, False)

    @strawberry.mutation(
        description="Mark some of your notifications read.", permission_classes=[IsAuthenticated]
    )
    async def notification_mark_read(
        self, info: strawberry.Info, input: NotificationMarkReadInput
    ) -> NotificationMarkReadPayload:
        return await r.mark_read(info, input)

    @strawberry.mutation(
        description="Mark all your notifications read (or all up to one).",
        permission_classes=[IsAuthenticated],
    )
    async def notification_mark_all_read(
        self, info: strawberry.Info, input: NotificationMarkAllReadInput
    ) -> NotificationMarkAllReadPayload:
        return await r.mark_all_read(info, input)


@strawberry.type(
    description="Live updates over WebSocket on /graphql (graphql-transport-ws or graphql-ws). "
    'Send your token in the connection_init payload: {"token": "..."} or '
    '{"Authorization": "Bearer ..."}; without a valid one the connection is refused (4403). '
    "Access is re-checked for every event: once you lose it (token revoked, agent "
    "deactivated, moved out of the department) the stream ends with a FORBIDDEN error. A "
    "client that does not keep up is disconnected with close code 4008."
)
class Subscription:
    @strawberry.subscription(
        description="Your new notifications as they are created, with the activity, the "
        "record it concerns and your unread count. With `after`, first replays the ones newer "
        "than that cursor, then goes live: nothing missing or doubled at the seam.",
        permission_classes=[IsAuthenticated],
    )
    async def notification_created(
        self,
        info: strawberry.Info,
        after: Annotated[
            str | None,
            strawberry.argument(description="Cursor of the last notification you have."),
        ] = None,
    ) -> AsyncGenerator[NotificationCreatedEvent, None]:
        async for event in r.coded(r.notification_created(info, after=after)):
            yield event

    @strawberry.subscription(
        description="Every activity on one ticket you may see (an open ticket view).",
        permission_classes=[IsAuthenticated],
    )
    async def ticket_updates(
        self,
        info: strawberry.Info,
        ticket_id: Annotated[strawberry.ID, strawberry.argument(description="The ticket.")],
    ) -> AsyncGenerator[TicketUpdateEvent, None]:
        async for event in r.coded(r.ticket_updates(info, ticket_id=ticket_id)):
            yield event

    @strawberry.subscription(
        description="Live ticket counts of a department of yours: sent at once, then whenever "
        "they change.",
        permission_classes=[IsAuthenticated],
    )
    async def dashboard_updates(
        self,
        info: strawberry.Info,
        department_id: Annotated[strawberry.ID, strawberry.argument(description="The department.")],
    ) -> AsyncGenerator[DashboardCounts, None]:
        async for event in r.coded(r.dashboard_updates(info, department_id=department_id)):
            yield event
