"""Object-level access rules (ORG-5), used by every path: GraphQL, email and the CLI.

Agents see and change the tickets (and what hangs off them) of their departments, the teams
of their departments, and the agents who share a department with them. Contacts, accounts and
products are organisation-wide: a customer may write to any department. Administrators see all.
"""

from __future__ import annotations

from collections.abc import Iterable

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from deskql import models
from deskql.services.auth import Actor
from deskql.services.errors import PermissionDenied


def require_admin(actor: Actor, what: str) -> None:
    """Raise PermissionDenied unless the actor is an administrator."""
    if not actor.is_admin:
        raise PermissionDenied(f"only administrators may {what}")


def can_see_department(actor: Actor, department_id: int | None) -> bool:
    """Whether the actor works in the department (administrators: every one)."""
    return actor.is_admin or (department_id is not None and department_id in actor.department_ids)


def can_view_ticket(actor: Actor, ticket: models.Ticket) -> bool:
    """Whether the actor may see (and so change) the ticket."""
    return can_see_department(actor, ticket.department_id)  # type: ignore[attr-defined]


def visible_tickets(actor: Actor) -> QuerySet[models.Ticket]:
    """The tickets the actor may see."""
    qs = models.Ticket.all()
    if not actor.is_admin:
        qs = qs.filter(department_id__in=list(actor.department_ids))
    return qs


def visible_departments(actor: Actor) -> QuerySet[models.Department]:
    """The departments the actor works in (all, for administrators)."""
    qs = models.Department.all()
    if not actor.is_admin:
        qs = qs.filter(id__in=list(actor.department_ids))
    return qs


def visible_teams(actor: Actor) -> QuerySet[models.Team]:
    """The teams of the actor's departments."""
    qs = models.Team.all()
    if not actor.is_admin:
        qs = qs.filter(department_id__in=list(actor.department_ids))
    return qs


def sees_agent_profile(actor: Actor, agent_id: int, agent_department_ids: Iterable[int]) -> bool:
    """Whether the actor sees an agent's whole profile, not only the public one (name and
    avatar): administrators, the agent themself, and agents sharing a department with them."""
    if actor.is_admin or actor.agent_id == agent_id:
        return True
    return not actor.department_ids.isdisjoint(agent_department_ids)


def visible_agents(actor: Actor) -> QuerySet[models.Agent]:
    """The agents who share a department with the actor, and the actor."""
    qs = models.Agent.all()
    if not actor.is_admin:
        members = models.DepartmentMembership.filter(
            department_id__in=list(actor.department_ids)
        ).values("agent_id")
        qs = qs.filter(Q(id__in=Subquery(members)) | Q(id=actor.agent_id))
    return qs


def visible_tasks(actor: Actor) -> QuerySet[models.Task]:
    """Tasks of the tickets the actor may see, and ticketless ones of their departments."""
    qs = models.Task.all()
    if actor.is_admin:
        return qs
    tickets = Subquery(visible_tickets(actor).values("id"))
    return qs.filter(
        Q(ticket_id__in=tickets)
        | Q(ticket_id__isnull=True, department_id__in=list(actor.department_ids))
    )


def visible_time_entries(actor: Actor) -> QuerySet[models.TimeEntry]:
    """Time logged on the tickets the actor may see, or on tasks they may see (as a ticket's
    `timeEntries` lists them)."""
    qs = models.TimeEntry.all()
    if actor.is_admin:
        return qs
    tickets = Subquery(visible_tickets(actor).values("id"))
    tasks = Subquery(visible_tasks(actor).values("id"))
    return qs.filter(Q(ticket_id__in=tickets) | Q(task_id__in=tasks))


def visible(actor: Actor, model: type) -> QuerySet:  # type: ignore[type-arg]
    """The rows of any model the actor may see."""
    depts = list(actor.department_ids)
    if model is models.Ticket:
        return visible_tickets(actor)
    if model is models.Department:
        return visible_departments(actor)
    if model is models.Team:
        return visible_teams(actor)
    if model is models.Agent:
        return visible_agents(actor)
    if model is models.ApiToken:
        qs = models.ApiToken.all()
        return qs if actor.is_admin else qs.filter(agent_id=actor.agent_id)
    if model is models.TicketRating:
        # A rating is seen with its ticket (ORG-5).
        return models.TicketRating.filter(
            ticket_id__in=Subquery(visible_tickets(actor).values("id"))
        )
    if model is models.Comment:
        from deskql.services.comments import visible_comments  # comments on any registered record

        return visible_comments(actor)
    if model in (models.Thread, models.Attachment):
        qs = model.all()
        return qs if actor.is_admin else qs.filter(ticket__department_id__in=depts)
    if model is models.Activity:
        qs = models.Activity.all()
        if actor.is_admin:
            return qs
        return qs.filter(Q(department_id__isnull=True) | Q(department_id__in=depts))
    if model in (models.Contact, models.Account, models.Product):
        return model.all()
    if model is models.Task:
        return visible_tasks(actor)
    if model is models.TimeEntry:
        return visible_time_entries(actor)
    if model is models.OutboxMessage:
        # A thread's delivery status: the emails of the threads the actor may see.
        threads = Subquery(visible(actor, models.Thread).values("id"))
        return models.OutboxMessage.filter(thread_id__in=threads)
    if model in (models.SupportAddress, models.InboundMessage):
        # Administrators only, as their lists; anyone else finds none (not an error).
        return model.all() if actor.is_admin else model.filter(id__in=[])
    if model in (models.Webhook, models.WebhookDelivery):
        # Administrators only, as their lists (services/webhooks/manage.py).
        return model.all() if actor.is_admin else model.filter(id__in=[])
    raise LookupError(f"no visibility rule for {model.__name__}")
