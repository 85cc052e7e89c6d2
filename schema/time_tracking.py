"""Time tracking (TIM-1, TIM-2): timers, time entries and a ticket's time totals."""

from __future__ import annotations

from datetime import datetime

import strawberry

from deskql.models.workflows import TimeEntrySource, TimerState
from deskql.resolvers import time_tracking as r
from deskql.schema.errors import MutationError
from deskql.schema.permissions import IsAuthenticated
from deskql.schema.types import Agent, Node, Ticket

strawberry.enum(TimerState, description="RUNNING counts time; PAUSED keeps the time so far.")
strawberry.enum(TimeEntrySource, description="Whether an entry came from a timer or by hand.")


@strawberry.type(
    description="Your timer on a ticket or a task (TIM-1). Its time is computed from stored "
    "times, so it keeps counting across server restarts."
)
class Timer(Node):
    state: TimerState = strawberry.field(description="RUNNING or PAUSED.")
    elapsed_seconds: int = strawberry.field(
        description="Seconds counted so far, up to the moment of this response."
    )
    running_since: datetime | None = strawberry.field(
        description="When the current run started; null while paused."
    )
    started_at: datetime = strawberry.field(description="When the timer was first started.")
    task_id: strawberry.ID | None = strawberry.field(
        description="Global id of the task it runs on; null for a ticket's timer."
    )
    ticket_pk: strawberry.Private[int | None]

    @strawberry.field(description="The ticket it runs on; null for a task's timer.")
    async def ticket(self, info: strawberry.Info) -> Ticket | None:
        return await r.ticket_of(info, self.ticket_pk)


@strawberry.type(description="Time spent on a ticket or a task, billable or not (TIM-2).")
class TimeEntry(Node):
    seconds: int = strawberry.field(description="Duration in seconds.")
    started_at: datetime | None = strawberry.field(description="When the work started.")
    note: str = strawberry.field(description="What the time was spent on.")
    is_billable: bool = strawberry.field(description="True: the time is charged.")
    hourly_rate_cents: int = strawberry.field(
        description="The agent's hourly rate, in cents, when the entry was made."
    )
    cost_cents: int = strawberry.field(
        description="seconds / 3600 * hourlyRateCents, rounded; 0 when not billable."
    )
    source: TimeEntrySource = strawberry.field(description="TIMER or MANUAL.")
    created_at: datetime = strawberry.field(description="When it was logged.")
    task_id: strawberry.ID | None = strawberry.field(
        description="Global id of the task it was logged on, if any."
    )
    agent_pk: strawberry.Private[int]
    ticket_pk: strawberry.Private[int | None]

    @strawberry.field(description="The agent whose time it is.")
    async def agent(self, info: strawberry.Info) -> Agent | None:
        return await info.context.loaders.agent.load(self.agent_pk)

    @strawberry.field(description="The ticket it was logged on; null for a task's entry.")
    async def ticket(self, info: strawberry.Info) -> Ticket | None:
        return await r.ticket_of(info, self.ticket_pk)


@strawberry.type(description="Totals of a ticket's time entries (its tasks' included).")
class TimeSummary:
    total_seconds: int = strawberry.field(description="All logged seconds.")
    billable_seconds: int = strawberry.field(description="Billable seconds.")
    cost_cents: int = strawberry.field(description="Cost of the billable time, in cents.")


@strawberry.input(description="Start your timer on a ticket or a task (give one of them).")
class TimerStartInput:
    ticket_id: strawberry.ID | None = strawberry.field(
        default=None, description="A ticket you may see."
    )
    task_id: strawberry.ID | None = strawberry.field(
        default=None, description="A task of a department you may see."
    )


@strawberry.input(description="Pause your running timer.")
class TimerPauseInput:
    timer_id: strawberry.ID = strawberry.field(description="The timer.")


@strawberry.input(description="Resume your paused timer.")
class TimerResumeInput:
    timer_id: strawberry.ID = strawberry.field(description="The timer.")


@strawberry.input(description="Stop your timer: its time becomes a time entry.")
class TimerStopInput:
    timer_id: strawberry.ID = strawberry.field(description="The timer.")
    note: str = strawberry.field(default="", description="What the time was spent on.")
    is_billable: bool = strawberry.field(default=True, description="Charge the time.")


