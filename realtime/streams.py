"""The three live streams behind the GraphQL subscriptions, as plain async generators of rows.

Every stream subscribes to the hub FIRST and only then reads what it must replay from the
tables, so nothing committed in between is missed; it dedupes by row id at the seam. For every
event it re-loads the Actor from the connection's token (on a short cache) and re-checks access:
a revoked token, a deactivated agent or a lost department membership ends the stream with an
AccessLost error. Envelopes are only hints: rows are always re-read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from tortoise.expressions import Q

from deskql import models
from deskql.models.enums import TicketStatus
from deskql.realtime import batch, direct, envelopes, topics
from deskql.realtime.hub import PREPARED, Hub, LocalSubscription
from deskql.services import notifications as notes
from deskql.services.auth import Actor
from deskql.services.errors import ClientError
from deskql.services.policies import can_see_department, can_view_ticket

log = logging.getLogger("deskql.streams")
T = TypeVar("T")

# Seconds a re-loaded Actor is reused at most: bounds the database work of a burst of events
# while a revoked token or lost membership still stops a stream within this time. Past half
# of it the Actor is still served, and re-read in the background for every such token at
# once, so a steady stream of events never waits for the re-check (`_refresh_ahead`).
ACTOR_TTL = 0.5
# How often a dashboard recomputes without events (overdue and "today" change with the clock).
DASHBOARD_TICK = 30.0
REPLAY_LIMIT = 1000
# How long, and how many, delivered ids each stream remembers to drop duplicates (_Seen).
SEEN_WINDOW = 10.0
SEEN_MAX = 2000

_actors: dict[str, tuple[float, Actor | None, str]] = {}


class AccessLost(ClientError):
    """The subscriber may no longer see what it subscribed to; the stream ends."""

    code = "FORBIDDEN"


class NotFound(ClientError):
    """Subscribing to something that does not exist or that the agent may not see."""

    code = "NOT_FOUND"


async def reload_actor(token: str) -> Actor:
    """The Actor of a token as the database says now (at most ACTOR_TTL seconds old)."""
    now = time.monotonic()
    cached = _actors.get(token)
    age = now - cached[0] if cached is not None else ACTOR_TTL
    if cached is not None and age < ACTOR_TTL:
        actor, reason = cached[1], cached[2]
        if age >= ACTOR_TTL / 2:
            _refresh_ahead(token)
    else:
        # Batched: every subscriber woken by one event re-checks its token in one query.
        actor, reason = _remember(token, now, await batch.actor(token))
    if actor is None:
        raise AccessLost(f"access lost: {reason}")
    return actor


def cached_actor(token: str, since: float | None = None) -> Actor | str | None:
    """`reload_actor` without waiting: the cached Actor (re-read ahead as `reload_actor`
    does), the reason the token is refused, or None when it must be re-read first.

    `since` (time.monotonic() when the event being delivered arrived): the Actor counts as
    fresh if it was read at most ACTOR_TTL before then. An event is delivered only on an
    access check made at most ACTOR_TTL before it arrived (or after), however long its
    delivery to thousands of subscribers takes: an Actor re-read for this event does not go
    stale again halfway through delivering it."""
    cached = _actors.get(token)
    if cached is None:
        return None
    now = time.monotonic()
    age = now - cached[0]
    if (now if since is None else min(since, now)) - cached[0] >= ACTOR_TTL:
        return None
    if age >= ACTOR_TTL / 2:
        _refresh_ahead(token)
    return cached[1] if cached[1] is not None else cached[2]


async def reload_actors(tokens: list[str]) -> None:
    """Re-read the Actors of these tokens now, in one query (into the cache)."""
    at = time.monotonic()
    found = await batch.load_actors(tokens)
    for token, value in zip(tokens, found, strict=True):
        _remember(token, at, value)


def _remember(token: str, at: float, found: Actor | str) -> tuple[Actor | None, str]:
    actor, reason = (found, "") if isinstance(found, Actor) else (None, found)
    if len(_actors) > 10_000:
        _actors.clear()
    _actors[token] = (at, actor, reason)
    return actor, reason


_stale: set[str] = set()
_refresher: asyncio.Task[None] | None = None


def _refresh_ahead(token: str) -> None:
    """Re-read this token's Actor soon, with every other token that got old meanwhile."""
    global _refresher
    _stale.add(token)
    if _refresher is None or _refresher.done():
        _refresher = asyncio.get_running_loop().create_task(_refresh())


