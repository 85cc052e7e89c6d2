"""Time entries: created, updated, deleted and listed for a ticket."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from deskql import models
from deskql.models.workflows import TimeEntrySource
from deskql.services import activity, uow, validation
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.policies import can_see_department, visible_tickets
from deskql.services.time_tracking.common import (
    NOTE_MAX,
    UNCHANGED,
    _now,
    _Target,
    _target,
    _target_of,
    _utc,
    cost_cents,
    hourly_rate_cents,
)

MAX_ENTRY_SECONDS = 24 * 3600


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
