"""A ticket's tags: cleaned, attached, added and removed (at most 10 a ticket)."""

from __future__ import annotations

import re

from deskql import models
from deskql.services import activity, uow
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.tickets.common import _require_ticket

MAX_TAGS_PER_TICKET = 10


MAX_TAG_LENGTH = 50


_TAG = re.compile(r"^[a-z0-9]+$")


def clean_tag(errors: Errors, name: str, field_name: str = "tags") -> str | None:
    """Normalise a tag to lower case and check TIC-6's rules (a-z0-9, at most 50 chars)."""
    cleaned = name.strip().lower()
    if not cleaned:
        errors.add(field_name, "a tag must not be empty", ErrorCode.REQUIRED)
        return None
    if len(cleaned) > MAX_TAG_LENGTH:
        errors.add(
            field_name,
            f"tag {cleaned[:20]!r}... is {len(cleaned)} characters; at most 50 are allowed",
            ErrorCode.TOO_LONG,
        )
        return None
    if not _TAG.match(cleaned):
        errors.add(
            field_name,
            f"tag {cleaned!r} may contain only letters a-z and digits 0-9",
            ErrorCode.INVALID,
        )
        return None
    return cleaned


def _clean_tags(errors: Errors, names: list[str]) -> list[str]:
    cleaned: list[str] = []
    for name in names:
        tag = clean_tag(errors, name)
        if tag and tag not in cleaned:
            cleaned.append(tag)
    return cleaned


async def _attach_tags(actor: Actor, ticket: models.Ticket, names: list[str]) -> list[str]:
    # ON CONFLICT DO NOTHING: two requests may create the same new tag at once.
    await models.Tag.bulk_create([models.Tag(name=n) for n in names], ignore_conflicts=True)
    tags = await models.Tag.filter(name__in=names)
    existing = set(
        await models.TicketTag.filter(ticket_id=ticket.id).values_list("tag_id", flat=True)
    )
    added = [t for t in tags if t.id not in existing]
    if added:
        await models.TicketTag.bulk_create(
            [models.TicketTag(ticket_id=ticket.id, tag_id=t.id) for t in added]
        )
        for tag in sorted(added, key=lambda t: t.name):
            await activity.record_ticket(
                actor=actor, kind="ticket.tag_added", ticket=ticket, changes={"tag": tag.name}
            )
    return [t.name for t in added]


async def add_tags(actor: Actor, *, ticket_id: int, names: list[str]) -> models.Ticket:
    """Add tags to a ticket (TIC-6): all or none; at most 10 on a ticket."""
    errors = Errors()
    cleaned = _clean_tags(errors, names)
    if not names:
        errors.add("tags", "give at least one tag", ErrorCode.REQUIRED)
    errors.raise_if_any()
    ticket = await _require_ticket(actor, ticket_id, "ticketId")
    async with uow.transaction():
        # Lock the ticket row (PostgreSQL) so concurrent adds cannot pass the limit together.
        await models.Ticket.filter(id=ticket.id).select_for_update().only("id").first()
        current = set(
            await models.TicketTag.filter(ticket_id=ticket.id).values_list("tag__name", flat=True)
        )
        total = len(current | set(cleaned))
        if total > MAX_TAGS_PER_TICKET:
            raise ValidationFailed.one(
                "tags",
                f"a ticket has at most {MAX_TAGS_PER_TICKET} tags; this one has {len(current)} "
                f"and would have {total}",
                ErrorCode.LIMIT_EXCEEDED,
            )
        await _attach_tags(actor, ticket, cleaned)
    return ticket


async def remove_tag(actor: Actor, *, ticket_id: int, name: str) -> models.Ticket:
    """Remove a tag from a ticket; tags are never renamed, only removed (TIC-6)."""
    ticket = await _require_ticket(actor, ticket_id, "ticketId")
    clean = name.strip().lower()
    link = await models.TicketTag.filter(ticket_id=ticket.id, tag__name=clean).first()
    if link is None:
        raise ValidationFailed.one("tag", f"the ticket has no tag {clean!r}", ErrorCode.NOT_FOUND)
    async with uow.transaction():
        await link.delete()
        await activity.record_ticket(
            actor=actor, kind="ticket.tag_removed", ticket=ticket, changes={"tag": clean}
        )
    return ticket