@strawberry.input(
    description="Time logged by hand on a ticket or a task: give ticketId or taskId, and "
    "seconds or minutes (more than zero, at most 24 hours)."
)
class TimeEntryCreateInput:
    ticket_id: strawberry.ID | None = strawberry.field(
        default=None, description="A ticket you may see."
    )
    task_id: strawberry.ID | None = strawberry.field(
        default=None, description="A task of a department you may see."
    )
    seconds: int | None = strawberry.field(default=None, description="Duration in seconds.")
    minutes: int | None = strawberry.field(default=None, description="Duration in minutes.")
    started_at: datetime | None = strawberry.field(
        default=None, description="When the work started (not in the future)."
    )
    note: str = strawberry.field(default="", description="What the time was spent on.")
    is_billable: bool = strawberry.field(default=True, description="Charge the time.")


@strawberry.input(
    description="Changes to a time entry (your own; administrators any); only the fields you "
    "set change."
)
class TimeEntryUpdateInput:
    id: strawberry.ID = strawberry.field(description="The time entry.")
    seconds: int | None = strawberry.field(
        default=None, description="New duration in seconds (1 to 86400)."
    )
    minutes: int | None = strawberry.field(
        default=None, description="New duration in minutes (instead of seconds)."
    )
    started_at: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="When the work started; null clears it."
    )
    note: str | None = strawberry.field(default=None, description="New note.")
    is_billable: bool | None = strawberry.field(default=None, description="Charge the time or not.")


@strawberry.input(description="The time entry to delete (your own; administrators any).")
class TimeEntryDeleteInput:
    id: strawberry.ID = strawberry.field(description="The time entry.")


@strawberry.type(description="Result of a mutation that changes a timer.")
class TimerPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    timer: Timer | None = strawberry.field(default=None, description="The timer as changed.")


@strawberry.type(description="Result of a mutation that makes, changes or deletes a time entry.")
class TimeEntryPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    time_entry: TimeEntry | None = strawberry.field(
        default=None, description="The entry as changed (as it was, for a delete)."
    )


@strawberry.type
class TimeTrackingMutations:
    @strawberry.mutation(
        description="Start your timer on a ticket or task; your running timer is paused.",
        permission_classes=[IsAuthenticated],
    )
    async def timer_start(self, info: strawberry.Info, input: TimerStartInput) -> TimerPayload:
        return await r.timer_start(info, input)

    @strawberry.mutation(
        description="Pause your running timer (the time so far is kept).",
        permission_classes=[IsAuthenticated],
    )
    async def timer_pause(self, info: strawberry.Info, input: TimerPauseInput) -> TimerPayload:
        return await r.timer_pause(info, input)

    @strawberry.mutation(
        description="Resume your paused timer; your other running timer is paused.",
        permission_classes=[IsAuthenticated],
    )
    async def timer_resume(self, info: strawberry.Info, input: TimerResumeInput) -> TimerPayload:
        return await r.timer_resume(info, input)

    @strawberry.mutation(
        description="Stop your timer: it becomes a TIMER time entry and is removed.",
        permission_classes=[IsAuthenticated],
    )
    async def timer_stop(self, info: strawberry.Info, input: TimerStopInput) -> TimeEntryPayload:
        return await r.timer_stop(info, input)

    @strawberry.mutation(
        description="Log time by hand on a ticket or task (TIM-2).",
        permission_classes=[IsAuthenticated],
    )
    async def time_entry_create(
        self, info: strawberry.Info, input: TimeEntryCreateInput
    ) -> TimeEntryPayload:
        return await r.time_entry_create(info, input)

    @strawberry.mutation(
        description="Change a time entry (your own; administrators any).",
        permission_classes=[IsAuthenticated],
    )
    async def time_entry_update(
        self, info: strawberry.Info, input: TimeEntryUpdateInput
    ) -> TimeEntryPayload:
        return await r.time_entry_update(info, input)

    @strawberry.mutation(
        description="Delete a time entry (your own; administrators any).",
        permission_classes=[IsAuthenticated],
    )
    async def time_entry_delete(
        self, info: strawberry.Info, input: TimeEntryDeleteInput
    ) -> TimeEntryPayload:
        return await r.time_entry_delete(info, input)
