"""Following, notifications, activity history and the three subscriptions: decode ids, call
services.follows / services.notifications / realtime.streams, build GraphQL objects."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry
from graphql import GraphQLError

from deskql import models
from deskql.realtime import batch, direct, sink, streams
from deskql.realtime.hub import SLOW_CONSUMER_CODE, SLOW_CONSUMER_REASON, Hub
from deskql.realtime.shared import SharedEvent
from deskql.resolvers.common import mutate, page
from deskql.schema.connections import BadPagination, Connection, Edge, PageInfo, check_first
from deskql.schema.context import actor_of
from deskql.schema.ids import decode_id, input_id, input_ids
from deskql.schema.types import Account, Activity, Agent, Contact, Department, Ticket
from deskql.services import follows as svc
from deskql.services import notifications as notes
from deskql.services import policies
from deskql.services.auth import Actor
from deskql.services.errors import ClientError, PermissionDenied

if TYPE_CHECKING:
    from deskql.schema.realtime import (
        AccountFollowInput,
        ContactFollowInput,
        DashboardCounts,
        Following,
        Notification,
        NotificationCreatedEvent,
        NotificationMarkAllReadInput,
        NotificationMarkReadInput,
        TicketFollowInput,
        TicketUpdateEvent,
    )

T = TypeVar("T")


# -- cursors: keyset on the notification id, stable while new notifications arrive ----------


def notification_cursor(pk: int) -> str:
    """The opaque cursor of a notification (its position in the agent's feed)."""
    return base64.urlsafe_b64encode(f"n:{pk}".encode()).decode().rstrip("=")


def decode_notification_cursor(cursor: str) -> int:
    """The notification id a cursor names; BadPagination when it does not decode."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = raw.partition(":")
        if prefix != "n" or not value.isdigit():
            raise ValueError
        return int(value)
    except (ValueError, UnicodeError):
        raise BadPagination(f"malformed notification cursor {cursor[:60]!r}") from None


# -- following ----------------------------------------------------------------------------


def _payload(name: str) -> Any:
    from deskql.schema import realtime as s

    return getattr(s, name)


async def ticket_follow(info: strawberry.Info, input: TicketFollowInput, follow: bool) -> Any:
    """`ticketFollow` / `ticketUnfollow`."""
    actor = actor_of(info)

    async def run() -> dict[str, Any]:
        pk = input_id(input.ticket_id, "Ticket", "ticketId")
        call = svc.follow_ticket if follow else svc.unfollow_ticket
        row = await call(actor, ticket_id=pk)
        return {"ticket": Ticket.from_row(row), "following": follow}

    return await mutate(_payload("TicketFollowPayload"), run)


async def contact_follow(info: strawberry.Info, input: ContactFollowInput, follow: bool) -> Any:
    """`contactFollow` / `contactUnfollow`."""
    actor = actor_of(info)

    async def run() -> dict[str, Any]:
        pk = input_id(input.contact_id, "Contact", "contactId")
        call = svc.follow_contact if follow else svc.unfollow_contact
        row = await call(actor, contact_id=pk)
        return {"contact": Contact.from_row(row), "following": follow}

    return await mutate(_payload("ContactFollowPayload"), run)


async def account_follow(info: strawberry.Info, input: AccountFollowInput, follow: bool) -> Any:
    """`accountFollow` / `accountUnfollow`."""
    actor = actor_of(info)

    async def run() -> dict[str, Any]:
        pk = input_id(input.account_id, "Account", "accountId")
        call = svc.follow_account if follow else svc.unfollow_account
        row = await call(actor, account_id=pk)
        return {"account": Account.from_row(row), "following": follow}

    return await mutate(_payload("AccountFollowPayload"), run)


async def followers(
    info: strawberry.Info,
    *,
    first: int | None,
    after: str | None,
    ticket_id: int | None = None,
    contact_id: int | None = None,
    account_id: int | None = None,
) -> Connection[Agent]:
    """`followers` of a ticket, contact or account (agents you may see)."""
    query = svc.followers(
        actor_of(info), ticket_id=ticket_id, contact_id=contact_id, account_id=account_id
    )
    return await page(info, query, first=first, after=after, convert=Agent.from_row)


def _only_me(info: strawberry.Info, agent_pk: int, what: str) -> Actor:
    actor = actor_of(info)
    if agent_pk != actor.agent_id:
        raise PermissionDenied(f"{what} is only available on `me`")
    return actor


async def following(info: strawberry.Info, agent_pk: int) -> Following:
    """`me.following`: what the agent follows and may still see."""
    from deskql.schema.realtime import Following

    _only_me(info, agent_pk, "following")
    return Following(agent_pk=agent_pk)


async def followed(
    info: strawberry.Info, agent_pk: int, what: str, *, first: int | None, after: str | None
) -> Connection[Any]:
    """`me.following.tickets|contacts|accounts`: a page of what the agent follows."""
    actor = _only_me(info, agent_pk, "following")
    query, convert = {
        "tickets": (svc.followed_tickets, Ticket.from_row),
        "contacts": (svc.followed_contacts, Contact.from_row),
        "accounts": (svc.followed_accounts, Account.from_row),
    }[what]
    return await page(info, query(actor), first=first, after=after, convert=convert)


# -- activity history ---------------------------------------------------------------------


async def activities(
    info: strawberry.Info,
    *,
    first: int | None,
    after: str | None,
    ticket_id: int | None = None,
    contact_id: int | None = None,
    account_id: int | None = None,
) -> Connection[Activity]:
    """Activity history of a ticket, contact or account, newest first (visible rows only)."""
    query = policies.visible(actor_of(info), models.Activity)
    if ticket_id is not None:
        query = query.filter(ticket_id=ticket_id)
    elif contact_id is not None:
        query = query.filter(contact_id=contact_id)
    else:
        query = query.filter(account_id=account_id)
    return await page(
        info, query.order_by("-id"), first=first, after=after, convert=Activity.from_row
    )


# -- notifications ------------------------------------------------------------------------


def to_notification(
    actor: Actor,
    row: models.Notification | batch.NotificationRow,
    activity: models.Activity | None,
    ticket: models.Ticket | None,
) -> Notification:
    """The GraphQL object of a notification row, given its activity and ticket (the ticket
    only while the agent may see it)."""
    from deskql.schema.ids import to_global_id
    from deskql.schema.realtime import Notification

    visible = ticket is not None and policies.can_view_ticket(actor, ticket)
    return Notification(
        id=strawberry.ID(to_global_id("Notification", row.id)),
        reason=row.reason,
        created_at=row.created_at,
        read_at=row.read_at,
        is_read=row.read_at is not None,
        cursor=notification_cursor(row.id),
        pk=row.id,
        activity_row=activity,
        ticket_row=ticket if visible else None,
        contact_pk=row.contact_id,
        account_pk=row.account_id,
    )


async def to_notifications(actor: Actor, rows: list[models.Notification]) -> list[Notification]:
    """GraphQL objects for notification rows, with their activity and ticket loaded up front
    (batched: one query each for the whole list) so that those fields resolve synchronously."""
    activities = await asyncio.gather(*(batch.activity(r.activity_id) for r in rows))  # type: ignore[attr-defined]
    tickets = await asyncio.gather(
        *(batch.ticket(r.ticket_id) if r.ticket_id else _none() for r in rows)
    )
    return [
        to_notification(actor, row, activity, ticket)
        for row, activity, ticket in zip(rows, activities, tickets, strict=True)
    ]


async def _none() -> None:
    return None


async def notifications(
    info: strawberry.Info,
    agent_pk: int,
    *,
    first: int | None,
    after: str | None,
    unread_only: bool,
    newer_than: str | None,
) -> Connection[Notification]:
    """`me.notifications`: newest first, keyset pagination on the notification id."""
    actor = _only_me(info, agent_pk, "notifications")
    size = check_first(first, info.context.settings.max_page_size)
    before_id = decode_notification_cursor(after) if after else None
    newer_id = decode_notification_cursor(newer_than) if newer_than else None
    query = notes.list_notifications(
        actor, unread_only=unread_only, before_id=before_id, newer_than_id=newer_id
    )
    rows = await query.limit(size + 1) if size else []
    nodes = await to_notifications(actor, rows[:size])
    edges = [Edge(cursor=node.cursor, node=node) for node in nodes]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > size,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count_query=notes.list_notifications(
            actor, unread_only=unread_only, newer_than_id=newer_id
        ),
    )


async def unread_count(info: strawberry.Info) -> int:
    """`unreadNotificationCount`."""
    return await notes.unread_count(actor_of(info))


async def mark_read(info: strawberry.Info, input: NotificationMarkReadInput) -> Any:
    """`notificationMarkRead`."""
    actor = actor_of(info)

    async def run() -> dict[str, Any]:
        pks = input_ids(input.ids, "Notification", "ids")
        rows = await notes.mark_read(actor, notification_ids=pks)
        return {
            "notifications": await to_notifications(actor, rows),
            "unread_count": await notes.unread_count(actor),
        }

    return await mutate(_payload("NotificationMarkReadPayload"), run)


async def mark_all_read(info: strawberry.Info, input: NotificationMarkAllReadInput | None) -> Any:
    """`notificationMarkAllRead`."""
    actor = actor_of(info)

    async def run() -> dict[str, Any]:
        up_to = input.up_to_id if input is not None else None
        pk = input_id(up_to, "Notification", "upToId") if up_to else None
        count = await notes.mark_all_read(actor, up_to_id=pk)
        return {"marked": count, "unread_count": await notes.unread_count(actor)}

    return await mutate(_payload("NotificationMarkAllReadPayload"), run)


# -- subscriptions ------------------------------------------------------------------------


def _hub(info: strawberry.Info) -> Hub:
    request = info.context.request
    hub = getattr(getattr(getattr(request, "app", None), "state", None), "hub", None)
    if hub is None:
        raise ClientError("live updates are not running on this server")
    return hub


def _token(info: strawberry.Info) -> str:
    actor_of(info)  # refuses unauthenticated connections with the reason
    token = streams.connection_token(info.context.connection_params, info.context.request)
    if token is None:
        raise ClientError("no token on this connection")
    return token


def _on_drop(info: strawberry.Info) -> Any:
    websocket = info.context.request

    def drop() -> None:
        asyncio.get_running_loop().create_task(
            streams.close_slow_consumer(websocket, SLOW_CONSUMER_CODE, SLOW_CONSUMER_REASON)
        )

    return drop


async def coded(events: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
    """Subscription errors with their code in `extensions.code`, as queries have them (the
    ErrorCodes extension sees only the operation, not each event of a stream)."""
    try:
        async for event in events:
            yield event
    except ClientError as exc:
        raise GraphQLError(str(exc), extensions={"code": exc.code}, original_error=exc) from exc
    finally:
        await events.aclose()


def _fresh(info: strawberry.Info, actor: Actor) -> None:
    # The WebSocket's context lives as long as the connection: a fresh actor and fresh
    # DataLoaders for every event (STACK_NOTES: a kept loader is a stale cache).
    info.context.actor = actor
    # Built lazily (by `info.context.loaders`) only if a field of this event needs one.
    info.context._loaders = None


async def notification_created(
    info: strawberry.Info, *, after: str | None
) -> AsyncGenerator[NotificationCreatedEvent, None]:
    """`notificationCreated`."""
    from deskql.schema.realtime import NotificationCreatedEvent

    after_id = decode_notification_cursor(after) if after else None
    stream = streams.notification_stream(
        _hub(info), token=_token(info), after_id=after_id, on_drop=_on_drop(info)
    )

    async def events() -> AsyncGenerator[SharedEvent, None]:
        async with aclosing(stream):
            async for actor, delivery in stream:
                _fresh(info, actor)
                notification = to_notification(
                    actor, delivery.row, delivery.activity, delivery.ticket
                )
                event = NotificationCreatedEvent(
                    cursor=notification.cursor,
                    notification=notification,
                    unread_count=delivery.unread,
                )
                ticket = notification.ticket_row
                version = ticket.version if ticket is not None else None
                key = ("notificationCreated", delivery.row.activity_id, version)
                yield SharedEvent(make=lambda e=event: e, key=key, actor=actor, personal=True)

    # Each agent's own notification, but the same activity and ticket for everyone with this
    # document and access: executed once per group, each member's own notification id,
    # cursor, reason and unread count filled into the group's result (realtime/shared.py).
    async for shared_event in sink.fan_out(info, events(), personal=True):
        yield shared_event  # type: ignore[misc]


async def ticket_updates(
    info: strawberry.Info, *, ticket_id: str
) -> AsyncGenerator[TicketUpdateEvent, None]:
    """`ticketUpdates`."""
    from deskql.schema.realtime import TicketUpdateEvent

    pk = decode_id(ticket_id, "Ticket")
    # Idle subscribers get the group's result written without waking (realtime/direct.py).
    send = direct.sender(info, on_sent=lambda actor: _fresh(info, actor))

    def send_event(
        actor: Actor, row: models.Activity, ticket: models.Ticket, frames: direct.Frames
    ) -> direct.Outcome:
        return send(actor, _ticket_event_key(row, ticket), frames)  # type: ignore[misc]

    stream = streams.ticket_stream(
        _hub(info),
        token=_token(info),
        ticket_id=pk,
        on_drop=_on_drop(info),
        send=send_event if send is not None else None,
    )

    async def events() -> AsyncGenerator[SharedEvent, None]:
        async with aclosing(stream):
            async for actor, row, ticket in stream:
                _fresh(info, actor)

                def make(row: models.Activity = row, ticket: models.Ticket | None = ticket) -> Any:
                    activity = Activity.from_row(row)
                    return TicketUpdateEvent(
                        kind=row.kind,
                        changes=activity.changes,
                        activity=activity,
                        ticket=Ticket.from_row(ticket) if ticket is not None else None,
                    )

                yield SharedEvent(make=make, key=_ticket_event_key(row, ticket), actor=actor)

    # The same for everyone with this document and access: executed once per group, and
    # sent pre-encoded to the group's other subscribers (realtime/shared.py).
    async for event in sink.fan_out(info, events()):
        yield event  # type: ignore[misc]


def _ticket_event_key(row: models.Activity, ticket: models.Ticket | None) -> Any:
    # What names a ticketUpdates event in its group key (realtime/shared.py).
    return ("ticketUpdates", row.id, ticket.version if ticket is not None else None)


async def dashboard_updates(
    info: strawberry.Info, *, department_id: str
) -> AsyncGenerator[DashboardCounts, None]:
    """`dashboardUpdates`."""
    from datetime import UTC, datetime

    from deskql.schema.realtime import DashboardCounts

    pk = decode_id(department_id, "Department")
    stream = streams.dashboard_stream(
        _hub(info), token=_token(info), department_id=pk, on_drop=_on_drop(info)
    )
    async for actor, counts in stream:
        _fresh(info, actor)
        department = await models.Department.get(id=pk)
        yield DashboardCounts(
            department=Department.from_row(department), at=datetime.now(UTC), **counts
        )
