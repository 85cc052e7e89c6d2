"""Time tracking (TIM-1, TIM-2): an agent's timers on tickets and tasks, and time entries with
their cost.

A timer's elapsed time is computed from stored times (accumulated seconds, plus now minus
`running_since` while it runs), never from an in-memory clock, so it survives a restart and
reads the same from every process. An agent has at most one RUNNING timer: starting or
resuming one pauses the other. Stopping a timer turns it into a TIMER time entry and deletes
it. Cost: billable seconds / 3600 * the agent's hourly rate (else the organisation's default),
fixed when the entry is made; non-billable entries cost nothing.

Every change records an Activity row: `timer.*` rows for timers (no notifications: they are
the agent's own bookkeeping) and `ticket.time_logged` / `ticket.time_entry_updated` /
`ticket.time_entry_deleted` on the ticket for entries (a task's entry goes on the task's
ticket, or on the task when it has none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.functions import Sum
from tortoise.queryset import QuerySet

from deskql import models
from deskql.models.workflows import TimeEntrySource, TimerState
from deskql.services import activity, uow, validation
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.policies import can_see_department, visible_tickets
from deskql.services.tickets import ensure_not_merged

MAX_ENTRY_SECONDS = 24 * 3600
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


async def _record_timer(
    actor: Actor, kind: str, timer: models.Timer, target: _Target, **extra: Any
) -> None:
    await activity.record(
        actor=actor,
        kind=kind,
        subject_type="Timer",
        subject_id=timer.id,
        department_id=target.department_id,
        changes={
            "ticketId": target.ticket.id if target.ticket is not None else None,
            "taskId": target.task.id if target.task is not None else None,
            "elapsedSeconds": elapsed_seconds(timer),
            **extra,
        },
    )


async def _pause(actor: Actor, timer: models.Timer, now: datetime, **extra: Any) -> None:
    timer.accumulated_seconds = elapsed_seconds(timer, now)
    timer.state = TimerState.PAUSED
    timer.running_since = None
    await timer.save(update_fields=["accumulated_seconds", "state", "running_since"])
    await _record_timer(actor, "timer.paused", timer, await _target_of(timer), **extra)


async def _pause_others(actor: Actor, keep_id: int | None, now: datetime) -> None:
    """Pause the agent's running timer(s) other than `keep_id` (TIM-1: one runs at a time)."""
    running = await models.Timer.filter(agent_id=actor.agent_id, state=TimerState.RUNNING)
    for other in running:
        if other.id != keep_id:
            await _pause(actor, other, now, reason="another timer started")


async def start_timer(
    actor: Actor, *, ticket_id: int | None = None, task_id: int | None = None
) -> models.Timer:
    """Start the actor's timer on a ticket or task; their running timer, if any, is paused."""
    target = await _target(actor, ticket_id=ticket_id, task_id=task_id)
    async with uow.transaction():
        await _lock_agent(actor.agent_id)
        if await models.Timer.exists(agent_id=actor.agent_id, **target.ids):
            raise ValidationFailed.one(
                "taskId" if task_id is not None else "ticketId",
                "you have a timer on this already: resume or stop it",
                ErrorCode.DUPLICATE,
            )
        now = _now()
        await _pause_others(actor, None, now)
        timer = await models.Timer.create(
            agent_id=actor.agent_id,
            state=TimerState.RUNNING,
            accumulated_seconds=0,
            running_since=now,
            **target.ids,
        )
        await _record_timer(actor, "timer.started", timer, target)
    return timer


def list_timers(actor: Actor) -> QuerySet[models.Timer]:
    """The actor's own timers, oldest first."""
    return models.Timer.filter(agent_id=actor.agent_id).order_by("id")


async def _own_timer(actor: Actor, timer_id: int) -> models.Timer:
    timer = await models.Timer.filter(id=timer_id, agent_id=actor.agent_id).first()
    if timer is None:
        raise ValidationFailed.one("timerId", "no such timer of yours", ErrorCode.NOT_FOUND)
    return timer


async def pause_timer(actor: Actor, *, timer_id: int) -> models.Timer:
    """Pause the actor's running timer; the time so far is kept."""
    async with uow.transaction():
        await _lock_agent(actor.agent_id)
        timer = await _own_timer(actor, timer_id)
        if timer.state is not TimerState.RUNNING:
            raise ValidationFailed.one(
                "timerId", "the timer is paused already", ErrorCode.INVALID_STATE
            )
        await _pause(actor, timer, _now())
    return timer


async def resume_timer(actor: Actor, *, timer_id: int) -> models.Timer:
    """Resume the actor's paused timer; their other running timer, if any, is paused."""
    async with uow.transaction():
        await _lock_agent(actor.agent_id)
        timer = await _own_timer(actor, timer_id)
        if timer.state is not TimerState.PAUSED:
            raise ValidationFailed.one(
                "timerId", "the timer is running already", ErrorCode.INVALID_STATE
            )
        now = _now()
        await _pause_others(actor, timer.id, now)
        timer.state = TimerState.RUNNING
        timer.running_since = now
        await timer.save(update_fields=["state", "running_since"])
        await _record_timer(actor, "timer.resumed", timer, await _target_of(timer))
    return timer


