"""Ratings of closed tickets (TIC-5): good, okay or bad with an optional comment, once per
ticket, changeable for 7 days after the first rating. A rating writes a `ticket.rated`
Activity (the ticket's history, the contact's timeline) that notifies the assignee."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from deskql import models
from deskql.models.enums import TicketStatus
from deskql.models.helpcenter import RatingValue
from deskql.services import activity, uow, validation
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.helpcenter.access import ContactActor
from deskql.services.helpcenter.tickets import get_ticket

CHANGE_WINDOW = timedelta(days=7)
COMMENT_MAX = 2000


async def rate(
    actor: ContactActor, *, ticket_id: int, value: RatingValue, comment: str | None = None
) -> models.TicketRating:
    """Rate a closed ticket of the contact's, or change the rating within 7 days."""
    errors = Errors()
    text = validation.text(errors, "comment", comment or "", max_length=COMMENT_MAX, multiline=True)
    errors.raise_if_any()
    ticket = await get_ticket(actor, ticket_id=ticket_id)
    if ticket is None:
        raise ValidationFailed.one("ticketId", "no such ticket", ErrorCode.NOT_FOUND)
    if ticket.status is not TicketStatus.CLOSED:
        raise ValidationFailed.one(
            "ticketId", "only a closed ticket can be rated", ErrorCode.INVALID_STATE
        )
    async with uow.transaction():
        existing = await models.TicketRating.filter(ticket_id=ticket.id).select_for_update().first()
        now = datetime.now(UTC)
        if existing is not None and now - existing.created_at > CHANGE_WINDOW:
            raise ValidationFailed.one(
                "ticketId",
                "this ticket was rated more than 7 days ago: the rating can no longer change",
                ErrorCode.INVALID_STATE,
            )
        changes: dict[str, object] = {"rating": value.value}
        if text:
            changes["comment"] = text
        if existing is None:
            row = await models.TicketRating.create(
                ticket_id=ticket.id, contact_id=actor.contact_id, value=value, comment=text or ""
            )
        else:
            changes["previous"] = existing.value.value
            existing.value = value
            existing.comment = text or ""
            existing.contact_id = actor.contact_id  # type: ignore[attr-defined]
            await existing.save(update_fields=["value", "comment", "contact_id", "updated_at"])
            row = existing
        await activity.record_ticket(
            actor=None, kind="ticket.rated", ticket=ticket, changes=changes
        )
    return row
