"""Email templates (TIC-10): personal or shared with a department, in folders, with
`{{ticket.number}}`-style placeholders from a fixed list; ticket templates that prefill a new
ticket; the follow-up email to every ticket with a tag (TIC-6).

Rendering never evaluates anything: a placeholder is looked up in PLACEHOLDERS, a fixed map
of names to functions reading one field, so a template cannot reach any other attribute.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from deskql import models
from deskql.services import activity, uow, validation
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.policies import can_see_department, visible_tickets
from deskql.settings import Settings

NAME_MAX = 100
SUBJECT_MAX = 900
BODY_MAX = 200_000
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


@dataclass(frozen=True)
class Scope:
    """The rows a template is rendered for."""

    ticket: models.Ticket | None = None
    contact: models.Contact | None = None
    account: models.Account | None = None
    agent: models.Agent | None = None
    department: models.Department | None = None


def _get(obj: str, read: Callable[[Any], Any]) -> Callable[[Scope], str]:
    def value(scope: Scope) -> str:
        row = getattr(scope, obj)
        if row is None:
            return ""
        out = read(row)
        return "" if out is None else str(out)

    return value


PLACEHOLDERS: dict[str, Callable[[Scope], str]] = {
    "ticket.number": _get("ticket", lambda t: t.number),
    "ticket.subject": _get("ticket", lambda t: t.subject),
    "ticket.status": _get("ticket", lambda t: t.status.value),
    "ticket.priority": _get("ticket", lambda t: t.priority.name),
    "ticket.due_at": _get("ticket", lambda t: t.due_at.isoformat() if t.due_at else ""),
    "contact.first_name": _get("contact", lambda c: c.first_name),
    "contact.last_name": _get("contact", lambda c: c.last_name),
    "contact.name": _get("contact", lambda c: f"{c.first_name} {c.last_name}".strip()),
    "contact.email": _get("contact", lambda c: c.email),
    "account.name": _get("account", lambda a: a.name),
    "agent.first_name": _get("agent", lambda a: a.first_name),
    "agent.last_name": _get("agent", lambda a: a.last_name),
    "agent.name": _get("agent", lambda a: a.name),
    "agent.email": _get("agent", lambda a: a.email),
    "department.name": _get("department", lambda d: d.name),
}


def unknown_placeholders(text: str) -> list[str]:
    """The placeholders of a text that are not in PLACEHOLDERS."""
    return sorted({m for m in _PLACEHOLDER.findall(text or "") if m not in PLACEHOLDERS})


def check(errors: Errors, field: str, text: str | None) -> None:
    """Record an error for each placeholder that does not exist."""
    bad = unknown_placeholders(text or "")
    if bad:
        errors.add(
            field,
            f"unknown placeholder(s): {', '.join('{{' + b + '}}' for b in bad)}; known: "
            f"{', '.join(sorted(PLACEHOLDERS))}",
            ErrorCode.INVALID,
        )


def render(text: str, scope: Scope, *, escape_html: bool = False, one_line: bool = False) -> str:
    """Replace the placeholders; values are escaped for HTML or kept to one line as asked."""

    def sub(match: re.Match[str]) -> str:
        read = PLACEHOLDERS.get(match.group(1))
        if read is None:
            raise ValidationFailed.one(
                None, f"unknown placeholder {{{{{match.group(1)}}}}}", ErrorCode.INVALID
            )
        value = read(scope)
        if one_line:
            value = " ".join(value.split())
        return html.escape(value) if escape_html else value

    return _PLACEHOLDER.sub(sub, text or "")


async def scope_for(ticket: models.Ticket, agent_id: int) -> Scope:
    """The rows a template sees for a reply on this ticket."""
    await ticket.fetch_related("contact", "account", "department")
    agent = await models.Agent.get(id=agent_id)
    return Scope(ticket, ticket.contact, ticket.account, agent, ticket.department)


# -- templates and folders -------------------------------------------------------------------


def visible_templates(actor: Actor) -> QuerySet[models.EmailTemplate]:
    """Mine, and the shared ones of my departments (administrators: every shared one)."""
    shared = Q(owner_id__isnull=True)
    if not actor.is_admin:
        shared &= Q(department_id__in=list(actor.department_ids))
    return models.EmailTemplate.filter(Q(owner_id=actor.agent_id) | shared)


def visible_folders(actor: Actor) -> QuerySet[models.TemplateFolder]:
    """My folders and the shared ones of my departments."""
    shared = Q(owner_id__isnull=True)
    if not actor.is_admin:
        shared &= Q(department_id__in=list(actor.department_ids))
    return models.TemplateFolder.filter(Q(owner_id=actor.agent_id) | shared)


def _owner(errors: Errors, actor: Actor, department_id: int | None) -> dict[str, Any]:
    """Personal (no department) or shared with a department the actor works in."""
    if department_id is None:
        return {"owner_id": actor.agent_id, "department_id": None}
    if not can_see_department(actor, department_id):
        errors.add("departmentId", "no such department", ErrorCode.NOT_FOUND)
    return {"owner_id": None, "department_id": department_id}


async def create_folder(
    actor: Actor, *, name: str, department_id: int | None = None
) -> models.TemplateFolder:
    """A folder: personal, or shared with one of the actor's departments."""
    errors = Errors()
    clean = validation.text(errors, "name", name, max_length=NAME_MAX, required=True)
    owner = _owner(errors, actor, department_id)
    errors.raise_if_any()
    async with uow.transaction():
        row = await models.TemplateFolder.create(name=clean, **owner)
        await _record(actor, "template_folder.created", "TemplateFolder", row.id, department_id)
    return row


