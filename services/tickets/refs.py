"""A ticket's references checked: department, assignee (agent or team), template."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deskql import models
from deskql.services import uow
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors
from deskql.services.policies import can_see_department

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
