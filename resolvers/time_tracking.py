"""Time tracking resolvers: decode ids, call services.time_tracking, build payloads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.dataloader import DataLoader

from deskql import models
from deskql.resolvers.common import mutate, page
from deskql.schema.connections import Connection
from deskql.schema.context import actor_of
from deskql.schema.ids import input_id, optional_input_id, to_global_id
from deskql.schema.types import Ticket
from deskql.services import policies
from deskql.services import time_tracking as svc
from deskql.services.errors import PermissionDenied

if TYPE_CHECKING:
    from deskql.schema.time_tracking import (
        TimeEntry,
        TimeEntryCreateInput,
        TimeEntryDeleteInput,
        TimeEntryUpdateInput,
        Timer,
        TimerPauseInput,
        TimerResumeInput,
        TimerStartInput,
        TimerStopInput,
        TimeSummary,
    )


def to_timer(row: models.Timer) -> Timer:
    """The GraphQL Timer of a row, its elapsed time computed now."""
    from deskql.schema.time_tracking import Timer

    task_pk = row.task_id  # type: ignore[attr-defined]
    return Timer(
        id=strawberry.ID(to_global_id("Timer", row.id)),
        state=row.state,
        elapsed_seconds=svc.elapsed_seconds(row),
        running_since=row.running_since,
        started_at=row.started_at,
        task_id=strawberry.ID(to_global_id("Task", task_pk)) if task_pk else None,
        ticket_pk=row.ticket_id,  # type: ignore[attr-defined]
    )


def to_entry(row: models.TimeEntry) -> TimeEntry:
    """The GraphQL TimeEntry of a row."""
    from deskql.schema.time_tracking import TimeEntry

    task_pk = row.task_id  # type: ignore[attr-defined]
    return TimeEntry(
        id=strawberry.ID(to_global_id("TimeEntry", row.id)),
        seconds=row.seconds,
        started_at=row.started_at,
        note=row.note,
        is_billable=row.is_billable,
        hourly_rate_cents=row.hourly_rate_cents,
        cost_cents=row.cost_cents,
        source=row.source,
        created_at=row.created_at,
        task_id=strawberry.ID(to_global_id("Task", task_pk)) if task_pk else None,
        agent_pk=row.agent_id,  # type: ignore[attr-defined]
        ticket_pk=row.ticket_id,  # type: ignore[attr-defined]
    )


async def ticket_of(info: strawberry.Info, ticket_pk: int | None) -> Ticket | None:
    """A timer's or entry's ticket, if the actor may (still) see it."""
    if ticket_pk is None:
        return None
    ticket = await info.context.loaders.ticket.load(ticket_pk)
    if ticket is None or not policies.can_see_department(actor_of(info), ticket.department_pk):
        return None
    return ticket


async def me_timers(info: strawberry.Info, agent_pk: int) -> list[Timer]:
    """`me.timers`: the agent's own timers, oldest first."""
    actor = actor_of(info)
    if agent_pk != actor.agent_id:
        raise PermissionDenied("timers is only available on `me`")
    return [to_timer(row) for row in await svc.list_timers(actor)]


async def ticket_time_entries(
    info: strawberry.Info, ticket_pk: int, *, first: int | None, after: str | None
) -> Connection[TimeEntry]:
    """`Ticket.timeEntries`."""
    query = await svc.ticket_entries(actor_of(info), ticket_id=ticket_pk)
    return await page(info, query, first=first, after=after, convert=to_entry)


def _summary_loader(info: strawberry.Info) -> DataLoader[int, Any]:
    # Kept on the request's Loaders object so that a ticket list asks once for the page.
    loaders = info.context.loaders
    loader = getattr(loaders, "_time_summary", None)
    if loader is None:

        async def load(keys: Sequence[int]) -> list[Any]:
            found = await svc.ticket_summaries(list(set(keys)))
            return [found[k] for k in keys]

        loader = DataLoader(load_fn=load)
        loaders._time_summary = loader
    return loader


