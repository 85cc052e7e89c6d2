"""The help center's live stream: public changes of one ticket, for the contact it belongs to.

It listens on the ticket's channel (as the agents' ticketUpdates does) and lets through only
what a contact may see: a new public thread or public comment, a status change and the rating.
The hub's `prepare` reads the activity, the ticket and the new message once per event for all
subscribers of this process; each subscriber only re-checks its own access: its token (on a
short cache, so a deactivated contact stops within ACTOR_TTL) and that the ticket is still
theirs (else the stream ends with AccessLost). Envelopes are hints: rows are re-read.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from deskql import models
from deskql.realtime import batch, envelopes, topics
from deskql.realtime.hub import Hub
from deskql.realtime.streams.common import AccessLost, NotFound, _next_batch, _watch
from deskql.services.errors import NotAuthenticated
from deskql.services.helpcenter import access, messages
from deskql.services.helpcenter import tickets as svc
from deskql.services.helpcenter.access import ContactActor

ACTOR_TTL = 0.5
_contacts: dict[str, tuple[float, ContactActor | None, str]] = {}


async def reload_contact(token: str) -> ContactActor:
    """The ContactActor of a token as the database says now (at most ACTOR_TTL old)."""
    now = time.monotonic()
    cached = _contacts.get(token)
    if cached is None or now - cached[0] >= ACTOR_TTL:
        try:
            found: ContactActor | None = await access.authenticate(token)
            reason = ""
        except NotAuthenticated as exc:
            found, reason = None, str(exc)
        if len(_contacts) > 10_000:
            _contacts.clear()
        cached = _contacts[token] = (now, found, reason)
    if cached[1] is None:
        raise AccessLost(f"access lost: {cached[2]}")
    return cached[1]


def forget_contact(token: str) -> None:
    """Drop a token's cached contact (tests)."""
    _contacts.pop(token, None)


@dataclass(frozen=True)
class PublicChange:
    """What a contact is told about one activity: its kind, the ticket and the message."""

    activity_id: int
    kind: str  # MESSAGE, STATUS, RATING
    ticket: models.Ticket
    message: messages.Message | None


def may_see(actor: ContactActor, ticket: models.Ticket) -> bool:
    """Whether the ticket is the contact's (or their account's, as its manager)."""
    if ticket.contact_id == actor.contact_id:  # type: ignore[attr-defined]
        return True
    return (
        actor.is_account_manager
        and actor.account_id is not None
        and ticket.account_id == actor.account_id  # type: ignore[attr-defined]
    )


def public_kind(row: models.Activity) -> str | None:
    """The kind of public change an activity is, or None for what contacts never see."""
    changes = row.changes or {}
    if row.kind in ("ticket.thread_added", "ticket.comment_added"):
        return "MESSAGE" if changes.get("isPublic") is True else None
    if row.kind == "ticket.updated" and "status" in changes:
        return "STATUS"
    if row.kind == "ticket.rated":
        return "RATING"
    if row.kind == "ticket.deleted":
        return "DELETED"
    return None


async def public_change(ticket_id: int, activity_id: int) -> PublicChange | None:
    """The public change an activity of this ticket makes, read once (None: nothing public)."""
    row, ticket = await asyncio.gather(batch.activity(activity_id), batch.ticket(ticket_id))
    if row is None or row.ticket_id != ticket_id:  # type: ignore[attr-defined]
        return None
    kind = public_kind(row)
    if kind is None:
        return None
    if ticket is None or kind == "DELETED":
        return PublicChange(row.id, "DELETED", ticket, None)  # type: ignore[arg-type]
    message = None
    if kind == "MESSAGE":
        changes = row.changes or {}
        kind_pk = (
            ("THREAD", changes.get("threadId"))
            if "threadId" in changes
            else ("COMMENT", changes.get("commentId"))
        )
        if not isinstance(kind_pk[1], int):
            return None
        found = await messages.conversation([ticket_id], only=kind_pk)  # type: ignore[arg-type]
        message = next(iter(found.get(ticket_id, [])), None)
        if message is None:  # made private or deleted since
            return None
    return PublicChange(row.id, kind, ticket, message)


_changes: OrderedDict[int, asyncio.Future[PublicChange | None]] = OrderedDict()


async def _shared_change(ticket_id: int, activity_id: int) -> PublicChange | None:
    """`public_change`, read once for every subscriber of this process it wakes."""
    future = _changes.get(activity_id)
    if future is None:
        future = asyncio.ensure_future(public_change(ticket_id, activity_id))
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        _changes[activity_id] = future
        while len(_changes) > 256:
            _changes.popitem(last=False)
    # Shielded: one subscriber leaving must not cancel the read the others wait for.
    return await asyncio.shield(future)


async def ticket_stream(
    hub: Hub, *, token: str, ticket_id: int, on_drop: Callable[[], Any] | None = None
) -> AsyncIterator[tuple[ContactActor, PublicChange]]:
    """Public changes of one of the contact's tickets, from now on."""
    actor = await reload_contact(token)
    ticket = await svc.get_ticket(actor, ticket_id=ticket_id)
    if ticket is None:
        raise NotFound("no such ticket")

    # No hub `prepare` here: the channel's first subscriber decides it, and the agents'
    # ticketUpdates relies on its own. Subscribers of one ticket share each event's reads
    # through `_shared_change` instead.
    async with hub.subscribe(topics.ticket(ticket_id)) as sub:
        _watch(sub, on_drop)
        seen: set[int] = set()
        while True:
            messages = await _next_batch(sub)
            actor = await reload_contact(token)
            changes: list[PublicChange] = []
            for message in messages:
                pk = message.get("id")
                if message.get("type") != envelopes.ACTIVITY or not isinstance(pk, int):
                    continue
                change = await _shared_change(ticket_id, pk)
                if change is not None and change.activity_id not in seen:
                    seen.add(change.activity_id)
                    changes.append(change)
            for change in changes:
                if change.kind == "DELETED" or change.ticket is None:
                    raise AccessLost("access lost: the ticket was deleted")
                if not may_see(actor, change.ticket):
                    raise AccessLost("access lost: this ticket is no longer yours to see")
                yield actor, change
            if len(seen) > 2000:
                seen.clear()
