"""Agent workflows: macros, tasks, saved ticket views, timers and time entries
(AUT-1, ACT-1, SRC-5, TIM-1, TIM-2)."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from deskql.models.activities import TaskStatus
from deskql.models.enums import TicketPriority


class TimerState(StrEnum):
    """A timer runs or is paused; a stopped timer becomes a time entry and is deleted."""

    RUNNING = "RUNNING"
    PAUSED = "PAUSED"


class TimeEntrySource(StrEnum):
    """Where a time entry came from."""

    TIMER = "TIMER"
    MANUAL = "MANUAL"


class Macro(Model):
    """A named, ordered list of typed actions an agent applies to tickets of one department."""

    id = fields.IntField(primary_key=True)
    department = fields.ForeignKeyField(
        "models.Department", related_name="macros", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=120)
    description = fields.TextField(default="")
    # [{"type": "SET_STATUS", ...}, ...]: validated by services.macros on every write.
    actions = fields.JSONField(default=list)
    created_by = fields.ForeignKeyField(
        "models.Agent", related_name="macros", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "macro"
        unique_together = (("department", "name"),)
        ordering = ["id"]


class Task(Model):
    """A to-do (ACT-1) linked to a ticket, a contact or an account, created by hand or by a
    macro. `title` is its subject and `assignee` its owner; `is_completed` mirrors status."""

    id = fields.IntField(primary_key=True)
    department = fields.ForeignKeyField(
        "models.Department", related_name="tasks", on_delete=fields.CASCADE
    )
    ticket = fields.ForeignKeyField(
        "models.Ticket", related_name="tasks", null=True, on_delete=fields.CASCADE
    )
    contact = fields.ForeignKeyField(
        "models.Contact", related_name="tasks", null=True, on_delete=fields.SET_NULL
    )
    title = fields.CharField(max_length=255)
    description = fields.TextField(default="")
    due_at = fields.DatetimeField(null=True)
    assignee = fields.ForeignKeyField(
        "models.Agent", related_name="assigned_tasks", null=True, on_delete=fields.SET_NULL
    )
    is_completed = fields.BooleanField(default=False)
    completed_at = fields.DatetimeField(null=True)
    created_by = fields.ForeignKeyField(
        "models.Agent", related_name="created_tasks", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    # The account it concerns. A plain indexed id, not a foreign key: tortoise 1.1.9 cannot
    # unapply an added foreign key column on SQLite (its table rebuild keeps `account_id`), so
    # migration 0013 could not be rolled back; a deleted account leaves the id (shown as null).
    account_id = fields.IntField(null=True, db_index=True)
    priority = fields.IntEnumField(
        TicketPriority, default=TicketPriority.MEDIUM, db_default=int(TicketPriority.MEDIUM)
    )
    status = fields.CharEnumField(
        TaskStatus, max_length=12, default=TaskStatus.NOT_STARTED, db_default="NOT_STARTED"
    )
    reminder_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(null=True, auto_now=True)

    class Meta:
        table = "task"
        ordering = ["id"]


class TicketView(Model):
    """A custom ticket list view (SRC-5): saved criteria and sort, private or shared."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=120)
    owner = fields.ForeignKeyField(
        "models.Agent", related_name="ticket_views", null=True, on_delete=fields.CASCADE
    )
    # Shared views are set up by an administrator and listed for every agent.
    is_shared = fields.BooleanField(default=False)
    # The TicketFilter criteria as stored JSON (ids as database ids, enums by name).
    criteria = fields.JSONField(default=dict)
    sort_field = fields.CharField(max_length=32, default="CREATED_AT")
    sort_direction = fields.CharField(max_length=4, default="DESC")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "ticket_view"
        ordering = ["id"]


class Timer(Model):
    """An agent's timer on a ticket or a task (TIM-1). Elapsed time is computed from stored
    times, so a timer survives a server restart: accumulated seconds plus, while running,
    now minus `running_since`."""

    id = fields.IntField(primary_key=True)
    agent = fields.ForeignKeyField("models.Agent", related_name="timers", on_delete=fields.CASCADE)
    ticket = fields.ForeignKeyField(
        "models.Ticket", related_name="timers", null=True, on_delete=fields.CASCADE
    )
    task = fields.ForeignKeyField(
        "models.Task", related_name="timers", null=True, on_delete=fields.CASCADE
    )
    state = fields.CharEnumField(TimerState, max_length=8, default=TimerState.RUNNING)
    accumulated_seconds = fields.IntField(default=0)
    running_since = fields.DatetimeField(null=True)
    started_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "timer"
        unique_together = (("agent", "ticket"), ("agent", "task"))
        ordering = ["id"]


class TimeEntry(Model):
    """Time spent on a ticket or a task (TIM-2), billable or not, with its cost."""

    id = fields.IntField(primary_key=True)
    agent = fields.ForeignKeyField(
        "models.Agent", related_name="time_entries", on_delete=fields.RESTRICT
    )
    ticket = fields.ForeignKeyField(
        "models.Ticket", related_name="time_entries", null=True, on_delete=fields.CASCADE
    )
    task = fields.ForeignKeyField(
        "models.Task", related_name="time_entries", null=True, on_delete=fields.CASCADE
    )
    seconds = fields.IntField()
    started_at = fields.DatetimeField(null=True)
    note = fields.TextField(default="")
    is_billable = fields.BooleanField(default=True)
    # Rate in force when the entry was made, in cents per hour, and the resulting cost.
    hourly_rate_cents = fields.IntField(default=0)
    cost_cents = fields.IntField(default=0)
    source = fields.CharEnumField(TimeEntrySource, max_length=8, default=TimeEntrySource.MANUAL)
    created_by = fields.ForeignKeyField(
        "models.Agent", related_name="created_time_entries", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "time_entry"
        ordering = ["id"]
