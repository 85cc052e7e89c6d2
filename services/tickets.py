"""Tickets: create, update with optimistic concurrency, delete, tags and listing (TIC-1, TIC-6)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import F, Q, Subquery
from tortoise.queryset import QuerySet

from deskql import models
from deskql.models.enums import Channel, TicketPriority, TicketStatus
from deskql.services import activity, customers, notifications, records, uow, validation
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, FieldError, ValidationFailed
from deskql.services.policies import can_see_department, can_view_ticket, visible_tickets

MAX_TAGS_PER_TICKET = 10
MAX_TAG_LENGTH = 50
_TAG = re.compile(r"^[a-z0-9]+$")
SUBJECT_MAX = 255
DESCRIPTION_MAX = 100_000
COMMENT_MAX = 100_000

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


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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


async def get_ticket(
    actor: Actor, *, ticket_id: int | None = None, number: int | None = None
) -> models.Ticket | None:
    """The ticket by id or number, or None when it does not exist or the actor may not see it."""
    qs = visible_tickets(actor)
    if ticket_id is not None:
        qs = qs.filter(id=ticket_id)
    elif number is not None:
        qs = qs.filter(number=number)
    else:
        return None
    return await qs.first()


def merged_error(ticket: models.Ticket, field_name: str | None) -> FieldError | None:
    """The refusal for a change to a ticket merged into another one (TIC-5), or None."""
    if ticket.merged_into_id is None:  # type: ignore[attr-defined]
        return None
    return FieldError(
        field_name,
        f"ticket #{ticket.number} was merged into another ticket (see mergedInto); "
        "change that one instead",
        ErrorCode.MERGED,
    )


def ensure_not_merged(ticket: models.Ticket, field_name: str | None) -> None:
    """Refuse a change to a merged ticket: it stays closed, its work goes on in the target."""
    error = merged_error(ticket, field_name)
    if error is not None:
        raise ValidationFailed([error])


async def _require_ticket(
    actor: Actor, ticket_id: int, field_name: str = "id", *, writable: bool = True
) -> models.Ticket:
    ticket = await get_ticket(actor, ticket_id=ticket_id)
    if ticket is None:
        raise ValidationFailed.one(field_name, "no such ticket", ErrorCode.NOT_FOUND)
    if writable:
        ensure_not_merged(ticket, field_name)
    return ticket


DEPARTMENTS_MEMO = "tickets.departments"


async def _department_exists(department_id: int) -> bool:
    """Whether the department exists; a yes is kept for the rest of the transaction (one read
    for a group of inbound tickets), until `forget_departments`."""
    memo = uow.memo()
    seen: set[int] = memo.setdefault(DEPARTMENTS_MEMO, set()) if memo is not None else set()
    if department_id in seen:
        return True
    if not await models.Department.exists(id=department_id):
        return False
    seen.add(department_id)
    return True


def forget_departments() -> None:
    """Drop the departments seen in this transaction (after deleting one in it)."""
    memo = uow.memo()
    if memo is not None:
        memo.pop(DEPARTMENTS_MEMO, None)


async def _check_refs(actor: Actor | None, errors: Errors, values: dict[str, Any]) -> None:
    """Check the records a ticket points to exist, and that the assignee fits the department."""
    dept_id = values.get("department_id")
    if "department_id" in values:
        if dept_id is None:
            errors.add("departmentId", "departmentId is required", ErrorCode.REQUIRED)
        elif (
            actor is not None and not can_see_department(actor, dept_id)
        ) or not await _department_exists(dept_id):
            errors.add("departmentId", "no such department", ErrorCode.NOT_FOUND)
    for key, model, label in (
        ("contact_id", models.Contact, "contactId"),
        ("account_id", models.Account, "accountId"),
        ("product_id", models.Product, "productId"),
    ):
        if values.get(key) is not None and not await model.exists(id=values[key]):
            errors.add(label, f"no such {model.__name__.lower()}", ErrorCode.NOT_FOUND)
    agent_id = values.get("assignee_agent_id")
    team_id = values.get("assignee_team_id")
    if agent_id is not None and team_id is not None:
        errors.add("assigneeId", "assign to an agent or a team, not both", ErrorCode.INVALID)
        return
    if dept_id is not None and (agent_id is not None or team_id is not None):
        assignee = await load_assignee(agent_id=agent_id, team_id=team_id)
        check_assignee(errors, assignee, department_id=dept_id)


@dataclass(frozen=True)
class Assignee:
    """An agent or team tickets may be assigned to, read once for any number of tickets.

    `agent`/`team` are None when the id given does not exist; both ids None means unassign.
    """

    agent_id: int | None = None
    team_id: int | None = None
    agent: models.Agent | None = None
    agent_department_ids: frozenset[int] = frozenset()
    team: models.Team | None = None

    @property
    def values(self) -> dict[str, int | None]:
        """The ticket columns this assignee sets."""
        return {"assignee_agent_id": self.agent_id, "assignee_team_id": self.team_id}


async def load_assignee(*, agent_id: int | None, team_id: int | None) -> Assignee:
    """Read the agent (with their departments) or the team a ticket is to be assigned to."""
    agent = None
    departments: frozenset[int] = frozenset()
    team = None
    if agent_id is not None:
        agent = await models.Agent.filter(id=agent_id).first()
        if agent is not None:
            departments = frozenset(
                await models.DepartmentMembership.filter(agent_id=agent_id).values_list(
                    "department_id", flat=True
                )
            )
    if team_id is not None:
        team = await models.Team.filter(id=team_id).first()
    return Assignee(agent_id, team_id, agent, departments, team)


def check_assignee(
    errors: Errors, assignee: Assignee, *, department_id: int, field_name: str = "assigneeId"
) -> None:
    """TIC-2: an assignee is an active agent member of the department, or a team of it."""
    if assignee.agent_id is not None and assignee.team_id is not None:
        errors.add(field_name, "assign to an agent or a team, not both", ErrorCode.INVALID)
        return
    if assignee.agent_id is not None:
        agent = assignee.agent
        if agent is None:
            errors.add(field_name, "no such agent", ErrorCode.NOT_FOUND)
        elif not agent.is_active:
            errors.add(field_name, "the agent is deactivated", ErrorCode.INVALID)
        elif department_id not in assignee.agent_department_ids:
            errors.add(
                field_name,
                "the agent is not a member of the ticket's department",
                ErrorCode.INVALID,
            )
    if assignee.team_id is not None:
        team = assignee.team
        if team is None:
            errors.add(field_name, "no such team", ErrorCode.NOT_FOUND)
        elif team.department_id != department_id:  # type: ignore[attr-defined]
            errors.add(field_name, "the team belongs to another department", ErrorCode.INVALID)


async def _ticket_template(
    actor: Actor | None, errors: Errors, template_id: int, department_id: int
) -> models.TicketTemplate | None:
    """The ticket template to prefill from: one the actor may see, of the ticket's department."""
    qs = models.TicketTemplate.filter(id=template_id)
    if actor is not None and not actor.is_admin:
        qs = qs.filter(department_id__in=list(actor.department_ids))
    template = await qs.first()
    if template is None:
        errors.add("ticketTemplateId", "no such ticket template", ErrorCode.NOT_FOUND)
        return None
    if template.department_id != department_id:  # type: ignore[attr-defined]
        errors.add(
            "ticketTemplateId",
            "the ticket template belongs to another department",
            ErrorCode.INVALID,
        )
        return None
    return template


