"""Planning a run in memory: the tickets locked and loaded, each ticket's changes planned."""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from deskql import models
from deskql.models.enums import TicketPriority, TicketStatus
from deskql.services import (
    activity,
    from_addresses,
    templates,
)
from deskql.services import tickets as ticket_rules
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, FieldError, ValidationFailed
from deskql.services.macros.actions import _ASSIGNING, ActionType, parse_offset

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
