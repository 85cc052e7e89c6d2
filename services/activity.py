"""Writing Activity rows: the one record of every state change (DESIGN rule 5).

Call `record` inside the transaction of the change it describes (`services.uow.transaction()`),
so that a change, its history and the notifications it produces commit together or not at all.
`record` also queues the real-time envelopes of the activity and its notifications; the unit of
work publishes them after the commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import Enum
from typing import Any

from deskql import models
from deskql.models.enums import NotificationReason
from deskql.realtime import envelopes, topics
from deskql.services import notifications, uow
from deskql.services.auth import Actor
from deskql.services.search import index as search_index
from deskql.services.webhooks import events as webhook_events


def jsonable(value: Any) -> Any:
    """A JSON-safe form of a field value (enums by name, datetimes as ISO 8601)."""
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields whose value changed, as {field: {"old": ..., "new": ...}}."""
    return {
        key: {"old": jsonable(before.get(key)), "new": jsonable(value)}
        for key, value in after.items()
        if before.get(key) != value
    }


async def record(
    *,
    actor: Actor | None,
    kind: str,
    subject_type: str,
    subject_id: int,
    ticket_id: int | None = None,
    contact_id: int | None = None,
    account_id: int | None = None,
    department_id: int | None = None,
    changes: dict[str, Any] | None = None,
    ticket: models.Ticket | None = None,
    owners: Iterable[int] = (),
    direct: dict[int, NotificationReason] | None = None,
) -> models.Activity:
    """Write one Activity row for a state change, with the notifications it produces.

    `owners`: agents the record belongs to (an article's author), told of changes by others;
    `direct`: agents told for a reason of the record itself (a task's new owner, a reminder)."""
    row = await models.Activity.create(
        kind=kind,
        actor_id=actor.agent_id if actor else None,
        subject_type=subject_type,
        subject_id=subject_id,
        ticket_id=ticket_id,
        contact_id=contact_id,
        account_id=account_id,
        department_id=department_id,
        changes=changes or {},
    )
    await search_index.mark_activity(row)  # the index commits with the change (SRC)
    created = await notifications.notify(
        actor, activity=row, ticket=ticket, owners=owners, direct=direct
    )
    _announce(row, created)
    # Integrators' webhooks hear the change in the same transaction (services/webhooks).
    await webhook_events.enqueue([row], {ticket.id: ticket} if ticket is not None else None)
    return row


async def recorded_in_bulk(rows: list[models.Activity]) -> None:
    """What `record` does after writing a row, for rows a batch wrote with bulk_create (a
    macro run, which sends its notifications and envelopes itself): the webhook deliveries."""
    await webhook_events.enqueue(rows)


def _announce(row: models.Activity, created: list[notifications.Written]) -> None:
    """Queue the envelopes of an activity and its notifications for after the commit."""
    message = envelopes.activity(row)
    if row.ticket_id is not None:
        uow.add_event(topics.ticket(row.ticket_id), message)
    departments = {row.department_id}
    moved = (row.changes or {}).get("department_id")
    if isinstance(moved, dict):
        # A ticket that changed department changes the counts of both dashboards.
        departments.update({moved.get("old"), moved.get("new")})
    for department_id in sorted(d for d in departments if isinstance(d, int)):
        uow.add_event(topics.department(department_id), message)
    for notification in created:
        uow.add_event(
            topics.agent(notification.agent_id),  # type: ignore[attr-defined]
            envelopes.notification(notification),
        )


async def record_ticket(
    *,
    actor: Actor | None,
    kind: str,
    ticket: models.Ticket,
    changes: dict[str, Any] | None = None,
) -> models.Activity:
    """Write an Activity row about a ticket, linked to its contact, account and department."""
    return await record(
        actor=actor,
        kind=kind,
        subject_type="Ticket",
        subject_id=ticket.id,
        ticket_id=ticket.id,
        contact_id=ticket.contact_id,  # type: ignore[attr-defined]
        account_id=ticket.account_id,  # type: ignore[attr-defined]
        department_id=ticket.department_id,  # type: ignore[attr-defined]
        changes=changes,
        ticket=ticket,
    )
