"""One parsed message turned into a ticket, a thread of a ticket, or a bounce (`_process`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from deskql import models
from deskql.channels.email import detect, spam
from deskql.channels.email.parse import (
    Address,
    ParsedMail,
    format_addresses,
)
from deskql.models.enums import Channel, InboundStatus, TicketStatus
from deskql.services import activity, customers, mail_directory, notifications, threads, uow
from deskql.services.attachments import clean_filename
from deskql.services.errors import Errors
from deskql.services.mail_inbound.parsing import Parsed
from deskql.services.mail_inbound.store import store_raw
from deskql.services.merge_split import follow_merges
from deskql.services.tickets import (
    DESCRIPTION_MAX,
    SUBJECT_MAX,
    create_ticket,
)
from deskql.settings import Settings

NO_SUBJECT = "(no subject)"


# --- processing ------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What processing decided, written to the inbound row."""

    status: InboundStatus
    reason: str = ""
    ticket: models.Ticket | None = None
    thread: models.Thread | None = None
    spam_score: float = 0.0
    # Summaries for the observer (none for spam: it notifies nobody).
    events: list[dict[str, Any]] = field(default_factory=list)


def _subject(mail: ParsedMail) -> str:
    subject = mail.subject.strip() or NO_SUBJECT
    return subject[:SUBJECT_MAX].strip() or NO_SUBJECT


def _valid_email(value: str | None) -> str | None:
    from deskql.services import validation

    errors = Errors()
    clean = validation.email(errors, "email", (value or "").strip().strip("<>"))
    return clean if clean and not errors.items else None


async def _store_parts(settings: Settings, mail: ParsedMail) -> list[tuple[str, str, str, int]]:
    """Write the attachment bodies (before the rows that point to them)."""
    stored = []
    for index, part in enumerate(mail.attachments, start=1):
        name = clean_filename(Errors(), part.filename) or f"attachment-{index}"
        sha, size = await asyncio.to_thread(
            store_raw, settings.attachments_dir, part.data, max(len(part.data), 1)
        )
        stored.append((name, part.content_type[:255], sha, size))
    return stored


async def _attach(
    ticket: models.Ticket, thread: models.Thread, parts: list[tuple[str, str, str, int]]
) -> None:
    for name, ctype, sha, size in parts:
        row = await models.Attachment.create(
            ticket_id=ticket.id,
            thread_id=thread.id,
            filename=name,
            content_type=ctype,
            size=size,
            sha256=sha,
        )
        await activity.record_ticket(
            actor=None,
            kind="ticket.attachment_added",
            ticket=ticket,
            changes={"attachmentId": row.id, "filename": name, "size": size},
        )


def _sender(row: models.InboundMessage, mail: ParsedMail) -> str | None:
    """The address a message is from: From, else the envelope sender; None when neither is
    usable."""
    return _valid_email((mail.sender.email if mail.sender else None) or _valid_email(row.mail_from))


AGENTS_MEMO = "mail_inbound.agents"  # sender address -> active agent id or None


async def _read_ahead(parsed: list[tuple[models.InboundMessage, Parsed]]) -> None:
    """Read what a group's messages will look up, a statement for each kind instead of one
    per message: which senders are active agents (for `_agent_id`), the senders' contacts
    (for customers.find_or_create_contact) and their followers and their accounts' (for the
    notifications of the activities). Inside the group's transaction; inbound mail never
    writes agents, and what it writes of the rest keeps those reads up to date."""
    memo = uow.memo()
    senders = sorted(
        {
            sender
            for row, mail in parsed
            if not isinstance(mail, Exception) and (sender := _sender(row, mail)) is not None
        }
    )
    if memo is None or not senders:
        return
    found = dict(
        await models.Agent.filter(email__in=senders, is_active=True).values_list("email", "id")
    )
    memo[AGENTS_MEMO] = {sender: found.get(sender) for sender in senders}
    contacts = await customers.read_contacts(senders)
    await notifications.read_followers(
        contact_ids=[c.id for c in contacts],
        account_ids=sorted({c.account_id for c in contacts if c.account_id is not None}),  # type: ignore[attr-defined]
    )


