"""Notifications and activity history: cursors, pages, unread counts, marking read."""

from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING, Any

import strawberry

from deskql import models
from deskql.realtime import batch
from deskql.resolvers.common import mutate, page
from deskql.resolvers.realtime.follows import _only_me, _payload
from deskql.schema.connections import (
    COMPILING,
    BadPagination,
    Connection,
    Edge,
    PageInfo,
)
from deskql.schema.context import actor_of
from deskql.schema.ids import input_id, input_ids
from deskql.schema.page_request import PageRequest
from deskql.schema.types import Activity
from deskql.services import notifications as notes
from deskql.services import policies
from deskql.services.auth import Actor

if TYPE_CHECKING:
    from deskql.schema.realtime import (
        Notification,
        NotificationMarkAllReadInput,
        NotificationMarkReadInput,
    )


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
    from deskql.schema.realtime import Notification

    visible = ticket is not None and policies.can_view_ticket(actor, ticket)
    return Notification.from_row(row, activity, ticket if visible else None)


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
    """`me.notifications`: newest first, keyset pagination on the notification id (`after`:
    older ones, `before`: newer ones; `last` counts back from `before` or from the oldest)."""
    actor = _only_me(info, agent_pk, "notifications")
    request = PageRequest.of(info, first, after)
    size = request.size()
    older_than = decode_notification_cursor(after) if after else None
    newer_only = decode_notification_cursor(newer_than) if newer_than else None
    before_id = decode_notification_cursor(request.before) if request.before else None
    # `before` a notification: newer than it (and than `newerThan`, if both are given).
    newer_id = max((i for i in (newer_only, before_id) if i is not None), default=None)
    query = notes.list_notifications(
        actor, unread_only=unread_only, before_id=older_than, newer_than_id=newer_id
    )
    backward = request.backward
    if backward:
        # The page nearest the end: read from the oldest up, then put back newest first.
        query = query.order_by("id")
    compiled = COMPILING.get()
    edges: list[Edge[Any]]
    if compiled is not None and compiled.model is models.Notification:
        # The compiled read path reads the page's columns itself; its rows are the nodes.
        COMPILING.set(None)
        rows = await compiled.fetch(query.limit(size + 1)) if size else []
        chosen = _in_feed_order(rows[:size], backward)
        edges = [Edge(cursor=notification_cursor(row.id), node=row) for row in chosen]
    else:
        rows = await query.limit(size + 1) if size else []
        nodes = await to_notifications(actor, _in_feed_order(rows[:size], backward))
        edges = [Edge(cursor=node.cursor, node=node) for node in nodes]
    more = len(rows) > size
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=(more and not backward) or before_id is not None,
            has_previous_page=(more and backward) or after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count_query=notes.list_notifications(
            actor, unread_only=unread_only, newer_than_id=newer_only
        ),
        handles_backward=True,
    )


def _in_feed_order(rows: list[Any], backward: bool) -> list[Any]:
    """Rows read oldest first for a backward page, newest first again."""
    return rows[::-1] if backward else rows


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