async def stop_timer(
    actor: Actor, *, timer_id: int, note: str = "", is_billable: bool = True
) -> models.TimeEntry:
    """Stop the actor's timer: it becomes a TIMER time entry and is deleted."""
    errors = Errors()
    clean_note = validation.text(errors, "note", note, max_length=NOTE_MAX, multiline=True)
    errors.raise_if_any()
    async with uow.transaction():
        await _lock_agent(actor.agent_id)
        timer = await _own_timer(actor, timer_id)
        target = await _target_of(timer)
        # A timer stopped within its first second still logs a second of work.
        seconds = max(1, elapsed_seconds(timer))
        await _record_timer(actor, "timer.stopped", timer, target)
        await timer.delete()
        entry = await _create_entry(
            actor,
            target=target,
            seconds=seconds,
            started_at=timer.started_at,
            note=clean_note or "",
            is_billable=is_billable,
            source=TimeEntrySource.TIMER,
        )
    return entry


# --- time entries --------------------------------------------------------------------------


def _check_seconds(errors: Errors, seconds: int | None, minutes: int | None) -> int | None:
    """The duration in seconds from `seconds` or `minutes` (one of them), 1 s to 24 h."""
    if (seconds is None) == (minutes is None):
        errors.add("seconds", "give seconds or minutes (one of them)", ErrorCode.INVALID)
        return None
    field_name = "seconds" if seconds is not None else "minutes"
    value = seconds if seconds is not None else (minutes or 0) * 60
    if value <= 0:
        errors.add(field_name, f"{field_name} must be more than zero", ErrorCode.INVALID)
        return None
    if value > MAX_ENTRY_SECONDS:
        errors.add(field_name, "an entry covers at most 24 hours", ErrorCode.LIMIT_EXCEEDED)
        return None
    return value


def _check_started_at(errors: Errors, started_at: datetime | None) -> datetime | None:
    if started_at is None:
        return None
    value = _utc(started_at)
    if value > _now():
        errors.add("startedAt", "startedAt lies in the future", ErrorCode.INVALID)
    return value


async def _record_entry(
    actor: Actor, kind: str, entry: models.TimeEntry, target: _Target, **changes: Any
) -> None:
    summary = {
        "timeEntryId": entry.id,
        "taskId": target.task.id if target.task is not None else None,
        "seconds": entry.seconds,
        "isBillable": entry.is_billable,
        "costCents": entry.cost_cents,
        "source": entry.source.value,
    }
    if target.ticket is not None:
        await activity.record_ticket(
            actor=actor, kind=f"ticket.{kind}", ticket=target.ticket, changes=summary | changes
        )
    else:
        assert target.task is not None
        await activity.record(
            actor=actor,
            kind=f"task.{kind}",
            subject_type="Task",
            subject_id=target.task.id,
            department_id=target.department_id,
            changes=summary | changes,
        )


async def _create_entry(
    actor: Actor,
    *,
    target: _Target,
    seconds: int,
    started_at: datetime | None,
    note: str,
    is_billable: bool,
    source: TimeEntrySource,
) -> models.TimeEntry:
    rate = await hourly_rate_cents(actor.agent_id)
    entry = await models.TimeEntry.create(
        agent_id=actor.agent_id,
        created_by_id=actor.agent_id,
        seconds=seconds,
        started_at=started_at,
        note=note,
        is_billable=is_billable,
        hourly_rate_cents=rate,
        cost_cents=cost_cents(seconds, rate, is_billable),
        source=source,
        **target.ids,
    )
    await _record_entry(actor, "time_logged", entry, target)
    return entry


async def create_entry(
    actor: Actor,
    *,
    ticket_id: int | None = None,
    task_id: int | None = None,
    seconds: int | None = None,
    minutes: int | None = None,
    started_at: datetime | None = None,
    note: str = "",
    is_billable: bool = True,
) -> models.TimeEntry:
    """Log time by hand on a ticket or task (TIM-2): 1 second to 24 hours."""
    errors = Errors()
    duration = _check_seconds(errors, seconds, minutes)
    start = _check_started_at(errors, started_at)
    clean_note = validation.text(errors, "note", note, max_length=NOTE_MAX, multiline=True)
    errors.raise_if_any()
    assert duration is not None
    target = await _target(actor, ticket_id=ticket_id, task_id=task_id)
    async with uow.transaction():
        return await _create_entry(
            actor,
            target=target,
            seconds=duration,
            started_at=start,
            note=clean_note or "",
            is_billable=is_billable,
            source=TimeEntrySource.MANUAL,
        )


