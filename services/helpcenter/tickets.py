"""A contact's tickets: what they may see, and creating, replying to and closing them.

A contact sees the tickets they raised, and, as their account's manager, every ticket of
their account (ORG-5). Anything else is NOT_FOUND, exactly as if it did not exist. They see
only the public side of a ticket: public threads (never a private reply, EM-15) and public
comments; never internal notes, agents' addresses, spam flags, time entries or tags.

Tickets are created by services.tickets.create_ticket (one way to create a ticket, as email
and the agents' API do); a reply becomes an incoming thread (services.threads, as an emailed
reply does), whose Activity notifies the ticket's followers (its assignee follows it).

The rule for replies: a closed or merged ticket takes no reply from the help center. A closed
ticket is rated, or followed up with a new ticket; a merged one lives on in the ticket it was
merged into. (Email is more lenient: a reply by email reopens a closed ticket, because mail
cannot be refused back to a person; a form can say why.)
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tortoise.expressions import F, Q
from tortoise.queryset import QuerySet

from deskql import models
from deskql.models.enums import Channel, TicketStatus
from deskql.services import activity, mail_directory, threads, uow, validation
from deskql.services import tickets as ticket_service
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.helpcenter.access import ContactActor
from deskql.services.helpcenter.files import StoredFile, Upload, check_files, store_files

SUBJECT_MAX = ticket_service.SUBJECT_MAX
BODY_MAX = 50_000


def visible_tickets(actor: ContactActor) -> QuerySet[models.Ticket]:
    """The tickets a contact may see: their own, and their account's when its manager."""
    condition = Q(contact_id=actor.contact_id)
    if actor.is_account_manager and actor.account_id is not None:
        condition |= Q(account_id=actor.account_id)
    return models.Ticket.filter(condition)


async def get_ticket(
    actor: ContactActor, *, ticket_id: int | None = None, number: int | None = None
) -> models.Ticket | None:
    """The ticket by id or number, or None when it does not exist or is not theirs."""
    if ticket_id is None and number is None:
        return None
    qs = visible_tickets(actor)
    qs = qs.filter(id=ticket_id) if ticket_id is not None else qs.filter(number=number)
    return await qs.first()


async def _require(
    actor: ContactActor, ticket_id: int, field_name: str = "ticketId"
) -> models.Ticket:
    ticket = await get_ticket(actor, ticket_id=ticket_id)
    if ticket is None:
        raise ValidationFailed.one(field_name, "no such ticket", ErrorCode.NOT_FOUND)
    return ticket


def reply_refusal(ticket: models.Ticket) -> str | None:
    """Why the help center takes no reply on this ticket now (None: it does)."""
    if ticket.merged_into_id is not None:  # type: ignore[attr-defined]
        return "this ticket was merged into another one: reply there"
    if ticket.status is TicketStatus.CLOSED:
        return "this ticket is closed: rate it, or submit a new ticket"
    return None


async def _attach(ticket: models.Ticket, thread: models.Thread, files: list[StoredFile]) -> None:
    for stored in files:
        row = await models.Attachment.create(
            ticket_id=ticket.id,
            thread_id=thread.id,
            filename=stored.filename,
            content_type=stored.content_type,
            size=stored.size,
            sha256=stored.sha256,
        )
        await activity.record_ticket(
            actor=None,
            kind="ticket.attachment_added",
            ticket=ticket,
            changes={"attachmentId": row.id, "filename": stored.filename, "size": stored.size},
        )


def _from(contact: models.Contact) -> str:
    return f"{contact.name} <{contact.email}>" if contact.name else contact.email or ""


