"""Macros (AUT-1): named, ordered lists of typed actions an agent applies to tickets of one
department, and `apply_macro`, which applies one to many tickets.

Applying is set-based so that a run over 1,000 tickets costs a few dozen statements, not
thousands: the tickets are locked and read with their tags in a few queries, every ticket's
changes are planned in memory (a ticket whose plan fails, e.g. over the 10-tag limit, is left
out before anything is written), and the rest is written with grouped UPDATEs and bulk INSERTs,
one `ticket.macro_applied` Activity per ticket. Each ticket is all-or-nothing: when a bulk write
fails, the run falls back to one savepoint per ticket. A macro that sends email goes ticket by
ticket (each in its own savepoint) through the reply path (services.replies), so a ticket's
thread and outbox row commit with its changes or not at all.

Notifications are batched per run: the per-ticket Activity rows are the history and notify
nobody; one `macro.applied` summary Activity per run is fanned out, so an agent who follows
many of the tickets gets one notification for the run (services.notifications.notify_run).
"""

from __future__ import annotations

import copy
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from tortoise.exceptions import BaseORMException, IntegrityError
from tortoise.expressions import F
from tortoise.queryset import QuerySet

from deskql import models
from deskql.models.enums import TicketPriority, TicketStatus
from deskql.realtime import envelopes, topics
from deskql.services import (
    activity,
    from_addresses,
    notifications,
    outbox,
    templates,
    uow,
    validation,
)
from deskql.services import tickets as ticket_rules
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, FieldError, PermissionDenied, ValidationFailed
from deskql.services.policies import can_see_department, visible_tickets
from deskql.services.search import index as search_index
from deskql.settings import Settings

