"""The Task, Event and Call types, and the union of a person's open activities."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from deskql import models
from deskql.models.activities import CallDirection, CallOutcome, CallStatus, TaskStatus
from deskql.models.enums import TicketPriority
from deskql.schema.connections import Connection
from deskql.schema.ids import to_global_id
from deskql.schema.types import Account, Agent, Comment, Contact, Department, Node, Ticket
from deskql.services import policies

_First = Annotated[int | None, strawberry.argument(description="Page size, 0 to 100 (default 20).")]
_After = Annotated[
    str | None, strawberry.argument(description="Cursor of the item after which the page starts.")
]

strawberry.enum(TaskStatus, description="Where a task stands; COMPLETED is done.")
strawberry.enum(CallDirection, description="INBOUND: the customer called; OUTBOUND: we did.")
strawberry.enum(CallStatus, description="Progress of a call: RINGING, ANSWERED, ENDED.")
strawberry.enum(CallOutcome, description="How a call ended.")


@strawberry.interface(
    name="LinkedActivity",
    description="A task, event or call: in one department, linked to a ticket, a contact or "
    "an account (or several).",
)
class _Linked:
    department_pk: strawberry.Private[int]
    ticket_pk: strawberry.Private[int | None]
    contact_pk: strawberry.Private[int | None]
    account_pk: strawberry.Private[int | None]

    @strawberry.field(description="The department it belongs to.")
    async def department(self, info: strawberry.Info) -> Department | None:
        return await info.context.loaders.department.load(self.department_pk)

    @strawberry.field(description="The linked ticket; null when none or not yours to see.")
    async def ticket(self, info: strawberry.Info) -> Ticket | None:
        if self.ticket_pk is None:
            return None
        ticket = await info.context.loaders.ticket.load(self.ticket_pk)
        actor = info.context.actor
        if ticket is None or not policies.can_see_department(actor, ticket.department_pk):
            return None
        return ticket

    @strawberry.field(description="The linked contact, if any.")
    async def contact(self, info: strawberry.Info) -> Contact | None:
        if self.contact_pk is None:
            return None
        return await info.context.loaders.contact.load(self.contact_pk)

    @strawberry.field(description="The linked account, if any.")
    async def account(self, info: strawberry.Info) -> Account | None:
        if self.account_pk is None:
            return None
        return await info.context.loaders.account.load(self.account_pk)


def _links(row: models.Task | models.Event | models.Call) -> dict[str, int | None]:
    return {
        "department_pk": row.department_id,  # type: ignore[union-attr]
        "ticket_pk": row.ticket_id,  # type: ignore[union-attr]
        "contact_pk": row.contact_id,  # type: ignore[union-attr]
        "account_pk": row.account_id,  # type: ignore[union-attr]
    }


@strawberry.type(
    description="A to-do (ACT-1) linked to a ticket, a contact or an account, created by hand "
    "or by a macro."
)
class Task(_Linked, Node):
    subject: str = strawberry.field(description="What is to be done.")
    title: str = strawberry.field(
        description="The subject (older name).", deprecation_reason="Use `subject`."
    )
    description: str = strawberry.field(description="Details.")
    due_at: datetime | None = strawberry.field(description="When it is due.")
    priority: TicketPriority = strawberry.field(description="LOW to URGENT.")
    status: TaskStatus = strawberry.field(description="Where it stands.")
    is_completed: bool = strawberry.field(description="Whether it is done (status COMPLETED).")
    is_overdue: bool = strawberry.field(description="Not done and past its due time.")
    completed_at: datetime | None = strawberry.field(description="When it was completed.")
    reminder_at: datetime | None = strawberry.field(
        description="When its owner is reminded (once); null: no reminder."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime | None = strawberry.field(description="When it last changed.")
    pk: strawberry.Private[int]
    assignee_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.Task) -> Task:
        """Build from a database row."""
        from deskql.services.activities.common import now, utc

        due = utc(row.due_at)
        return cls(
            id=strawberry.ID(to_global_id("Task", row.id)),
            subject=row.title,
            title=row.title,
            description=row.description,
            due_at=row.due_at,
            priority=TicketPriority(row.priority),
            status=row.status,
            is_completed=row.is_completed,
            is_overdue=not row.is_completed and due is not None and due < now(),
            completed_at=row.completed_at,
            reminder_at=row.reminder_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            pk=row.id,
            assignee_pk=row.assignee_id,  # type: ignore[attr-defined]
            **_links(row),
        )

    @strawberry.field(description="The agent who is to do it.")
    async def owner(self, info: strawberry.Info) -> Agent | None:
        if self.assignee_pk is None:
            return None
        return await info.context.loaders.agent.load(self.assignee_pk)

    @strawberry.field(description="Comments on the task, oldest first (COL-1).")
    async def comments(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Comment]:
        from deskql.resolvers import activities

        return await activities.record_comments(info, "Task", self.pk, first=first, after=after)

    @strawberry.field(description="The agent who is to do it.", deprecation_reason="Use `owner`.")
    async def assignee(self, info: strawberry.Info) -> Agent | None:
        if self.assignee_pk is None:
            return None
        return await info.context.loaders.agent.load(self.assignee_pk)


@strawberry.type(description="A meeting or appointment (ACT-1) with agents attending.")
class Event(_Linked, Node):
    title: str = strawberry.field(description="What it is.")
    description: str = strawberry.field(description="Details.")
    starts_at: datetime = strawberry.field(description="When it starts.")
    ends_at: datetime = strawberry.field(description="When it ends (not before the start).")
    location: str = strawberry.field(description="Where it takes place.")
    reminder_at: datetime | None = strawberry.field(
        description="When the owner and attendees are reminded (once); null: no reminder."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    pk: strawberry.Private[int]
    owner_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.Event) -> Event:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("Event", row.id)),
            title=row.title,
            description=row.description,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            location=row.location,
            reminder_at=row.reminder_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            pk=row.id,
            owner_pk=row.owner_id,  # type: ignore[attr-defined]
            **_links(row),
        )

    @strawberry.field(description="The agent who organises it.")
    async def owner(self, info: strawberry.Info) -> Agent | None:
        if self.owner_pk is None:
            return None
        return await info.context.loaders.agent.load(self.owner_pk)

    @strawberry.field(description="Comments on the event, oldest first (COL-1).")
    async def comments(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Comment]:
        from deskql.resolvers import activities

        return await activities.record_comments(info, "Event", self.pk, first=first, after=after)

    @strawberry.field(description="Agents attending (at most 50).")
    async def attendees(self, info: strawberry.Info) -> list[Agent]:
        from deskql.resolvers import activities

        return await activities.attendees(info, self.pk)


@strawberry.type(description="A phone call, logged by hand or by the telephony bridge (ACT-2).")
class Call(_Linked, Node):
    direction: CallDirection = strawberry.field(description="INBOUND or OUTBOUND.")
    number: str = strawberry.field(description="The customer's number in E.164.")
    status: CallStatus = strawberry.field(description="RINGING, ANSWERED or ENDED.")
    outcome: CallOutcome | None = strawberry.field(description="How it ended; null while on.")
    started_at: datetime = strawberry.field(description="When it started ringing.")
    answered_at: datetime | None = strawberry.field(description="When it was answered.")
    ended_at: datetime | None = strawberry.field(description="When it ended.")
    duration_seconds: int = strawberry.field(description="Talk time in seconds.")
    recording_url: str = strawberry.field(description="Where the recording is, if any.")
    notes: str = strawberry.field(description="The agent's notes.")
    provider_call_id: str | None = strawberry.field(
        description="The phone system's id of the call (bridge calls)."
    )
    created_at: datetime = strawberry.field(description="When it was logged.")
    pk: strawberry.Private[int]
    agent_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.Call) -> Call:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("Call", row.id)),
            direction=row.direction,
            number=row.number,
            status=row.status,
            outcome=row.outcome,
            started_at=row.started_at,
            answered_at=row.answered_at,
            ended_at=row.ended_at,
            duration_seconds=row.duration_seconds,
            recording_url=row.recording_url,
            notes=row.notes,
            provider_call_id=row.provider_call_id,
            created_at=row.created_at,
            pk=row.id,
            agent_pk=row.agent_id,  # type: ignore[attr-defined]
            **_links(row),
        )

    @strawberry.field(description="Comments on the call, oldest first (COL-1).")
    async def comments(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Comment]:
        from deskql.resolvers import activities

        return await activities.record_comments(info, "Call", self.pk, first=first, after=after)

    @strawberry.field(description="The agent on the call.")
    async def agent(self, info: strawberry.Info) -> Agent | None:
        if self.agent_pk is None:
            return None
        return await info.context.loaders.agent.load(self.agent_pk)


PlannedActivity = Annotated[
    Task | Event,
    strawberry.union("PlannedActivity", description="An open task or an upcoming event."),
]
