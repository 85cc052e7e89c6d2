"""Shared by timers and entries: clocks, costs, hourly rates, the ticket or task timed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from deskql import models
from deskql.models.workflows import TimerState
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, ValidationFailed
from deskql.services.policies import can_see_department, visible_tickets
from deskql.services.tickets import ensure_not_merged

NOTE_MAX = 5000


UNCHANGED: Any = object()


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def elapsed_seconds(timer: models.Timer, now: datetime | None = None) -> int:
    """Seconds a timer has counted: accumulated, plus the current run while it runs."""
    total = timer.accumulated_seconds
    if timer.state is TimerState.RUNNING and timer.running_since is not None:
        run = ((now or _now()) - _utc(timer.running_since)).total_seconds()
        total += max(0, int(run))
    return total


def cost_cents(seconds: int, hourly_rate_cents: int, is_billable: bool) -> int:
    """Cost of billable time at a rate, rounded to the nearest cent; non-billable costs 0."""
    if not is_billable:
        return 0
    return (seconds * hourly_rate_cents + 1800) // 3600


async def hourly_rate_cents(agent_id: int) -> int:
    """The agent's hourly rate, else the organisation's default (TIM-2)."""
    rate = await models.Agent.filter(id=agent_id).values_list("hourly_rate_cents", flat=True)
    if rate and rate[0] is not None:
        return rate[0]
    org = await models.Organisation.all().values_list("default_hourly_rate_cents", flat=True)
    return org[0] if org else 0


@dataclass(frozen=True)
class _Target:
    """What time is tracked on: a ticket, or a task (and the task's ticket, if any)."""

    ticket: models.Ticket | None
    task: models.Task | None

    @property
    def department_id(self) -> int:
        row = self.ticket if self.ticket is not None else self.task
        assert row is not None
        return row.department_id  # type: ignore[attr-defined]

    @property
    def ids(self) -> dict[str, int | None]:
        return {
            "ticket_id": self.ticket.id if self.ticket is not None and self.task is None else None,
            "task_id": self.task.id if self.task is not None else None,
        }


async def _target(actor: Actor, *, ticket_id: int | None, task_id: int | None) -> _Target:
    """The ticket or task the actor tracks time on; NOT_FOUND when they may not see it."""
    if (ticket_id is None) == (task_id is None):
        raise ValidationFailed.one(None, "give ticketId or taskId (one of them)", ErrorCode.INVALID)
    if ticket_id is not None:
        ticket = await visible_tickets(actor).filter(id=ticket_id).first()
        if ticket is None:
            raise ValidationFailed.one("ticketId", "no such ticket", ErrorCode.NOT_FOUND)
        ensure_not_merged(ticket, "ticketId")
        return _Target(ticket, None)
    task = await models.Task.filter(id=task_id).first()
    # A task is visible to whoever may see its department.
    if task is None or not can_see_department(actor, task.department_id):  # type: ignore[attr-defined]
        raise ValidationFailed.one("taskId", "no such task", ErrorCode.NOT_FOUND)
    ticket = None
    if task.ticket_id is not None:  # type: ignore[attr-defined]
        ticket = await models.Ticket.filter(id=task.ticket_id).first()  # type: ignore[attr-defined]
    return _Target(ticket, task)


async def _target_of(row: models.Timer | models.TimeEntry) -> _Target:
    task = None
    if row.task_id is not None:  # type: ignore[attr-defined]
        task = await models.Task.filter(id=row.task_id).first()  # type: ignore[attr-defined]
    ticket_id = task.ticket_id if task is not None else row.ticket_id  # type: ignore[attr-defined]
    ticket = await models.Ticket.filter(id=ticket_id).first() if ticket_id else None
    return _Target(ticket, task)


# --- timers ------------------------------------------------------------------------------


async def _lock_agent(agent_id: int) -> None:
    # Serialises one agent's timer changes (PostgreSQL): two starts at the same moment cannot
    # both see "nothing running" and leave two timers running.
    await models.Agent.filter(id=agent_id).select_for_update().only("id").first()
