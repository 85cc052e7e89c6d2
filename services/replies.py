"""Replies and forwards on a ticket (EM-10, EM-12, EM-15): an outgoing thread and its queued
email, committed together; the outbox worker sends it after the commit.

The email carries a Message-ID of our domain, In-Reply-To/References of the message it answers
and the ticket token `[#n]` in its subject, so the customer's answer threads back
(services.threads).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from email.utils import make_msgid
from typing import Any, BinaryIO

from deskql import models
from deskql.channels.email import outbound as smtp
from deskql.models.enums import Channel, ThreadDirection
from deskql.services import (
    activity,
    email_settings,
    from_addresses,
    outbox,
    templates,
    uow,
    validation,
)
from deskql.services.attachments import blob_path, clean_filename, media_type, store_blob
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.policies import visible_tickets
from deskql.services.threads import ticket_token
from deskql.services.tickets import ensure_not_merged
from deskql.settings import Settings

SUBJECT_MAX = 900
BODY_MAX = 1_000_000
MAX_RECIPIENTS = 50


@dataclass(frozen=True)
class NewFile:
    """A file uploaded with the reply itself."""

    filename: str | None
    content_type: str | None
    source: BinaryIO


@dataclass(frozen=True)
class Sent:
    """What a reply or forward made: the thread and its queued email."""

    thread: models.Thread
    outbox: models.OutboxMessage


def clean_recipients(errors: Errors, field: str, values: list[str] | None) -> list[str]:
    """Check each address; an address that does not parse is an INVALID_EMAIL error."""
    out: list[str] = []
    for value in values or []:
        clean = validation.email(errors, field, value, required=True)
        if clean and clean not in out:
            out.append(clean)
    if len(out) > MAX_RECIPIENTS:
        errors.add(field, f"at most {MAX_RECIPIENTS} recipients", ErrorCode.LIMIT_EXCEEDED)
    return out


def _with_token(subject: str, number: int) -> str:
    token = ticket_token(number)
    return subject if token in subject else f"{subject} {token}".strip()


async def _parent(ticket: models.Ticket, thread_id: int | None) -> models.Thread | None:
    """The message answered: the given thread, else the latest one with a Message-ID."""
    qs = models.Thread.filter(ticket_id=ticket.id)
    if thread_id is not None:
        row = await qs.filter(id=thread_id).first()
        if row is None:
            raise ValidationFailed.one(
                "threadId", "no such thread on the ticket", ErrorCode.NOT_FOUND
            )
        return row
    return await qs.filter(message_id__not_isnull=True).order_by("-id").first()


def _read(path: Any) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


async def _attachments(
    settings: Settings, ticket: models.Ticket, ids: list[int], errors: Errors
) -> tuple[list[models.Attachment], list[smtp.OutAttachment]]:
    if not ids:
        return [], []
    rows = await models.Attachment.filter(id__in=ids, ticket_id=ticket.id)
    if len(rows) != len(set(ids)):
        errors.add("attachmentIds", "no such attachment on the ticket", ErrorCode.NOT_FOUND)
        return [], []
    total = sum(r.size for r in rows)
    if total > settings.outbound_attachment_max_bytes:
        errors.add(
            "attachmentIds",
            f"the attachments are {total} bytes; an email may carry at most "
            f"{settings.outbound_attachment_max_bytes}",
            ErrorCode.LIMIT_EXCEEDED,
        )
        return [], []
    files = []
    for r in rows:
        path = blob_path(settings.attachments_dir, r.sha256)
        try:
            data = await asyncio.to_thread(_read, path)
        except OSError:
            errors.add("attachmentIds", f"the body of {r.filename} is missing", ErrorCode.NOT_FOUND)
            continue
        files.append(smtp.OutAttachment(r.filename, r.content_type, data))
    return rows, files


async def send_reply(
    actor: Actor,
    *,
    settings: Settings,
    ticket_id: int,
    to: list[str] | None = None,
    cc: list[str] | None = None,
    bcc: list[str] | None = None,
    subject: str | None = None,
    body_text: str = "",
    body_html: str = "",
    attachment_ids: list[int] | None = None,
    from_address_id: int | None = None,
    thread_id: int | None = None,
    forward: bool = False,
    template_id: int | None = None,
    draft_id: int | None = None,
    files: list[NewFile] | None = None,
) -> Sent:
    """Reply to (or forward) a ticket by email: an outgoing thread and a queued email.

    With `template_id`, the template fills what is not given (subject, bodies, From address);
    with `draft_id`, that draft is deleted in the same transaction (it has been sent).
    """
    ticket = await visible_tickets(actor).filter(id=ticket_id).select_related("contact").first()
    if ticket is None:
        raise ValidationFailed.one("ticketId", "no such ticket", ErrorCode.NOT_FOUND)
    ensure_not_merged(ticket, "ticketId")
    errors = Errors()
    if template_id is not None:
        template = await templates.get_template(actor, template_id=template_id)
        scope = await templates.scope_for(ticket, actor.agent_id)
        if subject is None and template.subject:
            subject = templates.render(template.subject, scope, one_line=True)
        if not body_text and not body_html:
            body_text = templates.render(template.body_text, scope)
            body_html = templates.render(template.body_html, scope, escape_html=True)
        if from_address_id is None:
            from_address_id = template.from_address_id  # type: ignore[attr-defined]
    requester = (ticket.contact.email or "") if ticket.contact else ""
    to_list = clean_recipients(errors, "to", to)
    if not to_list and to is None and not forward and requester:
        to_list = [requester]
    cc_list = clean_recipients(errors, "cc", cc)
    bcc_list = clean_recipients(errors, "bcc", bcc)
    if not to_list and "to" not in {e.field for e in errors.items}:
        errors.add("to", "at least one recipient is required", ErrorCode.REQUIRED)
    default_subject = ("Fwd: " if forward else "Re: ") + ticket.subject
    clean_subject = validation.text(
        errors,
        "subject",
        default_subject if subject is None else subject,
        max_length=SUBJECT_MAX,
        required=True,
    )
    text = validation.text(errors, "bodyText", body_text, max_length=BODY_MAX, multiline=True)
    html = validation.text(errors, "bodyHtml", body_html, max_length=BODY_MAX, multiline=True)
    if not text and not html and not forward:
        errors.add("bodyText", "a reply needs a body", ErrorCode.REQUIRED)
    parent = None
    try:
        parent = await _parent(ticket, thread_id)
    except ValidationFailed as exc:
        errors.items.extend(exc.errors)
    att_rows, out_files = await _attachments(settings, ticket, attachment_ids or [], errors)
    names = [(clean_filename(errors, f.filename), f) for f in files or []]
    errors.raise_if_any()
    # New uploads: bodies to the store (by sha256, harmless if the reply is then refused),
    # within what the existing attachments left of the per-email limit.
    budget = settings.outbound_attachment_max_bytes - sum(r.size for r in att_rows)
    stored: list[tuple[str, str, str, int]] = []
    for name, f in names:
        ctype, valid = media_type(f.content_type)
        if not valid:
            ctype = "application/octet-stream"
        try:
            sha, size = await asyncio.to_thread(
                store_blob, settings.attachments_dir, f.source, budget
            )
        except ValidationFailed:
            raise ValidationFailed.one(
                "files",
                f"the attachments exceed the limit of {settings.outbound_attachment_max_bytes} "
                "bytes per email",
                ErrorCode.LIMIT_EXCEEDED,
            ) from None
        budget -= size
        data = await asyncio.to_thread(_read, blob_path(settings.attachments_dir, sha))
        out_files.append(smtp.OutAttachment(name or "file", ctype, data))
        stored.append((name or "file", ctype, sha, size))
    department_id: int = ticket.department_id  # type: ignore[attr-defined]
    sender_row = await from_addresses.sender_for(
        actor, from_address_id=from_address_id, department_id=department_id
    )
    default = await from_addresses.default_support_address(settings, department_id)
    if sender_row is None:
        from_addresses.require_default_sender_enabled(default)
    switches = await email_settings.effective(department_id)
    support_email, support_name = from_addresses.sender_of(settings, default)
    if sender_row is not None:
        from_email, from_name = sender_row.email, sender_row.display_name or support_name
    else:
        from_email, from_name = support_email, support_name
    if switches.agent_name_in_replies:  # EM-12
        agent = await models.Agent.get(id=actor.agent_id)
        from_name = agent.name or from_name
    # EM-10: the support address gets a copy, outside what the composer shows.
    envelope_cc = list(cc_list)
    if switches.auto_cc and support_email not in to_list + cc_list + bcc_list:
        envelope_cc.append(support_email)
    # EM-15: without the requester among the recipients the thread is private.
    is_public = not (
        switches.private_replies and requester and requester not in to_list + cc_list + bcc_list
    )
    assert clean_subject is not None
    final_subject = _with_token(clean_subject, ticket.number)
    body = text or ""
    if forward and parent is not None:
        body += (
            "\n\n---------- Forwarded message ----------\n"
            f"From: {parent.from_address}\nSubject: {parent.subject}\n\n{parent.body_text}"
        )
    references = ""
    in_reply_to = ""
    if parent is not None and parent.message_id and not forward:
        in_reply_to = parent.message_id
        references = " ".join(x for x in [parent.references.strip(), parent.message_id] if x)
    message_id = make_msgid(domain=outbox.message_domain(settings))
    try:
        raw = smtp.build_message(
            from_name=from_name,
            from_email=from_email,
            to=to_list,
            cc=envelope_cc,
            subject=final_subject,
            body_text=body,
            body_html=html or "",
            message_id=message_id,
            in_reply_to=in_reply_to,
            references=references,
            attachments=out_files,
        )
    except smtp.HeaderInjection as exc:
        raise ValidationFailed.one(None, str(exc), ErrorCode.INVALID) from None
    async with uow.transaction():
        if draft_id is not None:
            await models.Draft.filter(id=draft_id).delete()
        thread = await models.Thread.create(
            ticket_id=ticket.id,
            direction=ThreadDirection.OUTGOING,
            channel=Channel.EMAIL,
            is_public=is_public,
            from_address=smtp.display(from_name, from_email)[:500],
            to_addresses=", ".join(to_list),
            cc_addresses=", ".join(cc_list),
            subject=final_subject,
            body_text=body,
            body_html=html or "",
            message_id=message_id,
            in_reply_to=in_reply_to,
            references=references,
            author_agent_id=actor.agent_id,
        )
        for name, ctype, sha, size in stored:
            await models.Attachment.create(
                ticket_id=ticket.id,
                thread_id=thread.id,
                filename=name,
                content_type=ctype,
                size=size,
                sha256=sha,
                uploaded_by_id=actor.agent_id,
            )
        if att_rows:
            await models.Attachment.filter(
                id__in=[a.id for a in att_rows], thread_id__isnull=True
            ).update(thread_id=thread.id)
        row = await outbox.enqueue(
            raw=raw,
            message_id=message_id,
            mail_from=from_email,
            to=to_list,
            cc=envelope_cc,
            bcc=bcc_list,
            thread_id=thread.id,
            from_address_id=sender_row.id if sender_row else None,
        )
        await activity.record_ticket(
            actor=actor,
            kind="ticket.thread_added",
            ticket=ticket,
            changes={
                "threadId": thread.id,
                "direction": "OUTGOING",
                "isPublic": is_public,
                "forward": forward,
            },
        )
    outbox.wake()
    return Sent(thread, row)
