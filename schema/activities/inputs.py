"""Inputs, filters, sorts and payloads of tasks, events and calls."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from deskql.models.activities import CallDirection, CallOutcome, TaskStatus
from deskql.models.enums import TicketPriority
from deskql.schema.activities.types import Call, Event, Task
from deskql.schema.errors import MutationError
from deskql.schema.tickets import SortDirection
from deskql.schema.types import Agent

_UNSET = strawberry.UNSET


def _id(description: str) -> strawberry.ID | None:
    return strawberry.field(default=None, description=description)  # type: ignore[return-value]


# -- tasks ------------------------------------------------------------------------------------


@strawberry.input(
    description="A new task: link it to a ticket, a contact or an account (or several). Its "
    "department is the ticket's, else `departmentId`, else your only department. A due time in "
    "the past is allowed (the task is overdue at once)."
)
class TaskCreateInput:
    subject: str = strawberry.field(description="What is to be done (<= 255 characters).")
    description: str = strawberry.field(default="", description="Details.")
    due_at: datetime | None = strawberry.field(default=None, description="When it is due.")
    priority: TicketPriority = strawberry.field(
        default=TicketPriority.MEDIUM, description="LOW to URGENT."
    )
    status: TaskStatus = strawberry.field(
        default=TaskStatus.NOT_STARTED, description="Where it stands."
    )
    owner_id: strawberry.ID | None = _id("Who is to do it (default: you).")
    reminder_at: datetime | None = strawberry.field(
        default=None, description="When to remind its owner (not on a completed task)."
    )
    department_id: strawberry.ID | None = _id("Its department (when no ticket is linked).")
    ticket_id: strawberry.ID | None = _id("A ticket you may see.")
    contact_id: strawberry.ID | None = _id("A contact.")
    account_id: strawberry.ID | None = _id("An account.")


@strawberry.input(description="Changes to a task; fields left out stay as they are.")
class TaskUpdateInput:
    id: strawberry.ID = strawberry.field(description="The task.")
    subject: str | None = strawberry.field(default=_UNSET, description="New subject.")
    description: str | None = strawberry.field(default=_UNSET, description="New details.")
    due_at: datetime | None = strawberry.field(default=_UNSET, description="Due; null clears.")
    priority: TicketPriority | None = strawberry.field(default=_UNSET, description="Priority.")
    status: TaskStatus | None = strawberry.field(default=_UNSET, description="New status.")
    owner_id: strawberry.ID | None = strawberry.field(default=_UNSET, description="New owner.")
    reminder_at: datetime | None = strawberry.field(
        default=_UNSET, description="New reminder time; null removes the reminder."
    )
    ticket_id: strawberry.ID | None = strawberry.field(
        default=_UNSET, description="Link to this ticket; null unlinks."
    )
    contact_id: strawberry.ID | None = strawberry.field(
        default=_UNSET, description="Link to this contact; null unlinks."
    )
    account_id: strawberry.ID | None = strawberry.field(
        default=_UNSET, description="Link to this account; null unlinks."
    )


@strawberry.input(description="A task to complete or delete.")
class TaskIdInput:
    id: strawberry.ID = strawberry.field(description="The task.")


@strawberry.enum(description="Fields tasks can be sorted by.")
class TaskSortField(Enum):
    DUE_AT = "DUE_AT"
    PRIORITY = "PRIORITY"
    CREATED_AT = "CREATED_AT"
    SUBJECT = "SUBJECT"


@strawberry.input(description="How to sort tasks; ties are broken by id in the same direction.")
class TaskSort:
    field: TaskSortField = strawberry.field(
        default=TaskSortField.DUE_AT, description="The field to sort by."
    )
    direction: SortDirection = strawberry.field(
        default=SortDirection.ASC, description="ASC or DESC."
    )


@strawberry.input(description="Task criteria; every criterion given must hold.")
class TaskFilter:
    owner_id: strawberry.ID | None = _id("Owned by this agent.")
    status: list[TaskStatus] | None = strawberry.field(
        default=None, description="In one of these statuses."
    )
    open: bool | None = strawberry.field(default=None, description="True: not completed.")
    overdue: bool | None = strawberry.field(
        default=None, description="True: open and past due; false: not overdue."
    )
    due_before: datetime | None = strawberry.field(default=None, description="Due before this.")
    due_after: datetime | None = strawberry.field(default=None, description="Due at or after this.")
    department_id: strawberry.ID | None = _id("In this department.")
    ticket_id: strawberry.ID | None = _id("Linked to this ticket.")
    contact_id: strawberry.ID | None = _id("Linked to this contact.")
    account_id: strawberry.ID | None = _id("Linked to this account.")


@strawberry.type(description="Result of a task mutation.")
class TaskPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    task: Task | None = strawberry.field(
        default=None, description="The task as saved (as it was, for a delete)."
    )


# -- events -----------------------------------------------------------------------------------


@strawberry.input(
    description="A new event: link it to a ticket, a contact or an account (or several); it "
    "must not end before it starts."
)
class EventCreateInput:
    title: str = strawberry.field(description="What it is (<= 255 characters).")
    starts_at: datetime = strawberry.field(description="When it starts.")
    ends_at: datetime = strawberry.field(description="When it ends (not before the start).")
    description: str = strawberry.field(default="", description="Details.")
    location: str = strawberry.field(default="", description="Where it takes place.")
    owner_id: strawberry.ID | None = _id("Who organises it (default: you).")
    attendee_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Agents attending (members of its department)."
    )
    reminder_at: datetime | None = strawberry.field(
        default=None, description="When to remind the owner and attendees."
    )
    department_id: strawberry.ID | None = _id("Its department (when no ticket is linked).")
    ticket_id: strawberry.ID | None = _id("A ticket you may see.")
    contact_id: strawberry.ID | None = _id("A contact.")
    account_id: strawberry.ID | None = _id("An account.")


@strawberry.input(description="Changes to an event; fields left out stay as they are.")
class EventUpdateInput:
    id: strawberry.ID = strawberry.field(description="The event.")
    title: str | None = strawberry.field(default=_UNSET, description="New title.")
    description: str | None = strawberry.field(default=_UNSET, description="New details.")
    location: str | None = strawberry.field(default=_UNSET, description="New location.")
    starts_at: datetime | None = strawberry.field(default=_UNSET, description="New start.")
    ends_at: datetime | None = strawberry.field(default=_UNSET, description="New end.")
    owner_id: strawberry.ID | None = strawberry.field(default=_UNSET, description="New owner.")
    attendee_ids: list[strawberry.ID] | None = strawberry.field(
        default=_UNSET, description="Attendees, replacing the old list."
    )
    reminder_at: datetime | None = strawberry.field(
        default=_UNSET, description="New reminder time; null removes the reminder."
    )


@strawberry.input(description="An event to delete.")
class EventIdInput:
    id: strawberry.ID = strawberry.field(description="The event.")


@strawberry.enum(description="Fields events can be sorted by.")
class EventSortField(Enum):
    STARTS_AT = "STARTS_AT"
    CREATED_AT = "CREATED_AT"
    TITLE = "TITLE"


@strawberry.input(description="How to sort events; ties are broken by id in the same direction.")
class EventSort:
    field: EventSortField = strawberry.field(
        default=EventSortField.STARTS_AT, description="The field to sort by."
    )
    direction: SortDirection = strawberry.field(
        default=SortDirection.ASC, description="ASC or DESC."
    )


@strawberry.input(description="Event criteria; every criterion given must hold.")
class EventFilter:
    owner_id: strawberry.ID | None = _id("Organised by this agent.")
    attendee_id: strawberry.ID | None = _id("Attended by this agent.")
    starts_before: datetime | None = strawberry.field(
        default=None, description="Starting before this."
    )
    starts_after: datetime | None = strawberry.field(
        default=None, description="Starting at or after this."
    )
    upcoming: bool | None = strawberry.field(
        default=None, description="True: not over yet; false: over."
    )
    ticket_id: strawberry.ID | None = _id("Linked to this ticket.")
    contact_id: strawberry.ID | None = _id("Linked to this contact.")
    account_id: strawberry.ID | None = _id("Linked to this account.")


@strawberry.type(description="Result of an event mutation.")
class EventPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    event: Event | None = strawberry.field(
        default=None, description="The event as saved (as it was, for a delete)."
    )


# -- calls ------------------------------------------------------------------------------------


@strawberry.input(
    description="A call to log by hand: link it to a ticket, a contact or an account (or "
    "several). The number may be written in any format; it is stored in E.164."
)
class CallCreateInput:
    direction: CallDirection = strawberry.field(description="INBOUND or OUTBOUND.")
    number: str = strawberry.field(description="The customer's number.")
    started_at: datetime | None = strawberry.field(
        default=None, description="When it started (default: now)."
    )
    duration_seconds: int | None = strawberry.field(
        default=None, description="Talk time in seconds (0 to 7 days)."
    )
    agent_id: strawberry.ID | None = _id("The agent on the call (default: you).")
    outcome: CallOutcome | None = strawberry.field(
        default=CallOutcome.COMPLETED, description="How it ended."
    )
    recording_url: str = strawberry.field(default="", description="http(s) URL of a recording.")
    notes: str = strawberry.field(default="", description="Notes.")
    department_id: strawberry.ID | None = _id("Its department (when no ticket is linked).")
    ticket_id: strawberry.ID | None = _id("A ticket you may see.")
    contact_id: strawberry.ID | None = _id("A contact.")
    account_id: strawberry.ID | None = _id("An account.")


@strawberry.input(description="Changes to a call log; fields left out stay as they are.")
class CallUpdateInput:
    id: strawberry.ID = strawberry.field(description="The call.")
    outcome: CallOutcome | None = strawberry.field(default=_UNSET, description="How it ended.")
    duration_seconds: int | None = strawberry.field(default=_UNSET, description="Talk time.")
    recording_url: str | None = strawberry.field(default=_UNSET, description="Recording URL.")
    notes: str | None = strawberry.field(default=_UNSET, description="Notes.")
    ticket_id: strawberry.ID | None = strawberry.field(
        default=_UNSET, description="Link to this ticket; null unlinks."
    )
    contact_id: strawberry.ID | None = strawberry.field(
        default=_UNSET, description="Link to this contact; null unlinks."
    )
    account_id: strawberry.ID | None = strawberry.field(
        default=_UNSET, description="Link to this account; null unlinks."
    )


@strawberry.input(description="A call log to delete.")
class CallIdInput:
    id: strawberry.ID = strawberry.field(description="The call.")


@strawberry.input(
    description="Click-to-dial: the phone system rings your extension, then the customer. "
    "Give contactId (their phone, else mobile) or number."
)
class CallDialInput:
    contact_id: strawberry.ID | None = _id("The contact to call.")
    number: str | None = strawberry.field(default=None, description="A number to call.")
    ticket_id: strawberry.ID | None = _id("The ticket the call is about.")
    department_id: strawberry.ID | None = _id("Its department (when no ticket is given).")


@strawberry.enum(description="Fields calls can be sorted by.")
class CallSortField(Enum):
    STARTED_AT = "STARTED_AT"
    DURATION = "DURATION"
    CREATED_AT = "CREATED_AT"


@strawberry.input(description="How to sort calls; ties are broken by id in the same direction.")
class CallSort:
    field: CallSortField = strawberry.field(
        default=CallSortField.STARTED_AT, description="The field to sort by."
    )
    direction: SortDirection = strawberry.field(
        default=SortDirection.DESC, description="ASC or DESC."
    )


@strawberry.input(description="Call criteria; every criterion given must hold.")
class CallFilter:
    agent_id: strawberry.ID | None = _id("The agent on the call.")
    direction: CallDirection | None = strawberry.field(
        default=None, description="INBOUND or OUTBOUND."
    )
    outcome: CallOutcome | None = strawberry.field(default=None, description="How it ended.")
    started_before: datetime | None = strawberry.field(
        default=None, description="Started before this."
    )
    started_after: datetime | None = strawberry.field(
        default=None, description="Started at or after this."
    )
    ticket_id: strawberry.ID | None = _id("Linked to this ticket.")
    contact_id: strawberry.ID | None = _id("Linked to this contact.")
    account_id: strawberry.ID | None = _id("Linked to this account.")


@strawberry.type(description="Result of a call mutation.")
class CallPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    call: Call | None = strawberry.field(
        default=None, description="The call as saved (as it was, for a delete)."
    )


@strawberry.input(
    description="An agent's telephony profile: your own, or (administrators) another agent's."
)
class AgentTelephonyUpdateInput:
    agent_id: strawberry.ID | None = _id("The agent (default: you).")
    extension: str | None = strawberry.field(
        default=None, description="PBX extension (digits, * or #); empty clears it."
    )
    phone_number: str | None = strawberry.field(
        default=None, description="Direct number (stored in E.164); empty clears it."
    )


@strawberry.type(description="Result of agentTelephonyUpdate.")
class AgentTelephonyPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    agent: Agent | None = strawberry.field(default=None, description="The agent as saved.")
