"""Shared by the ticket services: limits, reading a ticket, merged tickets refused."""

from __future__ import annotations

from datetime import UTC, datetime

from deskql import models
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, FieldError, ValidationFailed
from deskql.services.policies import visible_tickets

SUBJECT_MAX = 255


DESCRIPTION_MAX = 100_000


COMMENT_MAX = 100_000


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def get_ticket(
    actor: Actor, *, ticket_id: int | None = None, number: int | None = None
) -> models.Ticket | None:
    """The ticket by id or number, or None when it does not exist or the actor may not see it."""
    qs = visible_tickets(actor)
    if ticket_id is not None:
        qs = qs.filter(id=ticket_id)
    elif number is not None:
        qs = qs.filter(number=number)
    else:
        return None
    return await qs.first()


def merged_error(ticket: models.Ticket, field_name: str | None) -> FieldError | None:
    """The refusal for a change to a ticket merged into another one (TIC-5), or None."""
    if ticket.merged_into_id is None:  # type: ignore[attr-defined]
        return None
    return FieldError(
        field_name,
        f"ticket #{ticket.number} was merged into another ticket (see mergedInto); "
        "change that one instead",
        ErrorCode.MERGED,
    )


def ensure_not_merged(ticket: models.Ticket, field_name: str | None) -> None:
    """Refuse a change to a merged ticket: it stays closed, its work goes on in the target."""
    error = merged_error(ticket, field_name)
    if error is not None:
        raise ValidationFailed([error])


async def _require_ticket(
    actor: Actor, ticket_id: int, field_name: str = "id", *, writable: bool = True
) -> models.Ticket:
    ticket = await get_ticket(actor, ticket_id=ticket_id)
    if ticket is None:
        raise ValidationFailed.one(field_name, "no such ticket", ErrorCode.NOT_FOUND)
    if writable:
        ensure_not_merged(ticket, field_name)
    return ticket