async def _record(
    actor: Actor, kind: str, subject_type: str, subject_id: int, department_id: int | None
) -> None:
    await activity.record(
        actor=actor,
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id,
        department_id=department_id,
    )


async def save_template(
    actor: Actor,
    *,
    template_id: int | None = None,
    name: str,
    subject: str = "",
    body_text: str = "",
    body_html: str = "",
    folder_id: int | None = None,
    department_id: int | None = None,
    from_address_id: int | None = None,
) -> models.EmailTemplate:
    """Create or change an email template; unknown placeholders are refused."""
    errors = Errors()
    clean_name = validation.text(errors, "name", name, max_length=NAME_MAX, required=True)
    clean_subject = validation.text(errors, "subject", subject, max_length=SUBJECT_MAX)
    text = validation.text(errors, "bodyText", body_text, max_length=BODY_MAX, multiline=True)
    markup = validation.text(errors, "bodyHtml", body_html, max_length=BODY_MAX, multiline=True)
    check(errors, "subject", clean_subject)
    check(errors, "bodyText", text)
    check(errors, "bodyHtml", markup)
    owner = _owner(errors, actor, department_id)
    if folder_id is not None and not await visible_folders(actor).filter(id=folder_id).exists():
        errors.add("folderId", "no such folder", ErrorCode.NOT_FOUND)
    if from_address_id is not None:
        addr = await models.FromAddress.filter(id=from_address_id).first()
        if addr is None or not can_see_department(actor, addr.department_id):  # type: ignore[attr-defined]
            errors.add("fromAddressId", "no such From address", ErrorCode.NOT_FOUND)
    existing = None
    if template_id is not None:
        existing = await visible_templates(actor).filter(id=template_id).first()
        if existing is None:
            errors.add("id", "no such template", ErrorCode.NOT_FOUND)
    errors.raise_if_any()
    values = {
        "name": clean_name,
        "subject": clean_subject or "",
        "body_text": text or "",
        "body_html": markup or "",
        "folder_id": folder_id,
        "from_address_id": from_address_id,
        **owner,
    }
    async with uow.transaction():
        if existing is None:
            row = await models.EmailTemplate.create(**values)
            kind = "email_template.created"
        else:
            await models.EmailTemplate.filter(id=existing.id).update(**values)
            row = await models.EmailTemplate.get(id=existing.id)
            kind = "email_template.updated"
        await _record(actor, kind, "EmailTemplate", row.id, department_id)
    return row


async def delete_template(actor: Actor, *, template_id: int) -> models.EmailTemplate:
    """Delete one of my templates, or a shared one of my department."""
    row = await visible_templates(actor).filter(id=template_id).first()
    if row is None:
        raise ValidationFailed.one("id", "no such template", ErrorCode.NOT_FOUND)
    async with uow.transaction():
        await _record(
            actor,
            "email_template.deleted",
            "EmailTemplate",
            row.id,
            row.department_id,  # type: ignore[attr-defined]
        )
        await row.delete()
    return row


async def get_template(
    actor: Actor, *, template_id: int, field: str = "templateId"
) -> models.EmailTemplate:
    """A template the actor may use, else a NOT_FOUND field error."""
    row = await visible_templates(actor).filter(id=template_id).first()
    if row is None:
        raise ValidationFailed.one(field, "no such template", ErrorCode.NOT_FOUND)
    return row


# -- ticket templates ------------------------------------------------------------------------


def visible_ticket_templates(actor: Actor) -> QuerySet[models.TicketTemplate]:
    """The ticket templates of the actor's departments."""
    qs = models.TicketTemplate.all()
    return qs if actor.is_admin else qs.filter(department_id__in=list(actor.department_ids))


async def create_ticket_template(
    actor: Actor,
    *,
    department_id: int,
    name: str,
    subject: str = "",
    description: str = "",
    priority: int | None = None,
) -> models.TicketTemplate:
    """Values that prefill `ticketCreate` in a department (TIC-10)."""
    errors = Errors()
    clean_name = validation.text(errors, "name", name, max_length=NAME_MAX, required=True)
    clean_subject = validation.text(errors, "subject", subject, max_length=255)
    text = validation.text(errors, "description", description, max_length=BODY_MAX, multiline=True)
    if not can_see_department(actor, department_id):
        errors.add("departmentId", "no such department", ErrorCode.NOT_FOUND)
    errors.raise_if_any()
    async with uow.transaction():
        row = await models.TicketTemplate.create(
            department_id=department_id,
            name=clean_name,
            subject=clean_subject or "",
            description=text or "",
            priority=priority,
            created_by_id=actor.agent_id,
        )
        await _record(actor, "ticket_template.created", "TicketTemplate", row.id, department_id)
    return row


# -- follow-up to every ticket with a tag (TIC-6) --------------------------------------------


async def follow_up_tag(
    actor: Actor, *, settings: Settings, tag: str, template_id: int, limit: int = 500
) -> list[int]:
    """Reply with a template to every ticket with the tag that the actor may see; returns the
    ids of the tickets answered (each reply is its own thread and queued email)."""
    from deskql.services import replies

    template = await get_template(actor, template_id=template_id)
    tickets = (
        await visible_tickets(actor)
        .filter(tag_links__tag__name=tag.strip().lower(), is_spam=False)
        .distinct()
        .order_by("id")
        .limit(limit)
    )
    done = []
    for ticket in tickets:
        await replies.send_reply(
            actor, settings=settings, ticket_id=ticket.id, template_id=template.id
        )
        done.append(ticket.id)
    return done
