"""The actions a macro may hold (ActionType, AUT-1) and their validation (`clean_actions`)."""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Any

from deskql import models
from deskql.models.enums import TicketPriority, TicketStatus
from deskql.services import (
    templates,
    validation,
)
from deskql.services import tickets as ticket_rules
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors
from deskql.services.policies import can_see_department

MAX_ACTIONS = 25


TASK_TITLE_MAX = 255


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
