"""Threads: the messages of a ticket conversation, and how a reply finds its ticket (TIC-3).

Threading order: (1) the In-Reply-To and References Message-IDs against our threads'
Message-IDs (stored with their angle brackets, as `email.utils.make_msgid` makes them);
(2) the ticket token in the subject. The token is `[#<number>]`, e.g. "Re: Printer jam
[#1042]"; outbound mail puts it in its subjects (`ticket_token`). A token only threads mail
from the ticket's contact or an agent, so guessing numbers cannot inject mail into others'
tickets.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tortoise.expressions import F

from deskql import models

# The key of an incoming message (sha256 of its Message-ID): one function for the app and for
# migration 0005, which backfills it; `threads.inbound_key` is the name the app uses.
from deskql.channels.email.message_key import inbound_key as inbound_key
from deskql.models.enums import Channel, ThreadDirection, TicketStatus
from deskql.services import activity
from deskql.services.auth import Actor

_TOKEN = re.compile(r"\[#(\d{1,9})\]")


def ticket_token(number: int) -> str:
    """The subject token that names a ticket: `[#1042]`."""
    return f"[#{number}]"


def token_numbers(subject: str) -> list[int]:
    """The ticket numbers named by tokens in a subject, in order."""
    return [int(n) for n in _TOKEN.findall(subject or "")]


async def find_by_inbound_key(key: str | None) -> models.Thread | None:
    """The thread made from the incoming message with this key, with its ticket."""
    if key is None:
        return None
    return await models.Thread.filter(inbound_key=key).select_related("ticket").first()


async def find_by_message_ids(ids: list[str]) -> models.Thread | None:
    """The most recent thread whose Message-ID is one of `ids` (In-Reply-To first)."""
    for mid in ids:
        thread = await models.Thread.filter(message_id=mid).order_by("-id").first()
        if thread is not None:
            return thread
    return None


async def find_reply_ticket(
    *, in_reply_to: list[str], references: list[str], subject: str, sender: str
) -> tuple[models.Ticket | None, str]:
    """The ticket a message replies to and how it was found ('' when it is new)."""
    # In-Reply-To names the direct parent; References lists the chain, newest last.
    thread = await find_by_message_ids(in_reply_to + list(reversed(references)))
    if thread is not None:
        ticket = await models.Ticket.get(id=thread.ticket_id)  # type: ignore[attr-defined]
        return ticket, f"Message-ID {thread.message_id}"
    for number in token_numbers(subject):
        ticket = await models.Ticket.filter(number=number).select_related("contact").first()
        if ticket is None:
            continue
        contact_email = ticket.contact.email if ticket.contact else ""
        if sender and (
            sender == contact_email or await models.Agent.exists(email=sender, is_active=True)
        ):
            return ticket, f"subject token {ticket_token(number)}"
    return None, ""


async def add_incoming_thread(
    *,
    ticket: models.Ticket,
    contact_id: int | None,
    from_address: str,
    to_addresses: str,
    cc_addresses: str,
    subject: str,
    body_text: str,
    body_html: str,
    message_id: str | None,
    in_reply_to: str,
    references: str,
    is_public: bool = True,
    author_agent_id: int | None = None,
    automated: bool = False,
    inbound_key: str | None = None,
    channel: Channel = Channel.EMAIL,
) -> models.Thread:
    """Add an incoming email message to a ticket; call inside the caller's transaction.

    `automated` (an auto-reply, a bounce) is kept on the Activity row: automations must never
    answer such a message (no loops with auto-responders). `inbound_key` (see `inbound_key`)
    is unique: a second thread for the same message raises IntegrityError, and the caller's
    whole transaction rolls back. `channel` is WEB for a reply from the help center.
    """
    thread = await models.Thread.create(
        ticket_id=ticket.id,
        direction=ThreadDirection.INCOMING,
        channel=channel,
        is_public=is_public,
        from_address=from_address[:500],
        to_addresses=to_addresses,
        cc_addresses=cc_addresses,
        subject=subject[:998],
        body_text=body_text,
        body_html=body_html,
        message_id=message_id,
        inbound_key=inbound_key,
        in_reply_to=in_reply_to[:998],
        references=references,
        author_contact_id=contact_id,
        author_agent_id=author_agent_id,
    )
    await activity.record_ticket(
        actor=None,
        kind="ticket.thread_added",
        ticket=ticket,
        changes={"threadId": thread.id, "direction": "INCOMING", "isPublic": is_public}
        | ({"automated": True} if automated else {}),
    )
    return thread


async def reopen(actor: Actor | None, ticket: models.Ticket, why: str) -> models.Ticket:
    """Reopen a closed ticket (a customer replied); call inside the caller's transaction."""
    if ticket.status is not TicketStatus.CLOSED:
        return ticket
    await models.Ticket.filter(id=ticket.id).update(
        status=TicketStatus.OPEN,
        closed_at=None,
        version=F("version") + 1,
        updated_at=datetime.now(UTC),
    )
    fresh = await models.Ticket.get(id=ticket.id)
    await activity.record_ticket(
        actor=actor,
        kind="ticket.updated",
        ticket=fresh,
        changes={"status": {"old": "CLOSED", "new": "OPEN"}, "reason": why},
    )
    return fresh
