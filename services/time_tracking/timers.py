"""Timers: started, paused, resumed and stopped (into a time entry), one running an agent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.queryset import QuerySet

from deskql import models
from deskql.models.workflows import TimeEntrySource, TimerState
from deskql.services import activity, uow, validation
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.time_tracking.common import (
    NOTE_MAX,
    _lock_agent,
    _now,
    _Target,
    _target,
    _target_of,
    elapsed_seconds,
)
from deskql.services.time_tracking.entries import _create_entry


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
