"""The public side of a contact's tickets: their public messages (public threads and public
comments, never a private reply, EM-15, nor an internal note) and the files on them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise.expressions import Q, Subquery

from deskql import models
from deskql.models.enums import ThreadDirection
from deskql.services.helpcenter.access import ContactActor


@dataclass
class Message:
    """One public message of a ticket's conversation, as a contact sees it."""

    kind: str  # "THREAD" or "COMMENT"
    pk: int
    created_at: datetime
    body: str
    from_customer: bool
    author_name: str
    attachments: list[models.Attachment] = field(default_factory=list)


async def conversation(
    ticket_ids: list[int], *, only: tuple[str, int] | None = None
) -> dict[int, list[Message]]:
    """The public messages of tickets, oldest first: public threads and public comments with
    their attachments; agents appear by name only (never an address). `only` ("THREAD" or
    "COMMENT", pk) reads just that message (a live update)."""
    if not ticket_ids:
        return {}
    threads_qs = models.Thread.filter(ticket_id__in=ticket_ids, is_public=True)
    comments_qs = models.Comment.filter(ticket_id__in=ticket_ids, is_public=True)
    if only is not None:
        threads_qs = threads_qs.filter(id=only[1] if only[0] == "THREAD" else 0)
        comments_qs = comments_qs.filter(id=only[1] if only[0] == "COMMENT" else 0)
    thread_rows = await threads_qs.order_by("id") if only is None or only[0] == "THREAD" else []
    comment_rows = await comments_qs.order_by("id") if only is None or only[0] == "COMMENT" else []
    agent_ids = {r.author_agent_id for r in thread_rows} | {c.author_id for c in comment_rows}  # type: ignore[attr-defined]
    contact_ids = {r.author_contact_id for r in thread_rows}  # type: ignore[attr-defined]
    agents = {
        pk: f"{first} {last}".strip()
        for pk, first, last in await models.Agent.filter(
            id__in=[a for a in agent_ids if a]
        ).values_list("id", "first_name", "last_name")
    }
    contacts = {
        c.id: c.name for c in await models.Contact.filter(id__in=[c for c in contact_ids if c])
    }
    files: dict[tuple[str, int], list[models.Attachment]] = {}
    thread_pks = [r.id for r in thread_rows]
    comment_pks = [c.id for c in comment_rows]
    if thread_pks or comment_pks:
        for att in await models.Attachment.filter(
            Q(thread_id__in=thread_pks or [0]) | Q(comment_id__in=comment_pks or [0])
        ).order_by("id"):
            key = ("THREAD", att.thread_id) if att.thread_id else ("COMMENT", att.comment_id)  # type: ignore[attr-defined]
            files.setdefault(key, []).append(att)
    out: dict[int, list[Message]] = {pk: [] for pk in ticket_ids}
    for r in thread_rows:
        incoming = r.direction is ThreadDirection.INCOMING and r.author_agent_id is None  # type: ignore[attr-defined]
        name = (
            contacts.get(r.author_contact_id, "")  # type: ignore[attr-defined]
            if incoming
            else agents.get(r.author_agent_id) or "Support"  # type: ignore[attr-defined]
        )
        out[r.ticket_id].append(  # type: ignore[attr-defined]
            Message(
                "THREAD",
                r.id,
                r.created_at,
                r.body_text,
                incoming,
                name,
                files.get(("THREAD", r.id), []),
            )
        )
    for c in comment_rows:
        out[c.ticket_id].append(  # type: ignore[attr-defined]
            Message(
                "COMMENT",
                c.id,
                c.created_at,
                c.body,
                False,
                agents.get(c.author_id) or "Support",  # type: ignore[attr-defined]
                files.get(("COMMENT", c.id), []),
            )
        )
    for messages in out.values():
        messages.sort(key=lambda m: (m.created_at, m.kind == "COMMENT", m.pk))
    return out


async def get_attachment(actor: ContactActor, *, attachment_id: int) -> models.Attachment | None:
    """An attachment of a public message of one of the contact's tickets, else None."""
    row = await models.Attachment.filter(
        id=attachment_id, ticket_id__in=Subquery(_visible_tickets(actor).values("id"))
    ).first()
    if row is None:
        return None
    if row.thread_id is not None:  # type: ignore[attr-defined]
        if not await models.Thread.exists(id=row.thread_id, is_public=True):  # type: ignore[attr-defined]
            return None
    elif row.comment_id is not None:  # type: ignore[attr-defined]
        if not await models.Comment.exists(id=row.comment_id, is_public=True):  # type: ignore[attr-defined]
            return None
    elif row.uploaded_by_id is not None:  # type: ignore[attr-defined]
        return None  # an agent's file on the ticket itself is internal
    return row


def _visible_tickets(actor: ContactActor) -> Any:
    from deskql.services.helpcenter.tickets import visible_tickets

    return visible_tickets(actor)