async def ticket_time_summary(info: strawberry.Info, ticket: Ticket) -> TimeSummary:
    """`Ticket.timeSummary` (the Ticket object exists only for tickets the actor may see)."""
    from deskql.schema.time_tracking import TimeSummary

    totals = await _summary_loader(info).load(ticket.pk)
    return TimeSummary(
        total_seconds=totals.total_seconds,
        billable_seconds=totals.billable_seconds,
        cost_cents=totals.cost_cents,
    )


# --- mutations -------------------------------------------------------------------------


def _target_ids(input_obj: Any) -> dict[str, int | None]:
    return {
        "ticket_id": optional_input_id(input_obj.ticket_id, "Ticket", "ticketId"),
        "task_id": optional_input_id(input_obj.task_id, "Task", "taskId"),
    }


async def timer_start(info: strawberry.Info, input: TimerStartInput) -> Any:
    """`timerStart`."""
    from deskql.schema.time_tracking import TimerPayload

    async def run() -> dict[str, Any]:
        row = await svc.start_timer(actor_of(info), **_target_ids(input))
        return {"timer": to_timer(row)}

    return await mutate(TimerPayload, run)


async def timer_pause(info: strawberry.Info, input: TimerPauseInput) -> Any:
    """`timerPause`."""
    from deskql.schema.time_tracking import TimerPayload

    async def run() -> dict[str, Any]:
        timer_id = input_id(input.timer_id, "Timer", "timerId")
        return {"timer": to_timer(await svc.pause_timer(actor_of(info), timer_id=timer_id))}

    return await mutate(TimerPayload, run)


async def timer_resume(info: strawberry.Info, input: TimerResumeInput) -> Any:
    """`timerResume`."""
    from deskql.schema.time_tracking import TimerPayload

    async def run() -> dict[str, Any]:
        timer_id = input_id(input.timer_id, "Timer", "timerId")
        return {"timer": to_timer(await svc.resume_timer(actor_of(info), timer_id=timer_id))}

    return await mutate(TimerPayload, run)


async def timer_stop(info: strawberry.Info, input: TimerStopInput) -> Any:
    """`timerStop`."""
    from deskql.schema.time_tracking import TimeEntryPayload

    async def run() -> dict[str, Any]:
        row = await svc.stop_timer(
            actor_of(info),
            timer_id=input_id(input.timer_id, "Timer", "timerId"),
            note=input.note,
            is_billable=input.is_billable,
        )
        return {"time_entry": to_entry(row)}

    return await mutate(TimeEntryPayload, run)


async def time_entry_create(info: strawberry.Info, input: TimeEntryCreateInput) -> Any:
    """`timeEntryCreate`."""
    from deskql.schema.time_tracking import TimeEntryPayload

    async def run() -> dict[str, Any]:
        row = await svc.create_entry(
            actor_of(info),
            **_target_ids(input),
            seconds=input.seconds,
            minutes=input.minutes,
            started_at=input.started_at,
            note=input.note,
            is_billable=input.is_billable,
        )
        return {"time_entry": to_entry(row)}

    return await mutate(TimeEntryPayload, run)


async def time_entry_update(info: strawberry.Info, input: TimeEntryUpdateInput) -> Any:
    """`timeEntryUpdate`."""
    from deskql.schema.time_tracking import TimeEntryPayload

    async def run() -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if input.started_at is not strawberry.UNSET:
            extra["started_at"] = input.started_at
        row = await svc.update_entry(
            actor_of(info),
            entry_id=input_id(input.id, "TimeEntry", "id"),
            seconds=input.seconds,
            minutes=input.minutes,
            note=input.note,
            is_billable=input.is_billable,
            **extra,
        )
        return {"time_entry": to_entry(row)}

    return await mutate(TimeEntryPayload, run)


async def time_entry_delete(info: strawberry.Info, input: TimeEntryDeleteInput) -> Any:
    """`timeEntryDelete`."""
    from deskql.schema.time_tracking import TimeEntryPayload

    async def run() -> dict[str, Any]:
        row = await svc.delete_entry(actor_of(info), entry_id=input_id(input.id, "TimeEntry", "id"))
        return {"time_entry": to_entry(row)}

    return await mutate(TimeEntryPayload, run)
