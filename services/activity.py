"""Writing Activity rows: the one record of every state change (DESIGN rule 5).

Call `record` inside the transaction of the change it describes, so that a change and its
history commit together or not at all.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

import models
from services.auth import Actor


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
) -> models.Activity:
    """Write one Activity row for a state change."""
    return await models.Activity.create(
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
    )
