"""What tasks, events and calls share: their links to a ticket, a contact and an account,
the department they belong to (ORG-5), their Activity rows and their list filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from deskql import models
from deskql.models.enums import NotificationReason
from deskql.services import activity
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.policies import can_see_department, visible_tickets
from deskql.services.tickets import ensure_not_merged

TITLE_MAX = 255
TEXT_MAX = 10_000


def now() -> datetime:
    """The current time, UTC."""
    return datetime.now(UTC)


def utc(value: datetime | None) -> datetime | None:
    """A datetime in UTC (a naive one is taken as UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass
class Links:
    """A record's ticket, contact and account (each optional, at least one) and department."""

    department_id: int
    ticket_id: int | None
    contact_id: int | None
    account_id: int | None

    def columns(self) -> dict[str, int | None]:
        """The row's columns for these links."""
        return {
            "department_id": self.department_id,
            "ticket_id": self.ticket_id,
            "contact_id": self.contact_id,
            "account_id": self.account_id,
        }


UNCHANGED: Any = object()


async def resolve_links(
    actor: Actor,
    errors: Errors,
    *,
    department_id: int | None,
    ticket_id: int | None,
    contact_id: int | None,
    account_id: int | None,
    require_link: bool = True,
) -> Links | None:
    """Check the links and decide the department: the ticket's, else the one given, else the
    actor's only department. A ticket lends its contact and account when they are not given."""
    ticket = None
    if ticket_id is not None:
        ticket = await visible_tickets(actor).filter(id=ticket_id).first()
        if ticket is None:
            errors.add("ticketId", "no such ticket", ErrorCode.NOT_FOUND)
        else:
            try:
                ensure_not_merged(ticket, "ticketId")
            except ValidationFailed as exc:
                errors.items.extend(exc.errors)
                ticket = None
    if contact_id is not None and not await models.Contact.exists(id=contact_id):
        errors.add("contactId", "no such contact", ErrorCode.NOT_FOUND)
    if account_id is not None and not await models.Account.exists(id=account_id):
        errors.add("accountId", "no such account", ErrorCode.NOT_FOUND)
    if require_link and ticket_id is None and contact_id is None and account_id is None:
        errors.add(None, "link it to a ticket, a contact or an account", ErrorCode.REQUIRED)
    if ticket is not None:
        dept = ticket.department_id  # type: ignore[attr-defined]
        if department_id is not None and department_id != dept:
            errors.add(
                "departmentId",
                "the department must be the ticket's (or be left out)",
                ErrorCode.WRONG_DEPARTMENT,
            )
        department_id = dept
        contact_id = contact_id if contact_id is not None else ticket.contact_id  # type: ignore[attr-defined]
        account_id = account_id if account_id is not None else ticket.account_id  # type: ignore[attr-defined]
    elif ticket_id is None:
        if department_id is None and len(actor.department_ids) == 1:
            department_id = next(iter(actor.department_ids))
        if department_id is None:
            errors.add("departmentId", "give the department it belongs to", ErrorCode.REQUIRED)
        elif not can_see_department(actor, department_id) or not await models.Department.exists(
            id=department_id
        ):
            errors.add("departmentId", "no such department", ErrorCode.NOT_FOUND)
    if errors.items or department_id is None:
        return None
    return Links(department_id, ticket_id, contact_id, account_id)


async def check_agents(
    actor: Actor, errors: Errors, field: str, agent_ids: list[int], department_id: int | None
) -> None:
    """Agents named on a record must be active members of its department (or administrators)."""
    if not agent_ids or department_id is None:
        return
    rows = await models.Agent.filter(id__in=agent_ids, is_active=True).values_list("id", "role")
    members = set(
        await models.DepartmentMembership.filter(
            agent_id__in=agent_ids, department_id=department_id
        ).values_list("agent_id", flat=True)
    )
    ok = {pk for pk, role in rows if pk in members or role == models.Role.ADMINISTRATOR}
    if set(agent_ids) - ok:
        errors.add(
            field, "each agent must be an active member of the department", ErrorCode.NOT_FOUND
        )


def text_field(
    errors: Errors, field: str, value: str | None, *, max_length: int, required: bool = False
) -> str | None:
    """A trimmed text value within a length (multi-line allowed)."""
    from deskql.services import validation

    return validation.text(
        errors, field, value, max_length=max_length, required=required, multiline=True
    )


async def record(
    actor: Actor | None,
    kind: str,
    row: Any,
    subject_type: str,
    changes: dict[str, Any],
    direct: dict[int, NotificationReason] | None = None,
) -> models.Activity:
    """The Activity row of a change to a task, event or call (on its links and department)."""
    return await activity.record(
        actor=actor,
        kind=kind,
        subject_type=subject_type,
        subject_id=row.id,
        ticket_id=row.ticket_id,
        contact_id=row.contact_id,
        account_id=row.account_id,
        department_id=row.department_id,
        changes=changes,
        direct=direct,
    )


def scoped(actor: Actor, qs: QuerySet[Any]) -> QuerySet[Any]:
    """Rows of the actor's departments (all for administrators)."""
    if actor.is_admin:
        return qs
    return qs.filter(department_id__in=list(actor.department_ids))


def link_filter(
    qs: QuerySet[Any],
    *,
    ticket_id: int | None = None,
    contact_id: int | None = None,
    account_id: int | None = None,
) -> QuerySet[Any]:
    """Only rows linked to the given ticket, contact and account."""
    if ticket_id is not None:
        qs = qs.filter(ticket_id=ticket_id)
    if contact_id is not None:
        qs = qs.filter(contact_id=contact_id)
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    return qs


def any_of(field: str, values: list[Any]) -> Q:
    """field IN values."""
    return Q(**{f"{field}__in": values})
