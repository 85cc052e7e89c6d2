"""Contacts, accounts, tasks, events and calls take comments and followers (COL-1, COL-2)
through services.records: one RecordType each. Contacts and accounts are organisation-wide and
followed by their own Follow columns; tasks, events and calls belong to a department (a
record of another department is NOT_FOUND) and are followed by the generic subject columns.
Their comment activities carry the record's ticket, contact, account and department links, so
the contact's and account's followers hear of them too."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from tortoise.queryset import QuerySet

from deskql import models
from deskql.services import activity, records
from deskql.services.activities import calls, events
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, ValidationFailed
from deskql.services.policies import visible_tasks


def _loader(
    visible: Callable[[Actor], QuerySet[Any]], what: str
) -> Callable[[Actor, int, str], Any]:
    async def load(actor: Actor, pk: int, field: str) -> Any:
        row = await visible(actor).filter(id=pk).first()
        if row is None:
            raise ValidationFailed.one(field, f"no such {what}", ErrorCode.NOT_FOUND)
        return row

    return load


def _linked_activity(type_name: str) -> records.RecordActivity:
    async def record(
        actor: Actor, kind: str, row: Any, changes: dict[str, Any], owners: Iterable[int]
    ) -> models.Activity:
        return await activity.record(
            actor=actor,
            kind=kind,
            subject_type=type_name,
            subject_id=row.id,
            ticket_id=row.ticket_id,
            contact_id=row.contact_id,
            account_id=row.account_id,
            department_id=row.department_id,
            changes=changes,
            owners=owners,
        )

    return record


async def _contact_activity(
    actor: Actor, kind: str, row: models.Contact, changes: dict[str, Any], owners: Iterable[int]
) -> models.Activity:
    return await activity.record(
        actor=actor,
        kind=kind,
        subject_type="Contact",
        subject_id=row.id,
        contact_id=row.id,
        account_id=row.account_id,  # type: ignore[attr-defined]
        changes=changes,
        owners=owners,
    )


async def _account_activity(
    actor: Actor, kind: str, row: models.Account, changes: dict[str, Any], owners: Iterable[int]
) -> models.Activity:
    return await activity.record(
        actor=actor,
        kind=kind,
        subject_type="Account",
        subject_id=row.id,
        account_id=row.id,
        changes=changes,
        owners=owners,
    )


def _owner(column: str) -> Callable[[Any], Iterable[int]]:
    def owners(row: Any) -> Iterable[int]:
        pk = getattr(row, column)
        return [pk] if pk is not None else []

    return owners


def _all(model: type[Any]) -> Callable[[Actor], QuerySet[Any]]:
    def visible(actor: Actor) -> QuerySet[Any]:
        return model.all()

    return visible


records.register(
    records.RecordType(
        name="Contact",
        kind="contact",
        field="contactId",
        load=_loader(_all(models.Contact), "contact"),
        visible=_all(models.Contact),
        record_activity=_contact_activity,
        owners=_owner("owner_id"),
        follow_key=lambda pk: {"contact_id": pk},
    )
)
records.register(
    records.RecordType(
        name="Account",
        kind="account",
        field="accountId",
        load=_loader(_all(models.Account), "account"),
        visible=_all(models.Account),
        record_activity=_account_activity,
        owners=_owner("owner_id"),
        follow_key=lambda pk: {"account_id": pk},
    )
)
records.register(
    records.RecordType(
        name="Task",
        kind="task",
        field="taskId",
        load=_loader(visible_tasks, "task"),
        visible=visible_tasks,
        record_activity=_linked_activity("Task"),
        owners=_owner("assignee_id"),
    )
)
records.register(
    records.RecordType(
        name="Event",
        kind="event",
        field="eventId",
        load=_loader(events.visible_events, "event"),
        visible=events.visible_events,
        record_activity=_linked_activity("Event"),
        owners=_owner("owner_id"),
    )
)
records.register(
    records.RecordType(
        name="Call",
        kind="call",
        field="callId",
        load=_loader(calls.visible_calls, "call"),
        visible=calls.visible_calls,
        record_activity=_linked_activity("Call"),
        owners=_owner("agent_id"),
    )
)
