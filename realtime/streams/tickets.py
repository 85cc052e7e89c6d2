"""One ticket's activity stream: every activity from now on with the ticket's state after it,
its rows read once per message for all local subscribers (the hub's `prepare`), and served to
idle subscribers without waking them where a resolver gives a way to (realtime/direct.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from tortoise.expressions import Q

from deskql import models
from deskql.realtime import batch, direct, envelopes, topics
from deskql.realtime.hub import PREPARED, Hub
from deskql.realtime.streams.actors import cached_actor, reload_actor, reload_actors
from deskql.realtime.streams.common import (
    AccessLost,
    NotFound,
    _each,
    _next_batch,
    _Seen,
    _watch,
)
from deskql.services.auth import Actor
from deskql.services.policies import can_see_department, can_view_ticket

# A resolver's way to deliver an activity's event without waking the stream (direct.Send
# applied to the event's rows): see realtime/direct.py.
TicketSend = Callable[[Actor, models.Activity, models.Ticket, direct.Frames], direct.Outcome]


def _ticket_route(token: str, ticket_id: int, seen: _Seen, send: TicketSend) -> direct.Route:
    """The stream's own checks for one prepared message, then `send` (realtime/direct.py):
    anything the loop of `ticket_stream` would not simply deliver is left to that loop."""

    def route(message: dict[str, Any], frames: direct.Frames, since: float) -> direct.Outcome:
        prepared = message.get(PREPARED)
        if message.get("type") != envelopes.ACTIVITY or prepared is None:
            return False
        row, ticket = prepared
        if row is None or ticket is None or row.ticket_id != ticket_id:  # type: ignore[attr-defined]
            return False  # not this ticket's, or deleted: the loop handles it
        if row.id in seen.recent_set:
            return False
        actor = cached_actor(token, since)
        if actor is None:
            return direct.Stale(token, reload_actors)
        if not isinstance(actor, Actor) or not can_view_ticket(actor, ticket):
            return False  # the loop ends the stream with AccessLost
        outcome = send(actor, row, ticket, frames)
        if outcome is True:
            seen.add(row.id)
            seen.prune()
        return outcome

    return route


async def ticket_stream(
    hub: Hub,
    *,
    token: str,
    ticket_id: int,
    on_drop: Callable[[], Any] | None = None,
    send: TicketSend | None = None,
) -> AsyncIterator[tuple[Actor, models.Activity, models.Ticket | None]]:
    """Every activity on one ticket from now on, with the ticket's state after it. With
    `send`, an event may reach the subscriber without this generator (realtime/direct.py)."""
    actor = await reload_actor(token)
    ticket = await models.Ticket.filter(id=ticket_id).first()
    if ticket is None or not can_view_ticket(actor, ticket):
        raise NotFound("no such ticket")

    async def prepare(message: dict[str, Any]) -> Any:
        return await _read_activity(ticket_id, message)

    async with hub.subscribe(topics.ticket(ticket_id), prepare) as sub:
        _watch(sub, on_drop)
        seen = _Seen()
        last = await models.Activity.filter(ticket_id=ticket_id).order_by("-id").first()
        seen.max_id = last.id if last else 0
        if send is not None:
            sub.direct = _ticket_route(token, ticket_id, seen, send)
        while True:
            messages = await _next_batch(sub)
            actor = await reload_actor(token)
            prepared = messages[0].get(PREPARED) if len(messages) == 1 else None
            if prepared is not None:
                # The usual case: one event, whose rows the hub read once for every
                # subscriber of this process before waking them (`_read_activity`).
                row, ticket = prepared
                rows = [row] if row is not None and row.ticket_id == ticket_id else []  # type: ignore[attr-defined]
            else:
                wanted = {
                    m["id"]
                    for m in messages
                    if m.get("type") == envelopes.ACTIVITY and isinstance(m.get("id"), int)
                } - seen.recent_set
                if any(m.get("type") == envelopes.RESYNC for m in messages):
                    query = Q(id__in=list(wanted) or [0]) | Q(id__gt=seen.max_id)
                    rows = await models.Activity.filter(query, ticket_id=ticket_id).order_by("id")
                else:
                    # Batched: every subscriber of this process woken by the event reads the
                    # activity and the ticket in one query each, not one per subscriber.
                    rows = [
                        row
                        for row in await _each(batch.activity, sorted(wanted))
                        if row is not None and row.ticket_id == ticket_id  # type: ignore[attr-defined]
                    ]
                ticket = await batch.ticket(ticket_id)
            for row in rows:
                if row.id in seen.recent_set:
                    continue
                seen.add(row.id)
                if ticket is None:
                    # Deleted: deliver the deletion (if the department is still theirs) and end.
                    if can_see_department(actor, row.department_id):
                        yield actor, row, None
                    if row.kind == "ticket.deleted":
                        return
                    continue
                if not can_view_ticket(actor, ticket):
                    raise AccessLost("access lost: you can no longer see this ticket")
                yield actor, row, ticket
            if ticket is None:
                return
            seen.prune()


async def _read_activity(
    ticket_id: int, message: dict[str, Any]
) -> tuple[models.Activity | None, models.Ticket | None] | None:
    """The activity an envelope on a ticket's channel names, and the ticket now: the hub's
    `prepare` for ticket channels (read once per message, not once per subscriber)."""
    pk = message.get("id")
    if message.get("type") != envelopes.ACTIVITY or not isinstance(pk, int):
        return None
    row, ticket = await asyncio.gather(batch.activity(pk), batch.ticket(ticket_id))
    return row, ticket