async def _agent_id(sender: str) -> int | None:
    """The active agent with this address, if any (from `_read_ahead` when it read it)."""
    memo = uow.memo()
    known = memo.get(AGENTS_MEMO, {}) if memo is not None else {}
    if sender in known:
        return known[sender]  # type: ignore[no-any-return]
    agents = (
        await models.Agent.filter(email=sender, is_active=True)
        .limit(1)
        .values_list("id", flat=True)
    )
    return agents[0] if agents else None  # type: ignore[return-value]


def _thread_values(mail: ParsedMail, sender: str) -> dict[str, Any]:
    name = mail.sender.name if mail.sender else ""
    return {
        "from_address": f"{name} <{sender}>" if name else sender,
        "to_addresses": format_addresses(mail.to),
        "cc_addresses": format_addresses(mail.cc),
        "subject": mail.subject,
        "body_text": mail.text,
        "body_html": mail.html,
        "message_id": mail.message_id,
        "in_reply_to": " ".join(mail.in_reply_to),
        "references": " ".join(mail.references),
        # Unique: the same message delivered twice (to any process) cannot make two threads.
        "inbound_key": threads.inbound_key(mail.message_id),
    }


def _duplicate(mail: ParsedMail, twin: models.Thread) -> Outcome:
    return Outcome(
        InboundStatus.IGNORED,
        f"duplicate Message-ID {mail.message_id}: already thread {twin.id} of ticket "
        f"#{twin.ticket.number}",
        ticket=twin.ticket,
        thread=twin,
    )


def _event(kind: str, ticket: models.Ticket, **extra: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "ticketId": ticket.id,
        "departmentId": ticket.department_id,  # type: ignore[attr-defined]
        **extra,
    }


async def _department_for(address: mail_directory.AddressInfo | None) -> int | None:
    if address is not None and address.department_id is not None:
        return address.department_id
    return await mail_directory.default_department_id()


async def _bounce(settings: Settings, mail: ParsedMail, sender: str) -> Outcome:
    original = await threads.find_by_message_ids(mail.bounced_message_ids)
    if original is None:
        ids = ", ".join(mail.bounced_message_ids) or "none found"
        return Outcome(
            InboundStatus.IGNORED,
            f"delivery status notification for a message that is not ours (Message-ID: {ids})",
        )
    ticket = await models.Ticket.get(id=original.ticket_id)  # type: ignore[attr-defined]
    parts = await _store_parts(settings, mail)
    values = _thread_values(mail, sender or "mailer-daemon")
    thread = await threads.add_incoming_thread(
        ticket=ticket, contact_id=None, is_public=False, automated=True, **values
    )
    await _attach(ticket, thread, parts)
    return Outcome(
        InboundStatus.PROCESSED,
        f"delivery status notification: attached privately to ticket #{ticket.number}",
        ticket=ticket,
        thread=thread,
        events=[_event("ticket.thread_added", ticket, threadId=thread.id, bounce=True)],
    )


