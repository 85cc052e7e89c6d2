"""A view's criteria: a TicketFilter stored as JSON and read back, checked, its sort."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from deskql import models
from deskql.models.enums import Channel, TicketPriority, TicketStatus
from deskql.services import validation
from deskql.services.auth import Actor
from deskql.services.errors import (
    ErrorCode,
    Errors,
)
from deskql.services.policies import (
    can_see_department,
    visible_agents,
    visible_teams,
)
from deskql.services.tickets import SORT_FIELDS, TicketFilter

# --- criteria as stored JSON --------------------------------------------------------------

_ENUM_LISTS: dict[str, type] = {
    "statuses": TicketStatus,
    "priorities": TicketPriority,
    "channels": Channel,
}


_ID_LISTS = ("department_ids", "assignee_agent_ids", "assignee_team_ids")


_IDS = ("contact_id", "account_id", "product_id")


_FLAGS = ("unassigned", "overdue", "is_spam")


_TIMES = ("created_after", "created_before")


_TEXTS = ("tag", "text")


def criteria_json(flt: TicketFilter) -> dict[str, Any]:
    """A filter as JSON for TicketView.criteria: only the criteria given, enums by name."""
    out: dict[str, Any] = {}
    for key in _ENUM_LISTS:
        if getattr(flt, key):
            out[key] = [v.name for v in getattr(flt, key)]
    for key in _ID_LISTS:
        if getattr(flt, key):
            out[key] = sorted(set(getattr(flt, key)))
    for key in (*_IDS, *_TEXTS):
        if getattr(flt, key) is not None:
            out[key] = getattr(flt, key)
    for key in _TIMES:
        if getattr(flt, key) is not None:
            out[key] = getattr(flt, key).isoformat()
    for key in _FLAGS:
        out[key] = getattr(flt, key)  # None means "either", which differs from the default
    return out


def criteria_filter(criteria: dict[str, Any]) -> TicketFilter:
    """The filter stored criteria describe (unknown keys are ignored)."""
    values: dict[str, Any] = {}
    for key, enum in _ENUM_LISTS.items():
        if key in criteria:
            values[key] = [enum[name] for name in criteria[key]]
    for key in (*_ID_LISTS, *_IDS, *_FLAGS, *_TEXTS):
        if key in criteria:
            values[key] = criteria[key]
    for key in _TIMES:
        if criteria.get(key) is not None:
            values[key] = datetime.fromisoformat(criteria[key])
    return TicketFilter(**values)


async def _check_criteria(actor: Actor, errors: Errors, flt: TicketFilter) -> None:
    """Every record the criteria name exists and is one the actor may see."""
    wanted = set(flt.department_ids)
    known = set(await models.Department.filter(id__in=list(wanted)).values_list("id", flat=True))
    if any(d not in known or not can_see_department(actor, d) for d in wanted):
        errors.add("criteria.departmentIds", "no such department", ErrorCode.NOT_FOUND)
    for ids, query, label in (
        (flt.assignee_agent_ids, visible_agents(actor), "agent"),
        (flt.assignee_team_ids, visible_teams(actor), "team"),
    ):
        if ids and await query.filter(id__in=list(set(ids))).count() != len(set(ids)):
            errors.add("criteria.assigneeIds", f"no such {label}", ErrorCode.NOT_FOUND)
    for pk, model, label in (
        (flt.contact_id, models.Contact, "contactId"),
        (flt.account_id, models.Account, "accountId"),
        (flt.product_id, models.Product, "productId"),
    ):
        if pk is not None and not await model.exists(id=pk):
            errors.add(f"criteria.{label}", f"no such {label[:-2]}", ErrorCode.NOT_FOUND)
    if flt.tag is not None and not flt.tag.strip():
        errors.add("criteria.tag", "the tag must not be empty", ErrorCode.INVALID)
    if flt.text is not None:
        validation.text(errors, "criteria.text", flt.text, max_length=255)


def _check_sort(errors: Errors, sort: str) -> None:
    if sort not in SORT_FIELDS:
        errors.add("sort", f"cannot sort by {sort!r}", ErrorCode.INVALID)