async def _own_entry(actor: Actor, entry_id: int) -> tuple[models.TimeEntry, _Target]:
    """An entry the actor may change: their own (administrators: any they may see)."""
    entry = await models.TimeEntry.filter(id=entry_id).first()
    target = await _target_of(entry) if entry is not None else None
    if entry is None or target is None or not can_see_department(actor, target.department_id):
        raise ValidationFailed.one("id", "no such time entry", ErrorCode.NOT_FOUND)
    if entry.agent_id != actor.agent_id and not actor.is_admin:  # type: ignore[attr-defined]
        raise ValidationFailed.one(
            "id",
            "only its agent (or an administrator) may change a time entry",
            ErrorCode.NOT_OWNER,
        )
    return entry, target


async def update_entry(
    actor: Actor,
    *,
    entry_id: int,
    seconds: int | None = None,
    minutes: int | None = None,
    started_at: datetime | None = UNCHANGED,
    note: str | None = None,
    is_billable: bool | None = None,
) -> models.TimeEntry:
    """Change a time entry (own; administrators any); None leaves a field as it is.

    The cost is recomputed at the rate in force when the entry was made.
    """
    errors = Errors()
    values: dict[str, Any] = {}
    if seconds is not None or minutes is not None:
        values["seconds"] = _check_seconds(errors, seconds, minutes)
    if started_at is not UNCHANGED:
        values["started_at"] = _check_started_at(errors, started_at)
    if note is not None:
        values["note"] = (
            validation.text(errors, "note", note, max_length=NOTE_MAX, multiline=True) or ""
        )
    if is_billable is not None:
        values["is_billable"] = is_billable
    errors.raise_if_any()
    entry, target = await _own_entry(actor, entry_id)
    before = {key: getattr(entry, key) for key in values}
    for key, value in values.items():
        setattr(entry, key, value)
    entry.cost_cents = cost_cents(entry.seconds, entry.hourly_rate_cents, entry.is_billable)
    changed = activity.diff(before, {key: getattr(entry, key) for key in values})
    if not changed:
        return entry
    async with uow.transaction():
        await entry.save(update_fields=[*values, "cost_cents"])
        await _record_entry(actor, "time_entry_updated", entry, target, changed=changed)
    return entry


async def delete_entry(actor: Actor, *, entry_id: int) -> models.TimeEntry:
    """Delete a time entry (own; administrators any)."""
    entry, target = await _own_entry(actor, entry_id)
    async with uow.transaction():
        await _record_entry(actor, "time_entry_deleted", entry, target)
        await entry.delete()
    return entry


async def ticket_entries(actor: Actor, *, ticket_id: int) -> QuerySet[models.TimeEntry]:
    """Time entries logged on a ticket (directly or on its tasks), oldest first; none when
    the actor may not see the ticket."""
    if not await visible_tickets(actor).filter(id=ticket_id).exists():
        return models.TimeEntry.filter(id__in=[])
    tasks = models.Task.filter(ticket_id=ticket_id).values("id")
    return models.TimeEntry.filter(
        Q(ticket_id=ticket_id) | Q(task_id__in=Subquery(tasks))
    ).order_by("id")


@dataclass(frozen=True)
class TimeSummary:
    """Totals of a ticket's time entries."""

    total_seconds: int = 0
    billable_seconds: int = 0
    cost_cents: int = 0


async def ticket_summaries(ticket_ids: list[int]) -> dict[int, TimeSummary]:
    """Totals per ticket, in two grouped queries for any number of tickets (callers check
    that the tickets are visible)."""
    if not ticket_ids:
        return {}
    totals: dict[int, list[int]] = {pk: [0, 0, 0] for pk in ticket_ids}

    def add(rows: list[dict[str, Any]], key: str) -> None:
        for row in rows:
            slot = totals[row[key]]
            slot[1 if row["is_billable"] else 0] += row["seconds_sum"] or 0
            slot[2] += row["cost"] or 0

    direct = (
        await models.TimeEntry.filter(ticket_id__in=ticket_ids)
        .annotate(seconds_sum=Sum("seconds"), cost=Sum("cost_cents"))
        .group_by("ticket_id", "is_billable")
        .values("ticket_id", "is_billable", "seconds_sum", "cost")
    )
    add(direct, "ticket_id")
    on_tasks = (
        await models.TimeEntry.filter(task__ticket_id__in=ticket_ids)
        .annotate(seconds_sum=Sum("seconds"), cost=Sum("cost_cents"))
        .group_by("task__ticket_id", "is_billable")
        .values("task__ticket_id", "is_billable", "seconds_sum", "cost")
    )
    add(on_tasks, "task__ticket_id")
    return {
        pk: TimeSummary(
            total_seconds=non_billable + billable, billable_seconds=billable, cost_cents=cost
        )
        for pk, (non_billable, billable, cost) in totals.items()
    }
