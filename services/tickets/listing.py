"""Listing tickets: filters, sort fields, and who may see a ticket."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from deskql import models
from deskql.models.enums import Channel, TicketPriority, TicketStatus
from deskql.services.auth import Actor
from deskql.services.policies import can_view_ticket, visible_tickets
from deskql.services.tickets.common import _utc


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