async def create_ticket(
    actor: ContactActor,
    *,
    root: Path,
    max_bytes: int,
    subject: str | None,
    description: str | None,
    files: list[Upload] | None = None,
) -> models.Ticket:
    """Submit a ticket from the help center: services.tickets.create_ticket (channel WEB) in
    the default department, its description as the first incoming thread, with the files."""
    errors = Errors()
    clean_subject = validation.text(
        errors, "subject", subject, max_length=SUBJECT_MAX, required=True
    )
    body = validation.text(
        errors, "description", description, max_length=BODY_MAX, required=True, multiline=True
    )
    checked = check_files(errors, files)
    department_id = await mail_directory.default_department_id()
    if department_id is None:
        errors.add(
            None, "the help desk has no department to take tickets yet", ErrorCode.INVALID_STATE
        )
    errors.raise_if_any()
    assert clean_subject is not None and body is not None and department_id is not None
    stored = await store_files(root, max_bytes, checked)
    contact = await models.Contact.get(id=actor.contact_id)
    async with uow.transaction():
        ticket = await ticket_service.create_ticket(
            None,
            subject=clean_subject,
            description=body,
            department_id=department_id,
            contact_id=contact.id,
            channel=Channel.WEB,
        )
        thread = await threads.add_incoming_thread(
            ticket=ticket,
            contact_id=contact.id,
            from_address=_from(contact),
            to_addresses="",
            cc_addresses="",
            subject=clean_subject,
            body_text=body,
            body_html="",
            message_id=None,
            in_reply_to="",
            references="",
            channel=Channel.WEB,
        )
        await _attach(ticket, thread, stored)
    return ticket


async def reply(
    actor: ContactActor,
    *,
    root: Path,
    max_bytes: int,
    ticket_id: int,
    body: str | None,
    files: list[Upload] | None = None,
) -> tuple[models.Ticket, models.Thread]:
    """A contact's reply: an incoming public thread on their open ticket (see the module's
    rule for closed and merged tickets)."""
    errors = Errors()
    text = validation.text(errors, "body", body, max_length=BODY_MAX, required=True, multiline=True)
    checked = check_files(errors, files)
    errors.raise_if_any()
    assert text is not None
    ticket = await _require(actor, ticket_id)
    refusal = reply_refusal(ticket)
    if refusal is not None:
        code = ErrorCode.MERGED if ticket.merged_into_id is not None else ErrorCode.INVALID_STATE  # type: ignore[attr-defined]
        raise ValidationFailed.one("ticketId", refusal, code)
    stored = await store_files(root, max_bytes, checked)
    contact = await models.Contact.get(id=actor.contact_id)
    async with uow.transaction():
        # Re-read under the transaction: an agent may have closed it meanwhile.
        ticket = await models.Ticket.get(id=ticket.id)
        refusal = reply_refusal(ticket)
        if refusal is not None:
            raise ValidationFailed.one("ticketId", refusal, ErrorCode.INVALID_STATE)
        thread = await threads.add_incoming_thread(
            ticket=ticket,
            contact_id=contact.id,
            from_address=_from(contact),
            to_addresses="",
            cc_addresses="",
            subject=f"Re: {ticket.subject}"[:998],
            body_text=text,
            body_html="",
            message_id=None,
            in_reply_to="",
            references="",
            channel=Channel.WEB,
        )
        await _attach(ticket, thread, stored)
        await models.Ticket.filter(id=ticket.id).update(updated_at=datetime.now(UTC))
    return await models.Ticket.get(id=ticket.id), thread


async def close(actor: ContactActor, *, ticket_id: int) -> models.Ticket:
    """The contact closes their ticket (solved); closing a closed one changes nothing."""
    ticket = await _require(actor, ticket_id)
    if ticket.merged_into_id is not None:  # type: ignore[attr-defined]
        raise ValidationFailed.one(
            "ticketId", "this ticket was merged into another one", ErrorCode.MERGED
        )
    if ticket.status is TicketStatus.CLOSED:
        return ticket
    async with uow.transaction():
        now = datetime.now(UTC)
        await models.Ticket.filter(id=ticket.id).update(
            status=TicketStatus.CLOSED, closed_at=now, updated_at=now, version=F("version") + 1
        )
        fresh = await models.Ticket.get(id=ticket.id)
        await activity.record_ticket(
            actor=None,
            kind="ticket.updated",
            ticket=fresh,
            changes={
                "status": {"old": ticket.status.value, "new": "CLOSED"},
                "reason": "closed by the customer in the help center",
            },
        )
    return fresh