async def _refresh() -> None:
    await asyncio.sleep(0)  # let every subscriber woken by this event add its token
    while _stale:
        tokens = list(_stale)
        _stale.clear()
        try:
            await reload_actors(tokens)
        except Exception:  # noqa: BLE001 - the next reload_actor re-reads it synchronously
            log.warning("re-reading %d subscribers' tokens failed", len(tokens))
            return


def connection_token(params: Any, request: Any = None) -> str | None:
    """The token of a WebSocket: connection_init payload {"token": ...} or
    {"Authorization": "Bearer ..."} (any case), else the handshake's Authorization header."""
    if isinstance(params, dict):
        token = params.get("token")
        if isinstance(token, str) and token.strip():
            return token.strip()
        for key, value in params.items():
            if isinstance(key, str) and key.lower() == "authorization" and isinstance(value, str):
                scheme, _, rest = value.partition(" ")
                if scheme.lower() == "bearer" and rest.strip():
                    return rest.strip()
    headers = getattr(request, "headers", None)
    if headers is not None:
        scheme, _, rest = (headers.get("authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and rest.strip():
            return rest.strip()
    return None


def forget_actor(token: str) -> None:
    """Drop a token's cached Actor (tests, and after a revocation in this process)."""
    _actors.pop(token, None)
    _stale.discard(token)


class _Seen:
    """Ids already delivered: the highest one and the recent ones (for late commits and the
    replay seam), kept SEEN_WINDOW seconds and at most SEEN_MAX of them.

    Every subscriber has one, so it must not grow with the events: holding the last 2,000
    ids of each of 1,000 subscribers was the memory growth bench/fanout.py measured (+13 MiB
    over 200 events). A duplicate can only come from an envelope that arrives after the
    same row was read by a replay or a resync, which is milliseconds, not seconds, later.
    """

    def __init__(self, start: int = 0) -> None:
        self.max_id = start
        self.recent: deque[tuple[float, int]] = deque()
        self.recent_set: set[int] = set()

    def add(self, pk: int) -> None:
        if len(self.recent) >= SEEN_MAX:
            self.recent_set.discard(self.recent.popleft()[1])
        self.recent.append((time.monotonic(), pk))
        self.recent_set.add(pk)
        self.max_id = max(self.max_id, pk)

    def prune(self) -> None:
        """Forget ids delivered more than SEEN_WINDOW seconds ago (call between batches)."""
        horizon = time.monotonic() - SEEN_WINDOW
        recent = self.recent
        while recent and recent[0][0] < horizon:
            self.recent_set.discard(recent.popleft()[1])


def _watch(sub: LocalSubscription, on_drop: Callable[[], Any] | None) -> None:
    sub.on_drop = on_drop


async def _next_batch(sub: LocalSubscription, wait: float | None = None) -> list[dict[str, Any]]:
    """The next envelope plus any already waiting (bursts are handled in one pass)."""
    if wait is None:
        first = await sub.get()
    else:
        try:
            first = await asyncio.wait_for(sub.get(), wait)
        except TimeoutError:
            return []
    return [first, *sub.drain()]


async def notification_stream(
    hub: Hub,
    *,
    token: str,
    after_id: int | None,
    on_drop: Callable[[], Any] | None = None,
) -> AsyncIterator[tuple[Actor, batch.Delivery]]:
    """The agent's notifications newer than `after_id` (replayed), then live ones, each with
    its activity, ticket and the agent's unread count (`batch.Delivery`)."""
    actor = await reload_actor(token)
    async with hub.subscribe(topics.agent(actor.agent_id)) as sub:
        _watch(sub, on_drop)
        seen = _Seen()
        if after_id is not None:
            seen.max_id = after_id
            pks = await notes.notification_ids_after(actor, after_id=after_id, limit=REPLAY_LIMIT)
            for delivery in await _deliveries(pks, actor):
                actor = await reload_actor(token)
                if delivery is not None and _may_see(actor, delivery):
                    seen.add(delivery.row.id)
                    yield actor, delivery
        else:
            # Live only: start after the newest notification that exists now.
            newest = await notes.list_notifications(actor).first()
            seen.max_id = newest.id if newest else 0
        while True:
            messages = await _next_batch(sub)
            actor = await reload_actor(token)
            wanted: set[int] = set()
            catch_up = False
            for message in messages:
                if message.get("type") == envelopes.RESYNC:
                    catch_up = True
                elif message.get("type") == envelopes.NOTIFICATION:
                    pk = message.get("id")
                    if isinstance(pk, int) and pk not in seen.recent_set:
                        wanted.add(pk)
            if catch_up:
                wanted.update(
                    await notes.notification_ids_after(
                        actor, after_id=seen.max_id, limit=REPLAY_LIMIT
                    )
                )
            # Rows named by envelopes (also ids below max_id, committed late), the agent's only.
            for delivery in await _deliveries(sorted(wanted - seen.recent_set), actor):
                if delivery is None or delivery.row.id in seen.recent_set:
                    continue
                seen.add(delivery.row.id)
                if _may_see(actor, delivery):
                    yield actor, delivery
            seen.prune()


async def _deliveries(pks: list[int], actor: Actor) -> list[batch.Delivery | None]:
    return await _each(lambda pk: batch.delivery(pk, actor), pks)


async def _each(load: Callable[[int], Awaitable[T]], pks: list[int]) -> list[T]:
    """`load` of every pk, through the batch loaders (one query for all subscribers)."""
    if len(pks) == 1:  # the usual case: no gather (it costs more than the load)
        return [await load(pks[0])]
    return list(await asyncio.gather(*(load(pk) for pk in pks)))


def _may_see(actor: Actor, delivery: batch.Delivery) -> bool:
    """Whether the agent may still see the record a notification is about."""
    if delivery.row.ticket_id is None:
        return True
    if delivery.ticket is not None:
        return can_view_ticket(actor, delivery.ticket)
    # The ticket was deleted: the department it was in when the activity was written.
    activity = delivery.activity
    return activity is not None and can_see_department(actor, activity.department_id)  # type: ignore[attr-defined]


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


def _start_of_day(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


async def dashboard_counts(department_id: int) -> dict[str, int]:
    """Live counts of a department's (non-spam) tickets; "today" is the current UTC day."""
    now = datetime.now(UTC)
    today = _start_of_day(now)
    qs = models.Ticket.filter(department_id=department_id, is_spam=False)
    not_closed = qs.exclude(status=TicketStatus.CLOSED)
    return {
        "open": await qs.filter(status=TicketStatus.OPEN).count(),
        "on_hold": await qs.filter(status=TicketStatus.ON_HOLD).count(),
        "escalated": await qs.filter(status=TicketStatus.ESCALATED).count(),
        "unassigned": await not_closed.filter(
            assignee_agent_id__isnull=True, assignee_team_id__isnull=True
        ).count(),
        "overdue": await not_closed.filter(due_at__lt=now).count(),
        "created_today": await qs.filter(created_at__gte=today).count(),
        "closed_today": await qs.filter(status=TicketStatus.CLOSED, closed_at__gte=today).count(),
        # ACT-1: open tasks of the department past their due time.
        "overdue_tasks": await models.Task.filter(
            department_id=department_id, is_completed=False, due_at__lt=now
        ).count(),
    }


_counting: dict[int, tuple[dict[str, Any], asyncio.Future[dict[str, int]]]] = {}


async def _counts_after(department_id: int, envelope: dict[str, Any] | None) -> dict[str, int]:
    """A department's counts once per envelope for all its dashboards in this process.

    The hub hands every local subscriber of a channel the same envelope object, and counts
    taken after it arrived include its change; so the first dashboard woken by it counts and
    the others share that (7 queries per event, not 7 per dashboard). Clock ticks count alone.
    """
    if envelope is None:
        return await dashboard_counts(department_id)
    entry = _counting.get(department_id)
    if entry is None or entry[0] is not envelope:
        future = asyncio.ensure_future(dashboard_counts(department_id))
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        entry = _counting[department_id] = (envelope, future)
    # Shielded: one dashboard leaving must not cancel the count the others wait for.
    return await asyncio.shield(entry[1])


async def dashboard_stream(
    hub: Hub,
    *,
    token: str,
    department_id: int,
    on_drop: Callable[[], Any] | None = None,
    tick: float | None = None,
) -> AsyncIterator[tuple[Actor, dict[str, int]]]:
    """A department's counts now, then again whenever they change."""
    actor = await reload_actor(token)
    if not can_see_department(actor, department_id) or not await models.Department.exists(
        id=department_id
    ):
        raise NotFound("no such department")
    async with hub.subscribe(topics.department(department_id)) as sub:
        _watch(sub, on_drop)
        last = await dashboard_counts(department_id)
        yield actor, last
        while True:
            messages = await _next_batch(sub, wait=tick or DASHBOARD_TICK)
            actor = await reload_actor(token)
            if not can_see_department(actor, department_id):
                raise AccessLost("access lost: you are no longer a member of this department")
            counts = await _counts_after(department_id, messages[-1] if messages else None)
            if counts != last:
                last = counts
                yield actor, counts


async def close_slow_consumer(websocket: Any, code: int, reason: str) -> None:
    """Close a WebSocket whose client does not keep up (best effort)."""
    with contextlib.suppress(Exception):
        await websocket.close(code=code, reason=reason)