async def check_ticket_refs(actor: Actor | None, errors: Errors, values: dict[str, Any]) -> None:
    """The reference and assignee rules of ticketCreate/ticketUpdate, for other services
    (macros) that set the same fields: one rule set checks assignees."""
    await _check_refs(actor, errors, values)


NUMBERS_MEMO = "tickets.numbers"


@dataclass
class _Numbers:
    """Ticket numbers a transaction takes for several tickets at once (`take_numbers_ahead`)."""

    wanted: int
    next: int = 1
    last: int = 0  # next > last: none left


def take_numbers_ahead(count: int) -> None:
    """Let the first ticket this transaction creates take `count` numbers with one statement,
    for the tickets after it (a group of inbound messages); `give_back_numbers` before the
    commit returns those not used. Only in a transaction without savepoints (uow): a savepoint
    rolled back would undo the statement but not what is remembered of it."""
    memo = uow.memo()
    if memo is not None and uow.without_savepoints() and count > 1:
        memo[NUMBERS_MEMO] = _Numbers(count)


async def give_back_numbers() -> None:
    """Return the numbers taken ahead that no ticket used. The organisation row stays locked
    from the statement that took them to the commit, so nobody took a number since and the
    sequence ends at the last number used, as if each ticket had taken its own."""
    memo = uow.memo()
    block = memo.pop(NUMBERS_MEMO, None) if memo is not None else None
    if block is not None and block.next <= block.last:
        await _advance_numbers(-(block.last - block.next + 1))


async def _advance_numbers(by: int) -> int:
    # The UPDATE takes the organisation row's lock until commit, so numbers never repeat; its
    # RETURNING reads the new value in the same statement (PostgreSQL, SQLite >= 3.35).
    meta = models.Organisation._meta
    rows = await meta.db.execute_query_dict(
        f'UPDATE "{meta.db_table}" SET "ticket_seq" = "ticket_seq" + {int(by)} '
        'RETURNING "ticket_seq"'
    )
    if not rows:
        raise RuntimeError("no organisation: run `deskql migrate` to create it")
    return int(rows[0]["ticket_seq"])


async def _next_number() -> int:
    memo = uow.memo()
    block: _Numbers | None = memo.get(NUMBERS_MEMO) if memo is not None else None
    if block is None:
        return await _advance_numbers(1)
    if block.next > block.last and block.wanted:  # the first ticket: take them all
        block.last = await _advance_numbers(block.wanted)
        block.next, block.wanted = block.last - block.wanted + 1, 0
    if block.next > block.last:  # more tickets than announced: one at a time again
        return await _advance_numbers(1)
    block.next += 1
    return block.next - 1


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