NAME_MAX = 120
DESCRIPTION_MAX = 2_000
MAX_ACTIONS = 25
MAX_TICKETS = 1_000
TASK_TITLE_MAX = 255
APPLIED = "ticket.macro_applied"
RUN = "macro.applied"
_OFFSET = re.compile(r"^\+(\d{1,5})([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# An offset may reach at most ten years ahead.
_MAX_OFFSET = timedelta(days=3660)


class ActionType(StrEnum):
    """What one macro action does."""

    SET_STATUS = "SET_STATUS"
    SET_PRIORITY = "SET_PRIORITY"
    SET_DUE_DATE = "SET_DUE_DATE"
    SET_DEPARTMENT = "SET_DEPARTMENT"
    SET_PRODUCT = "SET_PRODUCT"
    ASSIGN_AGENT = "ASSIGN_AGENT"
    ASSIGN_TEAM = "ASSIGN_TEAM"
    UNASSIGN = "UNASSIGN"
    ADD_TAGS = "ADD_TAGS"
    REMOVE_TAGS = "REMOVE_TAGS"
    ADD_COMMENT = "ADD_COMMENT"
    CREATE_TASK = "CREATE_TASK"
    SEND_EMAIL = "SEND_EMAIL"


# Per type: the fields it needs and those it may have. Anything else given is INVALID.
_REQUIRED: dict[ActionType, tuple[str, ...]] = {
    ActionType.SET_STATUS: ("status",),
    ActionType.SET_PRIORITY: ("priority",),
    ActionType.SET_DUE_DATE: (),
    ActionType.SET_DEPARTMENT: ("department_id",),
    ActionType.SET_PRODUCT: (),
    ActionType.ASSIGN_AGENT: ("agent_id",),
    ActionType.ASSIGN_TEAM: ("team_id",),
    ActionType.UNASSIGN: (),
    ActionType.ADD_TAGS: ("tags",),
    ActionType.REMOVE_TAGS: ("tags",),
    ActionType.ADD_COMMENT: ("body",),
    ActionType.CREATE_TASK: ("title",),
    ActionType.SEND_EMAIL: ("template_id",),
}
_OPTIONAL: dict[ActionType, tuple[str, ...]] = {
    ActionType.SET_DUE_DATE: ("due_offset",),
    ActionType.SET_PRODUCT: ("product_id",),
    ActionType.ADD_COMMENT: ("is_public",),
    ActionType.CREATE_TASK: ("due_offset", "agent_id"),
    ActionType.SEND_EMAIL: ("from_address_id",),
}
_CAMEL = {
    "status": "status",
    "priority": "priority",
    "due_offset": "dueOffset",
    "department_id": "departmentId",
    "product_id": "productId",
    "agent_id": "agentId",
    "team_id": "teamId",
    "tags": "tags",
    "body": "body",
    "is_public": "isPublic",
    "title": "title",
    "template_id": "templateId",
    "from_address_id": "fromAddressId",
}
FIELDS = tuple(_CAMEL)
_ASSIGNING = (ActionType.ASSIGN_AGENT, ActionType.ASSIGN_TEAM, ActionType.UNASSIGN)


def parse_offset(text: str) -> timedelta | None:
    """A due offset such as "+2d", "+4h", "+30m" or "+1w" as a timedelta; None if malformed."""
    match = _OFFSET.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        return None
    delta = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    return delta if delta <= _MAX_OFFSET else None


# -- permissions and reading -----------------------------------------------------------------


async def can_manage(actor: Actor, department_id: int) -> bool:
    """Administrators, or agents granted "manage macros" who work in the department."""
    if actor.is_admin:
        return True
    if department_id not in actor.department_ids:
        return False
    flags = await models.Agent.filter(id=actor.agent_id).values_list("can_manage_macros", flat=True)
    return bool(flags and flags[0])


async def _require_manager(actor: Actor, department_id: int) -> None:
    if not can_see_department(actor, department_id):
        raise ValidationFailed.one("departmentId", "no such department", ErrorCode.NOT_FOUND)
    if not await can_manage(actor, department_id):
        raise PermissionDenied(
            "only administrators and agents granted 'manage macros' in the department may "
            "change its macros"
        )


def list_macros(actor: Actor, *, department_id: int | None = None) -> QuerySet[models.Macro]:
    """The macros of the departments the actor works in (all, for administrators), by name."""
    qs = models.Macro.all()
    if not actor.is_admin:
        qs = qs.filter(department_id__in=list(actor.department_ids))
    if department_id is not None:
        qs = qs.filter(department_id=department_id)
    return qs.order_by("name", "id")


async def get_macro(actor: Actor, *, macro_id: int, field: str = "id") -> models.Macro:
    """A macro of a department the actor works in, else a NOT_FOUND field error."""
    row = await list_macros(actor).filter(id=macro_id).first()
    if row is None:
        raise ValidationFailed.one(field, "no such macro", ErrorCode.NOT_FOUND)
    return row


# -- validating actions ----------------------------------------------------------------------


def _enum_name(errors: Errors, path: str, enum: type, value: Any) -> str | None:
    name = value.name if hasattr(value, "name") else value
    if not isinstance(name, str) or name not in enum.__members__:
        errors.add(
            path, f"{value!r} is not one of {', '.join(enum.__members__)}", ErrorCode.INVALID
        )
        return None
    return name


def _clean_tag_list(errors: Errors, path: str, values: Any) -> list[str]:
    if not isinstance(values, list) or not values:
        errors.add(path, "give at least one tag", ErrorCode.REQUIRED)
        return []
    out: list[str] = []
    for value in values:
        tag = ticket_rules.clean_tag(errors, str(value), path)
        if tag and tag not in out:
            out.append(tag)
    if len(out) > ticket_rules.MAX_TAGS_PER_TICKET:
        errors.add(path, "a ticket has at most 10 tags", ErrorCode.LIMIT_EXCEEDED)
    return out


def _clean_offset(errors: Errors, path: str, value: Any) -> str | None:
    if value is None:
        return None
    if parse_offset(value) is None:
        errors.add(
            path,
            f"{value!r} is not an offset: use + and a number with m, h, d or w, e.g. +2d, "
            "+4h, +30m, +1w (at most ten years)",
            ErrorCode.INVALID,
        )
        return None
    return value.strip()


async def _check_template(errors: Errors, path: str, template_id: int, department_id: int) -> None:
    row = await models.EmailTemplate.filter(
        id=template_id, owner_id__isnull=True, department_id=department_id
    ).first()
    if row is None:
        errors.add(
            path, "no such email template shared with the macro's department", ErrorCode.NOT_FOUND
        )
        return
    bad = sorted(
        {
            name
            for text in (row.subject, row.body_text, row.body_html)
            for name in templates.unknown_placeholders(text)
        }
    )
    if bad:
        errors.add(
            path,
            f"the template uses unknown placeholder(s): {', '.join('{{' + b + '}}' for b in bad)}",
            ErrorCode.INVALID,
        )


async def _check_assignee(
    actor: Actor,
    errors: Errors,
    path: str,
    *,
    department_id: int,
    agent_id: int | None = None,
    team_id: int | None = None,
) -> None:
    """The rules of services.tickets (active member of the department, or its team)."""
    found = Errors()
    await ticket_rules.check_ticket_refs(
        actor,
        found,
        {
            "department_id": department_id,
            "assignee_agent_id": agent_id,
            "assignee_team_id": team_id,
        },
    )
    for item in found.items:
        errors.add(path, item.message, item.code)


async def clean_actions(
    actor: Actor, errors: Errors, actions: list[dict[str, Any]], *, department_id: int
) -> list[dict[str, Any]]:
    """Validate a macro's actions (field paths like `actions.2.dueOffset`); the stored form."""
    if not isinstance(actions, list) or not actions:
        errors.add("actions", "a macro needs at least one action", ErrorCode.REQUIRED)
        return []
    if len(actions) > MAX_ACTIONS:
        errors.add("actions", f"at most {MAX_ACTIONS} actions", ErrorCode.LIMIT_EXCEEDED)
        return []
    # Assignment is checked against the department the tickets end up in.
    final_department = department_id
    for raw in actions:
        if isinstance(raw, dict) and raw.get("type") == ActionType.SET_DEPARTMENT:
            final_department = raw.get("department_id") or final_department
    out: list[dict[str, Any]] = []
    for index, raw in enumerate(actions):
        base = f"actions.{index}"
        try:
            kind = ActionType(raw.get("type"))
        except ValueError:
            errors.add(
                f"{base}.type", f"unknown action type {raw.get('type')!r}", ErrorCode.INVALID
            )
            continue
        given = {k: v for k, v in raw.items() if k != "type" and v is not None}
        allowed = set(_REQUIRED[kind]) | set(_OPTIONAL.get(kind, ()))
        for key in sorted(set(given) - allowed):
            errors.add(
                f"{base}.{_CAMEL.get(key, key)}", f"{kind.value} does not use it", ErrorCode.INVALID
            )
        missing = [k for k in _REQUIRED[kind] if k not in given]
        for key in missing:
            errors.add(f"{base}.{_CAMEL[key]}", f"{kind.value} needs it", ErrorCode.REQUIRED)
        if missing:
            continue
        clean: dict[str, Any] = {"type": kind.value}

        def path(key: str, base: str = base) -> str:
            return f"{base}.{_CAMEL[key]}"

        if kind is ActionType.SET_STATUS:
            clean["status"] = _enum_name(errors, path("status"), TicketStatus, given["status"])
        elif kind is ActionType.SET_PRIORITY:
            clean["priority"] = _enum_name(
                errors, path("priority"), TicketPriority, given["priority"]
            )
        elif kind is ActionType.SET_DUE_DATE:
            clean["due_offset"] = _clean_offset(errors, path("due_offset"), given.get("due_offset"))
        elif kind is ActionType.SET_DEPARTMENT:
            dept = given["department_id"]
            if not can_see_department(actor, dept) or not await models.Department.exists(id=dept):
                errors.add(path("department_id"), "no such department", ErrorCode.NOT_FOUND)
            clean["department_id"] = dept
        elif kind is ActionType.SET_PRODUCT:
            product = given.get("product_id")
            if product is not None and not await models.Product.exists(id=product):
                errors.add(path("product_id"), "no such product", ErrorCode.NOT_FOUND)
            clean["product_id"] = product
        elif kind is ActionType.ASSIGN_AGENT:
            await _check_assignee(
                actor, errors, path("agent_id"), department_id=final_department,
                agent_id=given["agent_id"],
            )  # fmt: skip
            clean["agent_id"] = given["agent_id"]
        elif kind is ActionType.ASSIGN_TEAM:
            await _check_assignee(
                actor, errors, path("team_id"), department_id=final_department,
                team_id=given["team_id"],
            )  # fmt: skip
            clean["team_id"] = given["team_id"]
        elif kind in (ActionType.ADD_TAGS, ActionType.REMOVE_TAGS):
            clean["tags"] = _clean_tag_list(errors, path("tags"), given["tags"])
        elif kind is ActionType.ADD_COMMENT:
            body = validation.text(
                errors,
                path("body"),
                given["body"],
                max_length=ticket_rules.COMMENT_MAX,
                required=True,
                multiline=True,
            )
            templates.check(errors, path("body"), body)
            clean["body"] = body
            clean["is_public"] = bool(given.get("is_public", False))
        elif kind is ActionType.CREATE_TASK:
            clean["title"] = validation.text(
                errors, path("title"), given["title"], max_length=TASK_TITLE_MAX, required=True
            )
            clean["due_offset"] = _clean_offset(errors, path("due_offset"), given.get("due_offset"))
            agent_id = given.get("agent_id")
            if agent_id is not None:
                await _check_assignee(
                    actor, errors, path("agent_id"), department_id=final_department,
                    agent_id=agent_id,
                )  # fmt: skip
            clean["agent_id"] = agent_id
        elif kind is ActionType.SEND_EMAIL:
            await _check_template(
                errors, path("template_id"), given["template_id"], final_department
            )
            clean["template_id"] = given["template_id"]
            sender = given.get("from_address_id")
            if sender is not None:
                row = await models.FromAddress.filter(id=sender).first()
                if row is None or row.department_id != final_department:  # type: ignore[attr-defined]
                    errors.add(
                        path("from_address_id"),
                        "no such From address in the tickets' department",
                        ErrorCode.NOT_FOUND,
                    )
            clean["from_address_id"] = sender
        out.append(clean)
    return out


# -- create, update, delete ------------------------------------------------------------------


def _clean_texts(
    errors: Errors, name: str | None, description: str | None
) -> tuple[str | None, str | None]:
    clean_name = (
        validation.text(errors, "name", name, max_length=NAME_MAX, required=True)
        if name is not None
        else None
    )
    clean_description = (
        validation.text(
            errors, "description", description, max_length=DESCRIPTION_MAX, multiline=True
        )
        if description is not None
        else None
    )
    return clean_name, clean_description


async def _name_taken(department_id: int, name: str, exclude_id: int | None = None) -> bool:
    qs = models.Macro.filter(department_id=department_id, name=name)
    if exclude_id is not None:
        qs = qs.exclude(id=exclude_id)
    return await qs.exists()


def _duplicate(name: str) -> ValidationFailed:
    return ValidationFailed.one(
        "name", f"the department already has a macro named {name!r}", ErrorCode.DUPLICATE
    )


async def create_macro(
    actor: Actor,
    *,
    department_id: int,
    name: str,
    actions: list[dict[str, Any]],
    description: str = "",
) -> models.Macro:
    """Create a macro in a department (administrators, or agents allowed to manage macros)."""
    await _require_manager(actor, department_id)
    errors = Errors()
    clean_name, clean_description = _clean_texts(errors, name, description)
    stored = await clean_actions(actor, errors, actions, department_id=department_id)
    errors.raise_if_any()
    assert clean_name is not None
    if await _name_taken(department_id, clean_name):
        raise _duplicate(clean_name)
    try:
        async with uow.transaction():
            row = await models.Macro.create(
                department_id=department_id,
                name=clean_name,
                description=clean_description or "",
                actions=stored,
                created_by_id=actor.agent_id,
            )
            await _record(actor, "macro.created", row, {"name": row.name, "actions": stored})
    except IntegrityError:
        raise _duplicate(clean_name) from None  # a concurrent create took the name
    return row


async def update_macro(
    actor: Actor,
    *,
    macro_id: int,
    name: str | None = None,
    description: str | None = None,
    actions: list[dict[str, Any]] | None = None,
) -> models.Macro:
    """Change a macro's name, description or actions (None leaves a field as it is)."""
    row = await get_macro(actor, macro_id=macro_id)
    department_id: int = row.department_id  # type: ignore[attr-defined]
    await _require_manager(actor, department_id)
    errors = Errors()
    clean_name, clean_description = _clean_texts(errors, name, description)
    values: dict[str, Any] = {}
    if clean_name is not None:
        values["name"] = clean_name
    if clean_description is not None:
        values["description"] = clean_description
    if actions is not None:
        values["actions"] = await clean_actions(actor, errors, actions, department_id=department_id)
    errors.raise_if_any()
    if clean_name is not None and await _name_taken(department_id, clean_name, row.id):
        raise _duplicate(clean_name)
    before = {key: getattr(row, key) for key in values}
    try:
        async with uow.transaction():
            if values:
                await models.Macro.filter(id=row.id).update(updated_at=datetime.now(UTC), **values)
            fresh = await models.Macro.get(id=row.id)
            changed = activity.diff(before, {key: getattr(fresh, key) for key in values})
            if changed:
                await _record(actor, "macro.updated", fresh, changed)
    except IntegrityError:
        raise _duplicate(clean_name or row.name) from None
    return fresh


async def delete_macro(actor: Actor, *, macro_id: int) -> models.Macro:
    """Delete a macro; its runs stay in the tickets' history."""
    row = await get_macro(actor, macro_id=macro_id)
    await _require_manager(actor, row.department_id)  # type: ignore[attr-defined]
    async with uow.transaction():
        await _record(actor, "macro.deleted", row, {"name": row.name})
        await row.delete()
    return row


async def _record(actor: Actor, kind: str, row: models.Macro, changes: dict[str, Any]) -> None:
    await activity.record(
        actor=actor,
        kind=kind,
        subject_type="Macro",
        subject_id=row.id,
        department_id=row.department_id,  # type: ignore[attr-defined]
        changes=changes,
    )


# -- applying --------------------------------------------------------------------------------


@dataclass
class TicketResult:
    """What a run did (or, in a dry run, would do) to one ticket."""

    ticket_id: int
    ticket: models.Ticket | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)

    @property
    def applied(self) -> bool:
        """True when the ticket got (or would get) the macro's changes."""
        return not self.errors


