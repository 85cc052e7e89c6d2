"""Drafts (TIC-8): unsent replies the client autosaves (every 2 minutes and on demand), resumed,
sent (they become a reply) or discarded. Saving is idempotent: the same draft id, or the same
client key on the same ticket, updates one row instead of making another."""

from __future__ import annotations

from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from deskql import models
from deskql.services import activity, replies, uow, validation
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.policies import visible_tickets
from deskql.settings import Settings

BODY_MAX = 1_000_000
KEY_MAX = 64


def visible_drafts(actor: Actor, ticket_id: int | None = None) -> QuerySet[models.Draft]:
    """My drafts, and the shared drafts of tickets I may see; newest save first."""
    tickets = Subquery(visible_tickets(actor).values("id"))
    qs = models.Draft.filter(Q(author_id=actor.agent_id) | Q(is_shared=True, ticket_id__in=tickets))
    if ticket_id is not None:
        qs = qs.filter(ticket_id=ticket_id)
    return qs.order_by("-saved_at", "-id")


async def save_draft(
    actor: Actor,
    *,
    ticket_id: int,
    draft_id: int | None = None,
    client_key: str = "",
    is_shared: bool = False,
    to: list[str] | None = None,
    cc: list[str] | None = None,
    bcc: list[str] | None = None,
    subject: str = "",
    body_text: str = "",
    body_html: str = "",
    from_address_id: int | None = None,
    attachment_ids: list[int] | None = None,
) -> models.Draft:
    """Create or update a draft; returns it with its saved time."""
    ticket = await visible_tickets(actor).filter(id=ticket_id).first()
    if ticket is None:
        raise ValidationFailed.one("ticketId", "no such ticket", ErrorCode.NOT_FOUND)
    errors = Errors()
    key = validation.text(errors, "clientKey", client_key, max_length=KEY_MAX) or ""
    # A draft keeps what the agent typed so far: addresses are checked when it is sent, but
    # control characters are refused now.
    lists = {}
    for field, values in (("to", to), ("cc", cc), ("bcc", bcc)):
        cleaned = [validation.text(errors, field, v, max_length=254) for v in values or []]
        lists[field] = ", ".join(v for v in cleaned if v)
    clean_subject = validation.text(errors, "subject", subject, max_length=replies.SUBJECT_MAX)
    text = validation.text(errors, "bodyText", body_text, max_length=BODY_MAX, multiline=True)
    markup = validation.text(errors, "bodyHtml", body_html, max_length=BODY_MAX, multiline=True)
    existing = None
    if draft_id is not None:
        existing = await visible_drafts(actor, ticket.id).filter(id=draft_id).first()
        if existing is None:
            errors.add("id", "no such draft on the ticket", ErrorCode.NOT_FOUND)
    errors.raise_if_any()
    values: dict[str, Any] = {
        "is_shared": is_shared,
        "to_addresses": lists["to"],
        "cc_addresses": lists["cc"],
        "bcc_addresses": lists["bcc"],
        "subject": clean_subject or "",
        "body_text": text or "",
        "body_html": markup or "",
        "from_address_id": from_address_id,
        "attachment_ids": list(attachment_ids or []),
    }
    async with uow.transaction():
        if existing is None and key:
            existing = (
                await models.Draft.filter(
                    ticket_id=ticket.id, author_id=actor.agent_id, client_key=key
                )
                .select_for_update()
                .first()
            )
        if existing is None:
            try:
                row = await models.Draft.create(
                    ticket_id=ticket.id, author_id=actor.agent_id, client_key=key, **values
                )
            except IntegrityError:
                raise ValidationFailed.one(None, "draft not saved", ErrorCode.CONFLICT) from None
            await activity.record(
                actor=actor,
                kind="draft.created",
                subject_type="Draft",
                subject_id=row.id,
                ticket_id=ticket.id,
                department_id=ticket.department_id,  # type: ignore[attr-defined]
            )
        else:
            # The same content saved again changes only the saved time (autosave).
            existing.update_from_dict(values)
            await existing.save()
            row = existing
    return await models.Draft.get(id=row.id)


async def _require(actor: Actor, draft_id: int) -> models.Draft:
    row = await visible_drafts(actor).filter(id=draft_id).first()
    if row is None:
        raise ValidationFailed.one("id", "no such draft", ErrorCode.NOT_FOUND)
    return row


def _split(text: str) -> list[str]:
    return [a.strip() for a in text.split(",") if a.strip()]


async def send_draft(actor: Actor, *, settings: Settings, draft_id: int) -> replies.Sent:
    """Send a draft as a reply; it is deleted with the same commit."""
    row = await _require(actor, draft_id)
    return await replies.send_reply(
        actor,
        settings=settings,
        ticket_id=row.ticket_id,  # type: ignore[attr-defined]
        to=_split(row.to_addresses) or None,
        cc=_split(row.cc_addresses),
        bcc=_split(row.bcc_addresses),
        subject=row.subject or None,
        body_text=row.body_text,
        body_html=row.body_html,
        from_address_id=row.from_address_id,  # type: ignore[attr-defined]
        attachment_ids=list(row.attachment_ids or []),
        draft_id=row.id,
    )


async def discard_draft(actor: Actor, *, draft_id: int) -> models.Draft:
    """Delete a draft (mine, or a shared one of a ticket I may see)."""
    row = await _require(actor, draft_id)
    ticket = await models.Ticket.get(id=row.ticket_id)  # type: ignore[attr-defined]
    async with uow.transaction():
        await activity.record(
            actor=actor,
            kind="draft.discarded",
            subject_type="Draft",
            subject_id=row.id,
            ticket_id=ticket.id,
            department_id=ticket.department_id,  # type: ignore[attr-defined]
        )
        await row.delete()
    return row
