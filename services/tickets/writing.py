"""Creating, updating and deleting tickets (`create_ticket`: the one way to create one)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import F

from deskql import models
from deskql.models.enums import Channel, TicketPriority, TicketStatus
from deskql.services import activity, customers, notifications, uow, validation
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.tickets.common import DESCRIPTION_MAX, SUBJECT_MAX, _require_ticket, _utc
from deskql.services.tickets.numbers import _next_number
from deskql.services.tickets.refs import _check_refs, _ticket_template
from deskql.services.tickets.tags import MAX_TAGS_PER_TICKET, _attach_tags, _clean_tags

# Fields ticketUpdate may change, with the attribute they set on the row.
UPDATABLE = (
    "subject",
    "description",
    "status",
    "priority",
    "channel",
    "department_id",
    "contact_id",
    "account_id",
    "product_id",
    "assignee_agent_id",
    "assignee_team_id",
    "due_at",
)


async def create_ticket(
    actor: Actor | None,
    *,
    subject: str | None,
    department_id: int,
    description: str | None = None,
    contact_id: int | None = None,
    contact_email: str | None = None,
    contact_name: str | None = None,
    account_id: int | None = None,
    product_id: int | None = None,
    status: TicketStatus = TicketStatus.OPEN,
    priority: TicketPriority | None = None,
    channel: Channel = Channel.WEB,
    due_at: datetime | None = None,
    assignee_agent_id: int | None = None,
    assignee_team_id: int | None = None,
    tags: list[str] | None = None,
    is_spam: bool = False,
    ticket_template_id: int | None = None,
    split_from: models.Ticket | None = None,
) -> models.Ticket:
    """Create a ticket; finds or creates its contact by email when no contact id is given.

    `actor=None` is the system (the email channel): no department visibility check applies.
    A ticket template (TIC-10) prefills the subject, description and priority that are not
    given (None); a value given explicitly wins. Without either, priority is MEDIUM.
    `split_from` is the ticket a split (TIC-9) takes the new ticket out of: it is linked and
    named in the `ticket.created` Activity.
    """
    errors = Errors()
    template = None
    if ticket_template_id is not None:
        template = await _ticket_template(actor, errors, ticket_template_id, department_id)
        if template is not None:
            subject = subject if subject is not None else template.subject
            description = description if description is not None else template.description
            if priority is None and template.priority is not None:
                priority = TicketPriority(template.priority)
    if priority is None:
        priority = TicketPriority.MEDIUM
    if subject is None:
        subject = ""
    if description is None:
        description = ""
    clean_subject = validation.text(
        errors, "subject", subject, max_length=SUBJECT_MAX, required=True
    )
    clean_description = validation.text(
        errors, "description", description, max_length=DESCRIPTION_MAX, multiline=True
    )
    if contact_id is None and not contact_email:
        errors.add("contactId", "give contactId or contactEmail", ErrorCode.REQUIRED)
    email = validation.email(errors, "contactEmail", contact_email) if contact_id is None else None
    tag_names = _clean_tags(errors, tags or [])
    if len(tag_names) > MAX_TAGS_PER_TICKET:
        errors.add("tags", "a ticket has at most 10 tags", ErrorCode.LIMIT_EXCEEDED)
    values: dict[str, Any] = {
        "department_id": department_id,
        "contact_id": contact_id,
        "account_id": account_id,
        "product_id": product_id,
        "assignee_agent_id": assignee_agent_id,
        "assignee_team_id": assignee_team_id,
    }
    await _check_refs(actor, errors, values)
    errors.raise_if_any()

    async with uow.transaction():
        if contact_id is None:
            assert email is not None
            contact = await customers.find_or_create_contact(actor, email=email, name=contact_name)
            values["contact_id"] = contact.id
            if account_id is None:
                values["account_id"] = contact.account_id  # type: ignore[attr-defined]
        elif account_id is None:
            values["account_id"] = (
                await models.Contact.filter(id=contact_id).values_list("account_id", flat=True)
            )[0]
        ticket = await models.Ticket.create(
            number=await _next_number(),
            subject=clean_subject,
            description=clean_description or "",
            status=status,
            priority=priority,
            channel=channel,
            due_at=_utc(due_at),
            closed_at=datetime.now(UTC) if status is TicketStatus.CLOSED else None,
            is_spam=is_spam,
            split_from_id=split_from.id if split_from is not None else None,
            **values,
        )
        notifications.no_followers_yet(ticket_id=ticket.id)
        await activity.record_ticket(
            actor=actor,
            kind="ticket.created",
            ticket=ticket,
            changes={"number": ticket.number, "subject": ticket.subject}
            | ({"isSpam": True} if is_spam else {})
            | ({"ticketTemplate": template.name} if template is not None else {})
            | ({"splitFrom": split_from.number} if split_from is not None else {}),
        )
        if tag_names:
            await _attach_tags(actor, ticket, tag_names)
    return ticket


async def update_ticket(
    actor: Actor, *, ticket_id: int, version: int, changes: dict[str, Any]
) -> models.Ticket:
    """Change the given fields if the ticket is still at `version`; else a CONFLICT error."""
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    ticket = await _require_ticket(actor, ticket_id)
    if ticket.version != version:
        raise ValidationFailed.one(
            "version",
            f"the ticket was changed by someone else (now at version {ticket.version}); "
            "reload it and apply your change again",
            ErrorCode.CONFLICT,
        )
    errors = Errors()
    values = dict(changes)
    if "subject" in values:
        values["subject"] = validation.text(
            errors, "subject", values["subject"], max_length=SUBJECT_MAX, required=True
        )
    if "description" in values:
        values["description"] = (
            validation.text(
                errors,
                "description",
                values["description"],
                max_length=DESCRIPTION_MAX,
                multiline=True,
            )
            or ""
        )
    for key in ("status", "priority", "channel"):
        if key in values and values[key] is None:
            errors.add(key, f"{key} cannot be cleared", ErrorCode.REQUIRED)
    if "due_at" in values:
        values["due_at"] = _utc(values["due_at"])
    if "contact_id" in values and values["contact_id"] is None:
        errors.add("contactId", "a ticket needs a contact", ErrorCode.REQUIRED)
    moving = values.get("department_id", ticket.department_id) != ticket.department_id  # type: ignore[attr-defined]
    if moving and not values.keys() & {"assignee_agent_id", "assignee_team_id"}:
        # A ticket moved to another department leaves its assignee behind (unless one is given).
        values["assignee_agent_id"] = None
        values["assignee_team_id"] = None
    # Assignment checks need the department and assignee the ticket will have after the change.
    refs = {key: value for key, value in values.items() if key.endswith("_id")}
    if refs.keys() & {"assignee_agent_id", "assignee_team_id", "department_id"}:
        refs.setdefault("assignee_agent_id", ticket.assignee_agent_id)  # type: ignore[attr-defined]
        refs.setdefault("assignee_team_id", ticket.assignee_team_id)  # type: ignore[attr-defined]
        refs.setdefault("department_id", ticket.department_id)  # type: ignore[attr-defined]
    await _check_refs(actor, errors, refs)
    errors.raise_if_any()

    async with uow.transaction():
        fresh = await apply_changes(actor, ticket=ticket, values=values, version=version)
    return fresh


async def apply_changes(
    actor: Actor, *, ticket: models.Ticket, values: dict[str, Any], version: int
) -> models.Ticket:
    """Write validated changes to a ticket still at `version`, with its `ticket.updated` row.

    The one write path of ticket fields (ticketUpdate, ticketAssign, ticketTake): the Activity
    row it records drives the notifications (ASSIGNED), the assignee's auto-follow and the
    real-time events. Call inside `uow.transaction()`; `ticket` is the row as read before.
    """
    values = dict(values)
    before = {key: getattr(ticket, key) for key in values}
    if values.get("status") is TicketStatus.CLOSED and ticket.status is not TicketStatus.CLOSED:
        values["closed_at"] = datetime.now(UTC)
    elif "status" in values and values["status"] is not TicketStatus.CLOSED:
        values["closed_at"] = None
    values["updated_at"] = datetime.now(UTC)
    count = await models.Ticket.filter(id=ticket.id, version=version).update(
        version=F("version") + 1, **values
    )
    if count == 0:
        raise ValidationFailed.one(
            "version",
            "the ticket was changed by someone else meanwhile; reload it and apply your "
            "change again",
            ErrorCode.CONFLICT,
        )
    fresh = await models.Ticket.get(id=ticket.id)
    changed = activity.diff(before, {key: getattr(fresh, key) for key in before})
    if changed:
        await activity.record_ticket(
            actor=actor, kind="ticket.updated", ticket=fresh, changes=changed
        )
    return fresh


async def delete_ticket(actor: Actor, *, ticket_id: int) -> models.Ticket:
    """Delete a ticket and what hangs off it; its history (Activity rows) is kept."""
    ticket = await _require_ticket(actor, ticket_id, writable=False)
    async with uow.transaction():
        await activity.record_ticket(
            actor=actor,
            kind="ticket.deleted",
            ticket=ticket,
            changes={"number": ticket.number, "subject": ticket.subject},
        )
        await ticket.delete()
    return ticket