@dataclass
class ApplyResult:
    """The outcome of `apply_macro`: one result per ticket asked for, in the order asked."""

    macro: models.Macro
    dry_run: bool
    results: list[TicketResult]
    run: models.Activity | None = None


@dataclass
class _Plan:
    """One ticket's changes, computed in memory before anything is written."""

    result: TicketResult
    ticket: models.Ticket
    values: dict[str, Any] = field(default_factory=dict)
    tags_added: list[str] = field(default_factory=list)
    tags_removed: list[str] = field(default_factory=list)
    comments: list[tuple[str, bool]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    emails: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def fail(self, field_name: str | None, message: str, code: ErrorCode) -> None:
        self.result.errors.append(FieldError(field_name, message, code))


@dataclass
class _Context:
    """What every ticket's plan reads, loaded once per run."""

    actor: Actor
    macro: models.Macro
    actions: list[dict[str, Any]]
    now: datetime
    tags: dict[int, set[str]]
    contacts: dict[int, models.Contact]
    accounts: dict[int, models.Account]
    departments: dict[int, models.Department]
    agent: models.Agent | None


def _final_department(department_id: int, actions: list[dict[str, Any]]) -> int:
    for action in actions:
        if action["type"] == ActionType.SET_DEPARTMENT:
            department_id = action["department_id"]
    return department_id


def _ticket_fields(ticket: models.Ticket) -> dict[str, Any]:
    return {
        "status": ticket.status,
        "priority": ticket.priority,
        "due_at": ticket.due_at,
        "department_id": ticket.department_id,  # type: ignore[attr-defined]
        "product_id": ticket.product_id,  # type: ignore[attr-defined]
        "assignee_agent_id": ticket.assignee_agent_id,  # type: ignore[attr-defined]
        "assignee_team_id": ticket.assignee_team_id,  # type: ignore[attr-defined]
    }


def _plan(ctx: _Context, ticket: models.Ticket, result: TicketResult) -> _Plan:
    """Simulate the actions in order on one ticket; record what changes, or why it cannot."""
    plan = _Plan(result=result, ticket=ticket)
    before = _ticket_fields(ticket)
    state = dict(before)
    tags_before = ctx.tags.get(ticket.id, set())
    tags = set(tags_before)
    assigns = any(a["type"] in _ASSIGNING for a in ctx.actions)
    for index, action in enumerate(ctx.actions):
        kind = ActionType(action["type"])
        if kind is ActionType.SET_STATUS:
            state["status"] = TicketStatus[action["status"]]
        elif kind is ActionType.SET_PRIORITY:
            state["priority"] = TicketPriority[action["priority"]]
        elif kind is ActionType.SET_DUE_DATE:
            offset = action.get("due_offset")
            state["due_at"] = ctx.now + parse_offset(offset) if offset else None  # type: ignore[operator]
        elif kind is ActionType.SET_DEPARTMENT:
            state["department_id"] = action["department_id"]
            if not assigns and action["department_id"] != before["department_id"]:
                # As in ticketUpdate: a moved ticket leaves its assignee behind.
                state["assignee_agent_id"] = state["assignee_team_id"] = None
        elif kind is ActionType.SET_PRODUCT:
            state["product_id"] = action.get("product_id")
        elif kind is ActionType.ASSIGN_AGENT:
            state["assignee_agent_id"], state["assignee_team_id"] = action["agent_id"], None
        elif kind is ActionType.ASSIGN_TEAM:
            state["assignee_agent_id"], state["assignee_team_id"] = None, action["team_id"]
        elif kind is ActionType.UNASSIGN:
            state["assignee_agent_id"] = state["assignee_team_id"] = None
        elif kind is ActionType.ADD_TAGS:
            tags |= set(action["tags"])
            if len(tags) > ticket_rules.MAX_TAGS_PER_TICKET:
                plan.fail(
                    f"actions.{index}.tags",
                    f"a ticket has at most {ticket_rules.MAX_TAGS_PER_TICKET} tags; ticket "
                    f"#{ticket.number} has {len(tags_before)} and would have {len(tags)}",
                    ErrorCode.LIMIT_EXCEEDED,
                )
                return plan
        elif kind is ActionType.REMOVE_TAGS:
            tags -= set(action["tags"])
        elif kind is ActionType.ADD_COMMENT:
            plan.comments.append((action["body"], bool(action.get("is_public"))))
        elif kind is ActionType.CREATE_TASK:
            offset = action.get("due_offset")
            plan.tasks.append(
                {
                    "title": action["title"],
                    "due_at": ctx.now + parse_offset(offset) if offset else None,  # type: ignore[operator]
                    "assignee_id": action.get("agent_id"),
                }
            )
        elif kind is ActionType.SEND_EMAIL:
            contact = ctx.contacts.get(ticket.contact_id)  # type: ignore[attr-defined]
            if contact is None or not contact.email:
                plan.fail(
                    f"actions.{index}.to",
                    f"ticket #{ticket.number}'s contact has no email address",
                    ErrorCode.REQUIRED,
                )
                return plan
            plan.emails.append((index, action))
    plan.values = {key: value for key, value in state.items() if before[key] != value}
    if "status" in plan.values:
        closing = state["status"] is TicketStatus.CLOSED
        plan.values["closed_at"] = ctx.now if closing else None
    plan.tags_added = sorted(tags - tags_before)
    plan.tags_removed = sorted(tags_before - tags)
    # Comment placeholders see the ticket as the macro leaves it.
    if plan.comments:
        after = copy.copy(ticket)
        for key, value in plan.values.items():
            setattr(after, key, value)
        scope = templates.Scope(
            ticket=after,
            contact=ctx.contacts.get(ticket.contact_id),  # type: ignore[attr-defined]
            account=ctx.accounts.get(ticket.account_id),  # type: ignore[attr-defined]
            agent=ctx.agent,
            department=ctx.departments.get(state["department_id"]),
        )
        plan.comments = [(templates.render(body, scope), public) for body, public in plan.comments]
    changes: dict[str, Any] = {"macroId": ctx.macro.id, "macro": ctx.macro.name}
    changes.update(
        activity.diff(
            {k: before[k] for k in plan.values if k in before},
            {k: v for k, v in plan.values.items() if k in before},
        )
    )
    if plan.tags_added or plan.tags_removed:
        changes["tags"] = {"added": plan.tags_added, "removed": plan.tags_removed}
    if plan.comments:
        changes["comments"] = [{"isPublic": public} for _, public in plan.comments]
    if plan.tasks:
        changes["tasks"] = [task["title"] for task in plan.tasks]
    if plan.emails:
        changes["emails"] = [{"templateId": a["template_id"]} for _, a in plan.emails]
    result.changes = changes
    return plan


async def _check_sending(
    actor: Actor, errors: Errors, actions: list[dict[str, Any]], department_id: int
) -> None:
    """Refusals of the send-email actions that hold for every ticket of a run: a template the
    actor may not use, a From address that is disabled or not verified yet."""
    for index, action in enumerate(actions):
        if action["type"] != ActionType.SEND_EMAIL:
            continue
        try:
            await templates.get_template(
                actor, template_id=action["template_id"], field=f"actions.{index}.templateId"
            )
            await from_addresses.sender_for(
                actor,
                from_address_id=action.get("from_address_id"),
                department_id=department_id,
                field=f"actions.{index}.fromAddressId",
            )
        except ValidationFailed as exc:
            errors.items.extend(exc.errors)


async def _load(
    actor: Actor, macro: models.Macro, actions: list[dict[str, Any]], tickets: list[models.Ticket]
) -> _Context:
    ids = [t.id for t in tickets]
    tags: dict[int, set[str]] = defaultdict(set)
    if any(a["type"] in (ActionType.ADD_TAGS, ActionType.REMOVE_TAGS) for a in actions):
        for ticket_id, name in await models.TicketTag.filter(ticket_id__in=ids).values_list(
            "ticket_id", "tag__name"
        ):
            tags[ticket_id].add(name)
    texts = " ".join(a.get("body") or "" for a in actions)
    sends = any(a["type"] == ActionType.SEND_EMAIL for a in actions)
    contacts: dict[int, models.Contact] = {}
    accounts: dict[int, models.Account] = {}
    departments: dict[int, models.Department] = {}
    agent = None
    if sends or "contact." in texts:
        wanted = {t.contact_id for t in tickets if t.contact_id}  # type: ignore[attr-defined]
        contacts = {c.id: c for c in await models.Contact.filter(id__in=list(wanted))}
    if "account." in texts:
        wanted = {t.account_id for t in tickets if t.account_id}  # type: ignore[attr-defined]
        accounts = {a.id: a for a in await models.Account.filter(id__in=list(wanted))}
    if "department." in texts:
        departments = {d.id: d for d in await models.Department.all()}
    if "agent." in texts:
        agent = await models.Agent.filter(id=actor.agent_id).first()
    return _Context(
        actor=actor,
        macro=macro,
        actions=actions,
        now=datetime.now(UTC),
        tags=tags,
        contacts=contacts,
        accounts=accounts,
        departments=departments,
        agent=agent,
    )


async def _write(actor: Actor, plans: list[_Plan], now: datetime) -> None:
    """The plans' field changes, tags, comments and tasks, in grouped and bulk statements."""
    groups: dict[tuple[tuple[str, Any], ...], list[int]] = defaultdict(list)
    for plan in plans:
        if plan.values or plan.tags_added or plan.tags_removed or plan.comments or plan.tasks:
            groups[tuple(sorted(plan.values.items(), key=lambda kv: kv[0]))].append(plan.ticket.id)
    for values, ids in groups.items():
        await models.Ticket.filter(id__in=ids).update(
            version=F("version") + 1, updated_at=now, **dict(values)
        )
    added = sorted({name for plan in plans for name in plan.tags_added})
    if added:
        await models.Tag.bulk_create([models.Tag(name=n) for n in added], ignore_conflicts=True)
        tag_ids = dict(await models.Tag.filter(name__in=added).values_list("name", "id"))
        await models.TicketTag.bulk_create(
            [
                models.TicketTag(ticket_id=plan.ticket.id, tag_id=tag_ids[name])
                for plan in plans
                for name in plan.tags_added
            ]
        )
    removed = sorted({name for plan in plans for name in plan.tags_removed})
    if removed:
        # The macro removes the same tags from every ticket: one DELETE.
        await models.TicketTag.filter(
            ticket_id__in=[p.ticket.id for p in plans if p.tags_removed], tag__name__in=removed
        ).delete()
    comments = [
        models.Comment(ticket_id=plan.ticket.id, author_id=actor.agent_id, body=body, is_public=pub)
        for plan in plans
        for body, pub in plan.comments
    ]
    if comments:
        mentioning = any(notifications.mentioned_agent_ids(c.body) for c in comments)
        last = await models.Comment.all().order_by("-id").only("id").first() if mentioning else None
        await models.Comment.bulk_create(comments)
        if mentioning:
            await _record_mentions(plans, last.id if last else 0)
    tasks = [
        models.Task(
            department_id=plan.values.get("department_id", plan.ticket.department_id),  # type: ignore[attr-defined]
            ticket_id=plan.ticket.id,
            contact_id=plan.ticket.contact_id,  # type: ignore[attr-defined]
            title=task["title"],
            due_at=task["due_at"],
            assignee_id=task["assignee_id"],
            created_by_id=actor.agent_id,
        )
        for plan in plans
        for task in plan.tasks
    ]
    if tasks:
        await models.Task.bulk_create(tasks)
    # The assignee follows the ticket from the moment of assignment (as for ticketUpdate).
    follows = [
        models.Follow(agent_id=plan.values["assignee_agent_id"], ticket_id=plan.ticket.id)
        for plan in plans
        if plan.values.get("assignee_agent_id")
    ]
    if follows:
        await models.Follow.bulk_create(follows, ignore_conflicts=True)
        notifications.forget_followers()  # the transaction's memo of followers is stale now


async def _record_mentions(plans: list[_Plan], after_id: int) -> None:
    """Mention rows for the new comments that name agents (as commentAdd records them)."""
    ids = [p.ticket.id for p in plans if p.comments]
    rows = await models.Comment.filter(ticket_id__in=ids, id__gt=after_id).values_list("id", "body")
    wanted = {(pk, agent) for pk, body in rows for agent in notifications.mentioned_agent_ids(body)}
    agents = {a for _, a in wanted}
    existing = set(await models.Agent.filter(id__in=list(agents)).values_list("id", flat=True))
    mentions = [
        models.Mention(comment_id=c, agent_id=a) for c, a in sorted(wanted) if a in existing
    ]
    if mentions:
        await models.Mention.bulk_create(mentions, ignore_conflicts=True)


async def _send(actor: Actor, settings: Settings, plan: _Plan) -> None:
    """The plan's emails, through the reply path (its thread and outbox row join the savepoint)."""
    from deskql.services import replies  # replies imports templates, which must not import us

    threads = []
    for index, action in plan.emails:
        try:
            sent = await replies.send_reply(
                actor,
                settings=settings,
                ticket_id=plan.ticket.id,
                template_id=action["template_id"],
                from_address_id=action.get("from_address_id"),
            )
        except ValidationFailed as exc:
            raise ValidationFailed(
                [
                    FieldError(f"actions.{index}.{e.field}" if e.field else f"actions.{index}",
                               e.message, e.code)
                    for e in exc.errors
                ]
            ) from None  # fmt: skip
        threads.append(sent.thread.id)
    plan.result.changes["emails"] = [
        {"templateId": a["template_id"], "threadId": t}
        for (_, a), t in zip(plan.emails, threads, strict=True)
    ]


def _activity_row(actor: Actor, plan: _Plan) -> models.Activity:
    ticket = plan.ticket
    return models.Activity(
        kind=APPLIED,
        actor_id=actor.agent_id,
        subject_type="Ticket",
        subject_id=ticket.id,
        ticket_id=ticket.id,
        contact_id=ticket.contact_id,  # type: ignore[attr-defined]
        account_id=ticket.account_id,  # type: ignore[attr-defined]
        department_id=plan.values.get("department_id", ticket.department_id),  # type: ignore[attr-defined]
        changes=plan.result.changes,
    )


async def apply_macro(
    actor: Actor,
    *,
    settings: Settings,
    macro_id: int,
    ticket_ids: list[int],
    dry_run: bool = False,
) -> ApplyResult:
    """Apply a macro to tickets of its department, each all-or-nothing, with one
    `ticket.macro_applied` Activity per ticket and one notification per agent for the run;
    `dry_run` returns the changes each ticket would get and writes nothing."""
    macro = await get_macro(actor, macro_id=macro_id, field="macroId")
    if not ticket_ids:
        raise ValidationFailed.one("ticketIds", "give at least one ticket", ErrorCode.REQUIRED)
    wanted = list(dict.fromkeys(ticket_ids))
    if len(wanted) > MAX_TICKETS:
        raise ValidationFailed.one(
            "ticketIds", f"at most {MAX_TICKETS} tickets per run", ErrorCode.LIMIT_EXCEEDED
        )
    department_id: int = macro.department_id  # type: ignore[attr-defined]
    # The stored actions are checked again: an agent may have left, a template gone.
    errors = Errors()
    actions = await clean_actions(actor, errors, macro.actions, department_id=department_id)
    if not errors.items and any(a["type"] == ActionType.SEND_EMAIL for a in actions):
        await _check_sending(actor, errors, actions, _final_department(department_id, actions))
    errors.raise_if_any()
    results = {pk: TicketResult(ticket_id=pk) for pk in wanted}
    if dry_run:
        rows = await visible_tickets(actor).filter(id__in=wanted)
        await _plan_all(actor, macro, actions, rows, results, wanted)
        return ApplyResult(macro, True, [results[pk] for pk in wanted])
    with notifications.quiet():
        async with uow.transaction():
            # Lock in id order (PostgreSQL) so concurrent runs serialise without deadlocks;
            # the plans are computed from the locked rows, so no update is lost.
            rows = await (
                visible_tickets(actor).filter(id__in=wanted).order_by("id").select_for_update()
            )
            plans = await _plan_all(actor, macro, actions, rows, results, wanted)
            ready = [p for p in plans if p.result.applied]
            now = datetime.now(UTC)
            if any(p.emails for p in ready):
                await _apply_one_by_one(actor, settings, ready, now)
            else:
                try:
                    async with uow.transaction():
                        await _write(actor, ready, now)
                except BaseORMException:
                    await _apply_one_by_one(actor, settings, ready, now)
            done = [p for p in ready if p.result.applied]
            mark = await _last_activity_id()
            if done:
                await models.Activity.bulk_create([_activity_row(actor, p) for p in done])
                await search_index.mark(search_index.TICKET, [p.ticket.id for p in done])
            run = await _record_run(actor, macro, done, mark) if done else None
    if any(p.emails for p in done):
        outbox.wake()
    fresh = {t.id: t for t in await models.Ticket.filter(id__in=[p.ticket.id for p in done])}
    for plan in done:
        plan.result.ticket = fresh.get(plan.ticket.id, plan.ticket)
    return ApplyResult(macro, False, [results[pk] for pk in wanted], run)


async def _plan_all(
    actor: Actor,
    macro: models.Macro,
    actions: list[dict[str, Any]],
    rows: list[models.Ticket],
    results: dict[int, TicketResult],
    wanted: list[int],
) -> list[_Plan]:
    found = {t.id: t for t in rows}
    department_id = macro.department_id  # type: ignore[attr-defined]
    eligible: list[models.Ticket] = []
    for index, pk in enumerate(wanted):
        ticket = found.get(pk)
        result = results[pk]
        if ticket is None:
            result.errors.append(
                FieldError(f"ticketIds.{index}", "no such ticket", ErrorCode.NOT_FOUND)
            )
            continue
        result.ticket = ticket
        if ticket.department_id != department_id:  # type: ignore[attr-defined]
            result.errors.append(
                FieldError(
                    f"ticketIds.{index}",
                    f"ticket #{ticket.number} is in another department than the macro; a macro "
                    "applies only to tickets of its own department",
                    ErrorCode.WRONG_DEPARTMENT,
                )
            )
            continue
        merged = ticket_rules.merged_error(ticket, f"ticketIds.{index}")
        if merged is not None:
            result.errors.append(merged)
            continue
        eligible.append(ticket)
    if not eligible:
        return []
    ctx = await _load(actor, macro, actions, eligible)
    return [_plan(ctx, ticket, results[ticket.id]) for ticket in eligible]


async def _apply_one_by_one(
    actor: Actor, settings: Settings, plans: list[_Plan], now: datetime
) -> None:
    """One savepoint per ticket: a ticket that fails is rolled back alone."""
    for plan in plans:
        try:
            async with uow.transaction():
                await _write(actor, [plan], now)
                if plan.emails:
                    await _send(actor, settings, plan)
        except ValidationFailed as exc:
            plan.result.errors.extend(exc.errors)
        except BaseORMException as exc:
            plan.fail(None, f"the ticket could not be changed: {exc}", ErrorCode.CONFLICT)


async def _last_activity_id() -> int:
    row = await models.Activity.all().order_by("-id").only("id").first()
    return row.id if row else 0


async def _record_run(
    actor: Actor, macro: models.Macro, done: list[_Plan], mark: int
) -> models.Activity:
    """The run's summary Activity, its batched notifications, and the real-time envelopes."""
    ids = [p.ticket.id for p in done]
    per_ticket = await models.Activity.filter(kind=APPLIED, ticket_id__in=ids, id__gt=mark)
    await activity.recorded_in_bulk(per_ticket)
    departments = sorted(
        {macro.department_id}
        | {p.values["department_id"] for p in done if "department_id" in p.values}  # type: ignore[attr-defined]
    )
    run = await models.Activity.create(
        kind=RUN,
        actor_id=actor.agent_id,
        subject_type="Macro",
        subject_id=macro.id,
        department_id=macro.department_id,  # type: ignore[attr-defined]
        changes={
            "macroId": macro.id,
            "macro": macro.name,
            "ticketIds": ids,
            "count": len(ids),
            "departmentIds": departments,
        },
    )
    assigned: dict[int, set[int]] = defaultdict(set)
    teams: dict[int, set[int]] = defaultdict(set)
    for plan in done:
        if plan.values.get("assignee_agent_id"):
            assigned[plan.values["assignee_agent_id"]].add(plan.ticket.id)
        if plan.values.get("assignee_team_id"):
            teams[plan.values["assignee_team_id"]].add(plan.ticket.id)
    mentioned = {
        pk for plan in done for body, _ in plan.comments
        for pk in notifications.mentioned_agent_ids(body)
    }  # fmt: skip
    created = await notifications.notify_run(
        actor,
        activity=run,
        ticket_ids=ids,
        assigned_agent_ids=set(assigned),
        assigned_team_ids=set(teams),
        mentioned_agent_ids=mentioned,
        department_ids=departments,
    )
    # Envelopes: each ticket's topic hears its own activity; dashboards hear the run once.
    for row in per_ticket:
        uow.add_event(topics.ticket(row.ticket_id), envelopes.activity(row))  # type: ignore[arg-type]
    for department_id in departments:
        uow.add_event(topics.department(department_id), envelopes.activity(run))
    for notification in created:
        uow.add_event(
            topics.agent(notification.agent_id),  # type: ignore[attr-defined]
            envelopes.notification(notification),
        )
    return run