async def add_comment(
    actor: Actor, *, ticket_id: int, body: str, is_public: bool = False
) -> models.Comment:
    """Add an agent's comment to a ticket, public or private (TIC-3)."""
    from deskql.services import comments

    return await comments.add_comment(
        actor,
        type_name="Ticket",
        record_id=ticket_id,
        body=body,
        is_public=is_public,
        field="ticketId",
    )


async def _load_for_comment(actor: Actor, ticket_id: int, field_name: str) -> models.Ticket:
    return await _require_ticket(actor, ticket_id, field_name)


async def _ticket_activity(
    actor: Actor, kind: str, ticket: models.Ticket, changes: dict[str, Any], owners: Any
) -> models.Activity:
    return await activity.record_ticket(actor=actor, kind=kind, ticket=ticket, changes=changes)


def _ticket_key(pk: int) -> dict[str, Any]:
    return {"ticket_id": pk}


# Tickets take comments and followers by their own column (services.records).
records.register(
    records.RecordType(
        name="Ticket",
        kind="ticket",
        field="ticketId",
        load=_load_for_comment,
        visible=visible_tickets,
        record_activity=_ticket_activity,
        comment_key=_ticket_key,
        follow_key=_ticket_key,
    )
)


@dataclass
class TicketFilter:
    """Criteria for ticket lists; every given criterion must hold."""

    statuses: list[TicketStatus] = field(default_factory=list)
    priorities: list[TicketPriority] = field(default_factory=list)
    department_ids: list[int] = field(default_factory=list)
    assignee_agent_ids: list[int] = field(default_factory=list)
    assignee_team_ids: list[int] = field(default_factory=list)
    unassigned: bool | None = None
    contact_id: int | None = None
    account_id: int | None = None
    product_id: int | None = None
    tag: str | None = None
    overdue: bool | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    text: str | None = None
    is_spam: bool | None = False
    channels: list[Channel] = field(default_factory=list)


SORT_FIELDS = {
    "NUMBER": "number",
    "CREATED_AT": "created_at",
    "UPDATED_AT": "updated_at",
    "DUE_AT": "due_at",
    "PRIORITY": "priority",
    "STATUS": "status",
    "SUBJECT": "subject",
}


def list_tickets(
    actor: Actor, flt: TicketFilter | None = None, *, sort: str = "CREATED_AT", desc: bool = True
) -> QuerySet[models.Ticket]:
    """The actor's visible tickets that match the filter, sorted (ties broken by id)."""
    column = SORT_FIELDS[sort]
    prefix = "-" if desc else ""
    return filter_tickets(visible_tickets(actor), flt).order_by(f"{prefix}{column}", f"{prefix}id")


def filter_tickets(
    qs: QuerySet[models.Ticket], flt: TicketFilter | None
) -> QuerySet[models.Ticket]:
    """Narrow a ticket query to the filter's criteria (the one filter implementation)."""
    f = flt or TicketFilter()
    if f.statuses:
        qs = qs.filter(status__in=f.statuses)
    if f.priorities:
        qs = qs.filter(priority__in=f.priorities)
    if f.channels:
        qs = qs.filter(channel__in=f.channels)
    if f.department_ids:
        qs = qs.filter(department_id__in=f.department_ids)
    if f.assignee_agent_ids or f.assignee_team_ids:
        # Any of the given assignees: an agent OR a team match.
        qs = qs.filter(
            Q(assignee_agent_id__in=f.assignee_agent_ids or [0])
            | Q(assignee_team_id__in=f.assignee_team_ids or [0])
        )
    if f.unassigned is True:
        qs = qs.filter(assignee_agent_id__isnull=True, assignee_team_id__isnull=True)
    elif f.unassigned is False:
        qs = qs.filter(Q(assignee_agent_id__isnull=False) | Q(assignee_team_id__isnull=False))
    if f.contact_id is not None:
        qs = qs.filter(contact_id=f.contact_id)
    if f.account_id is not None:
        qs = qs.filter(account_id=f.account_id)
    if f.product_id is not None:
        qs = qs.filter(product_id=f.product_id)
    if f.tag:
        tagged = models.TicketTag.filter(tag__name=f.tag.strip().lower()).values("ticket_id")
        qs = qs.filter(id__in=Subquery(tagged))
    now = datetime.now(UTC)
    if f.overdue is True:
        qs = qs.filter(due_at__lt=now).exclude(status=TicketStatus.CLOSED)
    elif f.overdue is False:
        qs = qs.filter(Q(due_at__isnull=True) | Q(due_at__gte=now) | Q(status=TicketStatus.CLOSED))
    if f.created_after is not None:
        qs = qs.filter(created_at__gte=_utc(f.created_after))
    if f.created_before is not None:
        qs = qs.filter(created_at__lt=_utc(f.created_before))
    if f.text:
        qs = qs.filter(subject__icontains=f.text.strip())
    if f.is_spam is not None:
        qs = qs.filter(is_spam=f.is_spam)
    return qs


def is_visible(actor: Actor, ticket: models.Ticket) -> bool:
    """Whether the actor may see this ticket (re-exported for callers holding a row)."""
    return can_view_ticket(actor, ticket)
