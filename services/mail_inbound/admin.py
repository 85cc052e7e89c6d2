"""What agents and administrators do with inbound mail: list, reprocess, read, mark spam."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise.queryset import QuerySet

from deskql import models
from deskql.models.enums import InboundStatus
from deskql.services import activity, mail_directory, uow
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, ValidationFailed
from deskql.services.mail_inbound.settle import process_message
from deskql.services.mail_inbound.store import read_raw
from deskql.services.policies import require_admin, visible_tickets
from deskql.settings import Settings


async def pending_ids() -> list[int]:
    """Messages stored but not processed (a restart after a crash picks them up)."""
    return await models.InboundMessage.filter(status=InboundStatus.RECEIVED).values_list(
        "id", flat=True
    )


# --- administration --------------------------------------------------------------------------


def list_inbound(actor: Actor, *, status: InboundStatus | None = None) -> QuerySet[Any]:
    """Inbound messages, newest first, optionally by status (administrators only)."""
    require_admin(actor, "read inbound messages")
    qs = models.InboundMessage.all()
    if status is not None:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


async def reprocess(actor: Actor, *, settings: Settings, inbound_id: int) -> models.InboundMessage:
    """Process a FAILED or IGNORED message again (administrators only)."""
    require_admin(actor, "reprocess inbound messages")
    row = await models.InboundMessage.filter(id=inbound_id).first()
    if row is None:
        raise ValidationFailed.one("id", "no such inbound message", ErrorCode.NOT_FOUND)
    if row.status not in (InboundStatus.FAILED, InboundStatus.IGNORED):
        raise ValidationFailed.one(
            "id",
            f"only FAILED or IGNORED messages are reprocessed; this one is {row.status.value}",
            ErrorCode.INVALID,
        )
    await activity.record(
        actor=actor,
        kind="inbound_message.reprocessed",
        subject_type="InboundMessage",
        subject_id=row.id,
        changes={"status": row.status.value, "reason": row.reason[:500]},
    )
    return await process_message(settings, inbound_id=row.id)


async def original_content(actor: Actor, *, settings: Settings, thread_id: int) -> str | None:
    """The raw source of the message a thread came from (TIC-12), if the actor may see it."""
    row = await models.InboundMessage.filter(thread_id=thread_id).order_by("id").first()
    if row is None or row.ticket_id is None:  # type: ignore[attr-defined]
        return None
    if not await visible_tickets(actor).filter(id=row.ticket_id).exists():  # type: ignore[attr-defined]
        return None
    raw = await read_raw(settings, row)
    return raw.decode("utf-8", errors="replace")


# --- spam (TIC-7) ---------------------------------------------------------------------------


async def _require_ticket(actor: Actor, ticket_id: int) -> models.Ticket:
    ticket = await visible_tickets(actor).filter(id=ticket_id).select_related("contact").first()
    if ticket is None:
        raise ValidationFailed.one("ticketId", "no such ticket", ErrorCode.NOT_FOUND)
    return ticket


async def _set_spam(actor: Actor, ticket: models.Ticket, value: bool) -> models.Ticket:
    if ticket.is_spam != value:
        from tortoise.expressions import F

        await models.Ticket.filter(id=ticket.id).update(
            is_spam=value, version=F("version") + 1, updated_at=datetime.now(UTC)
        )
        ticket = await models.Ticket.get(id=ticket.id)
        await activity.record_ticket(
            actor=actor,
            kind="ticket.updated",
            ticket=ticket,
            changes={"isSpam": {"old": not value, "new": value}},
        )
    return ticket


async def mark_spam(actor: Actor, *, ticket_id: int, block_sender: bool = False) -> models.Ticket:
    """Mark a ticket as spam by hand; optionally blocklist its contact's address (TIC-7)."""
    ticket = await _require_ticket(actor, ticket_id)
    email = ticket.contact.email if ticket.contact else ""
    if block_sender and not email:
        raise ValidationFailed.one(
            "blockSender", "the ticket has no contact address to block", ErrorCode.INVALID
        )
    async with uow.transaction():
        fresh = await _set_spam(actor, ticket, True)
        if block_sender and not await models.BlockedSender.exists(pattern=email):
            blocked = await models.BlockedSender.create(pattern=email, created_by_id=actor.agent_id)
            await activity.record(
                actor=actor,
                kind="blocked_sender.added",
                subject_type="BlockedSender",
                subject_id=blocked.id,
                ticket_id=ticket.id,
                contact_id=ticket.contact_id,  # type: ignore[attr-defined]
                changes={"pattern": email},
            )
    mail_directory.invalidate()  # the blocklist changed
    return fresh


async def unmark_spam(
    actor: Actor, *, ticket_id: int, unblock_sender: bool = False
) -> models.Ticket:
    """Take a ticket out of the spam view; optionally remove its contact from the blocklist."""
    ticket = await _require_ticket(actor, ticket_id)
    email = ticket.contact.email if ticket.contact else ""
    async with uow.transaction():
        fresh = await _set_spam(actor, ticket, False)
        if unblock_sender and email:
            blocked = await models.BlockedSender.filter(pattern=email).first()
            if blocked is not None:
                await blocked.delete()
                await activity.record(
                    actor=actor,
                    kind="blocked_sender.removed",
                    subject_type="BlockedSender",
                    subject_id=blocked.id,
                    ticket_id=ticket.id,
                    contact_id=ticket.contact_id,  # type: ignore[attr-defined]
                    changes={"pattern": email},
                )
    mail_directory.invalidate()  # the blocklist changed
    return fresh
