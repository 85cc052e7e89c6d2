"""A department's dashboard stream: its ticket counts now, then again whenever they change
(counted once per event for all its dashboards in this process, and on a clock tick)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from deskql import models
from deskql.models.enums import TicketStatus
from deskql.realtime import topics
from deskql.realtime.hub import Hub
from deskql.realtime.streams.actors import reload_actor
from deskql.realtime.streams.common import AccessLost, NotFound, _next_batch, _watch
from deskql.services.auth import Actor
from deskql.services.policies import can_see_department

# How often a dashboard recomputes without events (overdue and "today" change with the clock).
DASHBOARD_TICK = 30.0


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