async def _process(settings: Settings, row: models.InboundMessage, mail: ParsedMail) -> Outcome:
    """Decide what a parsed message becomes and write it; runs inside the caller's transaction."""
    address = None
    if row.support_address_id is not None:  # type: ignore[attr-defined]
        address = await mail_directory.address_by_id(row.support_address_id)  # type: ignore[attr-defined]
    if address is None:
        for rcpt in row.rcpt_to.split(","):
            address = await mail_directory.address(rcpt)
            if address is not None:
                break
    if address is not None and not address.is_fetching:
        return Outcome(
            InboundStatus.IGNORED,
            f"{address.email} is not fetching (EM-4): kept, no ticket made; turn fetching on "
            "and reprocess to make one",
        )
    verdict = detect.classify(mail, mail_domain=settings.mail_domain)
    if verdict.own_mail:
        return Outcome(InboundStatus.IGNORED, f"loop prevented: {verdict.reason}")
    sender = _sender(row, mail)
    if verdict.bounce:
        return await _bounce(settings, mail, sender or "")
    own = await mail_directory.known_support_address(sender) if sender else None
    if own is not None:
        # A ticket whose contact is our own address would answer itself: a loop, or a forgery.
        return Outcome(
            InboundStatus.IGNORED,
            f"sent from our own support address {own.email}: no ticket made (a mail loop or "
            "a forged sender)",
        )
    if sender is None:
        return Outcome(
            InboundStatus.FAILED,
            "no usable sender address: From is missing or does not parse, and the envelope "
            "sender is empty",
        )
    name = mail.sender.name if mail.sender and mail.sender.email == sender else ""
    automated = f"; {verdict.reason}: no automatic response" if verdict.automated else ""

    ticket, how = await threads.find_reply_ticket(
        in_reply_to=mail.in_reply_to,
        references=mail.references,
        subject=mail.subject,
        sender=sender,
    )
    if ticket is not None:
        # A reply to a merged ticket lands on the ticket it was merged into (TIC-5).
        ticket = await follow_merges(ticket, lock=True)
    agent_id = await _agent_id(sender)
    parts = await _store_parts(settings, mail)
    if ticket is not None:
        contact_id = None
        if agent_id is None:
            contact = await customers.find_or_create_contact(None, email=sender, name=name)
            contact_id = contact.id
        if not verdict.automated:
            ticket = await threads.reopen(None, ticket, "the customer replied by email")
        thread = await threads.add_incoming_thread(
            ticket=ticket,
            contact_id=contact_id,
            author_agent_id=agent_id,
            automated=verdict.automated,
            **_thread_values(mail, sender),
        )
        await _attach(ticket, thread, parts)
        events = (
            [] if ticket.is_spam else [_event("ticket.thread_added", ticket, threadId=thread.id)]
        )
        return Outcome(
            InboundStatus.PROCESSED,
            f"reply to ticket #{ticket.number} (matched by {how}){automated}",
            ticket=ticket,
            thread=thread,
            events=events,
        )

    department_id = await _department_for(address)
    if department_id is None:
        return Outcome(InboundStatus.FAILED, "no department to put the ticket in: create one")
    switches = await mail_directory.switches(department_id)
    requester = Address(name, sender)
    notes: list[str] = []
    if switches.contact_from_reply_to and mail.reply_to:
        requester = mail.reply_to[0]
        notes.append(f"requester from Reply-To {requester.email} (EM-11)")
    forwarded = mail.forwarded_sender
    if (
        switches.forwarded_on_behalf
        and agent_id is not None
        and forwarded is not None
        and forwarded.email != sender
        and _valid_email(forwarded.email)
    ):
        requester = forwarded
        notes.append(f"forwarded by agent {sender} on behalf of {forwarded.email} (EM-14)")
    domain = "@" + sender.rpartition("@")[2]
    blocked = await mail_directory.blocked_among([sender, domain])
    verdict_spam = spam.score(mail, sender=sender, blocked=blocked)
    if verdict_spam.score:
        notes.append(verdict_spam.explain())
    ticket = await create_ticket(
        None,
        subject=_subject(mail),
        department_id=department_id,
        description=mail.text[:DESCRIPTION_MAX],
        contact_email=requester.email,
        contact_name=requester.name,
        channel=Channel.EMAIL,
        status=TicketStatus.OPEN,
        is_spam=verdict_spam.is_spam,
    )
    thread = await threads.add_incoming_thread(
        ticket=ticket,
        contact_id=None if agent_id is not None else ticket.contact_id,  # type: ignore[attr-defined]
        author_agent_id=agent_id,
        automated=verdict.automated,
        **_thread_values(mail, sender),
    )
    await _attach(ticket, thread, parts)
    reason = "; ".join([f"new ticket #{ticket.number}", *notes]) + automated
    events = (
        []
        if ticket.is_spam
        else [_event("ticket.created", ticket, threadId=thread.id, automated=verdict.automated)]
    )
    return Outcome(
        InboundStatus.PROCESSED,
        reason,
        ticket=ticket,
        thread=thread,
        spam_score=verdict_spam.score,
        events=events,
    )
