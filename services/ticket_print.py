"""The printable ticket (TIC-11): a ticket with its whole conversation in time order.

`open_print` checks the signed URL (services.signed_urls, the same mechanism as CSV exports)
and that its agent may still see the ticket; `conversation` gathers the ticket's threads and
comments in time order, each marked public or private, with the files attached to it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from deskql import models
from deskql.services import signed_urls
from deskql.services.auth import Actor, load_actor
from deskql.services.errors import ClientError
from deskql.services.policies import can_view_ticket
from deskql.services.sanitize import sanitize_html
from deskql.settings import Settings


class PrintGone(ClientError):
    """The ticket does not exist or the link's agent may no longer see it."""

    code = "NOT_FOUND"


def path(ticket_id: int) -> str:
    """The print view's path of a ticket."""
    return f"/print/tickets/{ticket_id}"


def print_url(actor: Actor, settings: Settings, *, ticket_id: int) -> str:
    """A signed, expiring, single-use URL of the ticket's printable page."""
    signed, _ = signed_urls.sign(settings, path=path(ticket_id), actor_id=actor.agent_id)
    return signed_urls.absolute(settings, signed)


@dataclass
class Entry:
    """One message or comment of the conversation."""

    kind: str  # "message" or "comment"
    at: datetime
    is_public: bool
    author: str
    heading: str
    text: str
    html: str
    attachments: list[models.Attachment] = field(default_factory=list)


async def open_print(
    settings: Settings, *, ticket_id: int, query: dict[str, str]
) -> tuple[models.Ticket, list[Entry]]:
    """Check a print URL (signature, expiry, first use) and access; the ticket and entries."""
    signed = signed_urls.verify(settings, path=path(ticket_id), query=query)
    agent = await models.Agent.filter(id=signed.actor_id).first()
    ticket = await models.Ticket.filter(id=ticket_id).first()
    if agent is None or not agent.is_active or ticket is None:
        raise PrintGone("no such ticket")
    actor = await load_actor(signed.actor_id)
    if not can_view_ticket(actor, ticket):
        raise PrintGone("no such ticket")
    await signed_urls.consume(signed)
    return ticket, await conversation(ticket)


async def conversation(ticket: models.Ticket) -> list[Entry]:
    """The ticket's threads and comments in time order, with their attachments."""
    threads = await models.Thread.filter(ticket_id=ticket.id).prefetch_related(
        "author_agent", "author_contact"
    )
    comments = await models.Comment.filter(ticket_id=ticket.id).prefetch_related("author")
    files = await models.Attachment.filter(ticket_id=ticket.id).order_by("id")
    by_thread: dict[int, list[models.Attachment]] = defaultdict(list)
    by_comment: dict[int, list[models.Attachment]] = defaultdict(list)
    for item in files:
        if item.thread_id is not None:  # type: ignore[attr-defined]
            by_thread[item.thread_id].append(item)  # type: ignore[attr-defined]
        elif item.comment_id is not None:  # type: ignore[attr-defined]
            by_comment[item.comment_id].append(item)  # type: ignore[attr-defined]
    entries: list[Entry] = []
    for t in threads:
        author: Any = t.author_agent or t.author_contact
        entries.append(
            Entry(
                kind="message",
                at=t.created_at,
                is_public=t.is_public,
                author=_name(author) or t.from_address,
                heading=f"{t.direction.value.title()} {t.channel.value.lower()}",
                text=t.body_text,
                html="" if t.body_text else sanitize_html(t.body_html),
                attachments=by_thread.get(t.id, []),
            )
        )
    for c in comments:
        entries.append(
            Entry(
                kind="comment",
                at=c.created_at,
                is_public=c.is_public,
                author=_name(c.author),
                heading="Comment",
                text=c.body,
                html="",
                attachments=by_comment.get(c.id, []),
            )
        )
    entries.sort(key=lambda e: e.at)
    return entries


def _name(who: Any) -> str:
    if who is None:
        return ""
    name = f"{getattr(who, 'first_name', '')} {getattr(who, 'last_name', '')}".strip()
    return name or getattr(who, "email", "") or ""


def loose_files(entries: list[Entry], files: list[models.Attachment]) -> list[Any]:
    """Attachments of the ticket itself (neither a message's nor a comment's)."""
    listed = {a.id for e in entries for a in e.attachments}
    return [f for f in files if f.id not in listed]
