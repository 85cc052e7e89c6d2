"""Planned and logged work around tickets, contacts and accounts (ACT-1, ACT-2): events,
calls and the reminders of tasks and events. Tasks themselves are `models.workflows.Task`
(macros create them too); this module adds their status enum."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class TaskStatus(StrEnum):
    """Where a task stands; COMPLETED is the only finished state."""

    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    WAITING = "WAITING"
    DEFERRED = "DEFERRED"
    COMPLETED = "COMPLETED"


class CallDirection(StrEnum):
    """Whether the customer called us or we called them."""

    INBOUND = "INBOUND"
    OUTBOUND = "OUTBOUND"


class CallStatus(StrEnum):
    """Progress of a call; it only moves forward (RINGING -> ANSWERED -> ENDED)."""

    RINGING = "RINGING"
    ANSWERED = "ANSWERED"
    ENDED = "ENDED"


class CallOutcome(StrEnum):
    """How a call ended."""

    COMPLETED = "COMPLETED"
    MISSED = "MISSED"
    VOICEMAIL = "VOICEMAIL"
    BUSY = "BUSY"
    NO_ANSWER = "NO_ANSWER"
    FAILED = "FAILED"


class ReminderStatus(StrEnum):
    """A reminder waits (PENDING), was delivered once (SENT) or was withdrawn (CANCELLED)."""

    PENDING = "PENDING"
    SENT = "SENT"
    CANCELLED = "CANCELLED"


class Event(Model):
    """A meeting or appointment (ACT-1) with agents attending."""

    id = fields.IntField(primary_key=True)
    department = fields.ForeignKeyField(
        "models.Department", related_name="events", on_delete=fields.CASCADE
    )
    title = fields.CharField(max_length=255)
    description = fields.TextField(default="")
    starts_at = fields.DatetimeField(db_index=True)
    ends_at = fields.DatetimeField()
    location = fields.CharField(max_length=255, default="")
    owner = fields.ForeignKeyField(
        "models.Agent", related_name="owned_events", null=True, on_delete=fields.SET_NULL
    )
    ticket = fields.ForeignKeyField(
        "models.Ticket", related_name="events", null=True, on_delete=fields.CASCADE
    )
    contact = fields.ForeignKeyField(
        "models.Contact", related_name="events", null=True, on_delete=fields.SET_NULL
    )
    account = fields.ForeignKeyField(
        "models.Account", related_name="events", null=True, on_delete=fields.SET_NULL
    )
    reminder_at = fields.DatetimeField(null=True)
    created_by = fields.ForeignKeyField(
        "models.Agent", related_name="created_events", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "event"
        ordering = ["id"]


class EventAttendee(Model):
    """An agent attending an event."""

    id = fields.IntField(primary_key=True)
    event = fields.ForeignKeyField(
        "models.Event", related_name="attendees", on_delete=fields.CASCADE
    )
    agent = fields.ForeignKeyField(
        "models.Agent", related_name="attending", on_delete=fields.CASCADE
    )

    class Meta:
        table = "event_attendee"
        unique_together = (("event", "agent"),)


class Call(Model):
    """A phone call, logged by hand or by the telephony bridge (ACT-2)."""

    id = fields.IntField(primary_key=True)
    department = fields.ForeignKeyField(
        "models.Department", related_name="calls", on_delete=fields.CASCADE
    )
    direction = fields.CharEnumField(CallDirection, max_length=8)
    # E.164 (+14155550100); empty for a withheld number.
    number = fields.CharField(max_length=32, default="", db_index=True)
    status = fields.CharEnumField(CallStatus, max_length=8, default=CallStatus.ENDED)
    outcome = fields.CharEnumField(CallOutcome, max_length=10, null=True)
    started_at = fields.DatetimeField(db_index=True)
    answered_at = fields.DatetimeField(null=True)
    ended_at = fields.DatetimeField(null=True)
    duration_seconds = fields.IntField(default=0)
    agent = fields.ForeignKeyField(
        "models.Agent", related_name="calls", null=True, on_delete=fields.SET_NULL
    )
    recording_url = fields.CharField(max_length=500, default="")
    notes = fields.TextField(default="")
    ticket = fields.ForeignKeyField(
        "models.Ticket", related_name="calls", null=True, on_delete=fields.SET_NULL
    )
    contact = fields.ForeignKeyField(
        "models.Contact", related_name="calls", null=True, on_delete=fields.SET_NULL
    )
    account = fields.ForeignKeyField(
        "models.Account", related_name="calls", null=True, on_delete=fields.SET_NULL
    )
    # The telephony provider's id of the call: its events update one row, whatever the order.
    provider_call_id = fields.CharField(max_length=128, null=True, unique=True)
    # Provider event ids already applied (a re-delivered event changes nothing).
    provider_events = fields.JSONField(default=list)
    created_by = fields.ForeignKeyField(
        "models.Agent", related_name="created_calls", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "call"
        ordering = ["id"]


class Reminder(Model):
    """A reminder of a task or an event due at `remind_at`: an outbox row claimed by one
    process (SELECT ... FOR UPDATE SKIP LOCKED) and delivered once to the notification center."""

    id = fields.IntField(primary_key=True)
    task = fields.ForeignKeyField(
        "models.Task", related_name="reminders", null=True, on_delete=fields.CASCADE
    )
    event = fields.ForeignKeyField(
        "models.Event", related_name="reminders", null=True, on_delete=fields.CASCADE
    )
    remind_at = fields.DatetimeField()
    status = fields.CharEnumField(ReminderStatus, max_length=10, default=ReminderStatus.PENDING)
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(default="")
    fired_at = fields.DatetimeField(null=True)
    # The claim that delivered it ("host:pid#random"): which process, for operators too.
    fired_by = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "reminder"
        ordering = ["id"]
        indexes = (("status", "remind_at"),)
