"""The three subscriptions: notificationCreated, ticketUpdates, dashboardUpdates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry
from graphql import GraphQLError

from deskql import models
from deskql.realtime import direct, sink, streams
from deskql.realtime.hub import SLOW_CONSUMER_CODE, SLOW_CONSUMER_REASON, Hub
from deskql.realtime.shared import SharedEvent
from deskql.resolvers.realtime.notifications import decode_notification_cursor, to_notification
from deskql.schema.context import actor_of
from deskql.schema.ids import decode_id
from deskql.schema.types import Activity, Department, Ticket
from deskql.services.auth import Actor
from deskql.services.errors import ClientError

if TYPE_CHECKING:
    from deskql.schema.realtime import (
        DashboardCounts,
        NotificationCreatedEvent,
        TicketUpdateEvent,
    )


T = TypeVar("T")


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
