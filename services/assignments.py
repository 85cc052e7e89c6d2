"""Assignment (TIC-2): assign one or many tickets to an agent or a team, or take one yourself;
and the top tags of the tickets an agent may see (TIC-6).

Every assignment goes through `services.tickets`: `check_assignee` (an active agent member of
the ticket's department, or a team of it) and `apply_changes` (the `ticket.updated` Activity
row, which notifies the assignee, makes them follow and publishes the real-time events), the
same path as `ticketUpdate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tortoise.functions import Count

from deskql import models
from deskql.services import tickets, uow
from deskql.services.auth import Actor
from deskql.services.errors import ClientError, ErrorCode, Errors, FieldError, ValidationFailed
from deskql.services.policies import can_see_department, can_view_ticket, visible_tickets

MAX_BULK_ASSIGN = 100
MAX_TOP_TAGS = 100


@dataclass
class AssignResult:
    """What happened to one ticket of a bulk assignment."""

    ticket_id: int
    ticket: models.Ticket | None = None
    errors: list[FieldError] = field(default_factory=list)


async def assign_tickets(
    actor: Actor, *, ticket_ids: list[int], agent_id: int | None, team_id: int | None
) -> list[AssignResult]:
    """Assign tickets to an agent or a team (neither: unassign), each in its own transaction.

    A ticket that fails (not visible, assignee outside its department, changed meanwhile) is
    left unchanged and reported in its result; the others are assigned.
    """
    errors = Errors()
    if not ticket_ids:
        errors.add("ticketIds", "give at least one ticket", ErrorCode.REQUIRED)
    if len(ticket_ids) > MAX_BULK_ASSIGN:
        errors.add(
            "ticketIds", f"at most {MAX_BULK_ASSIGN} tickets at a time", ErrorCode.LIMIT_EXCEEDED
        )
    if agent_id is not None and team_id is not None:
        errors.add(None, "give agentId or teamId, not both", ErrorCode.INVALID)
    errors.raise_if_any()
    wanted = list(dict.fromkeys(ticket_ids))
    # One read of the assignee and one of the tickets for the whole batch; the per-ticket
    # transaction re-reads its row under a lock (the department or assignee may have changed).
    assignee = await tickets.load_assignee(agent_id=agent_id, team_id=team_id)
    visible = set(await visible_tickets(actor).filter(id__in=wanted).values_list("id", flat=True))
    results: list[AssignResult] = []
    for ticket_id in wanted:
        result = AssignResult(ticket_id)
        try:
            if ticket_id not in visible:
                raise _no_such_ticket("ticketIds")
            result.ticket = await _assign_one(actor, ticket_id=ticket_id, assignee=assignee)
        except ValidationFailed as exc:
            result.errors = exc.errors
        results.append(result)
    return results


def _no_such_ticket(field_name: str) -> ValidationFailed:
    return ValidationFailed.one(field_name, "no such ticket", ErrorCode.NOT_FOUND)


async def _lock_ticket(actor: Actor, ticket_id: int, field_name: str) -> models.Ticket:
    # FOR UPDATE (PostgreSQL): concurrent assignments of one ticket queue up instead of
    # reading the same version and failing with CONFLICT (or both "winning" a take).
    row = await models.Ticket.filter(id=ticket_id).select_for_update().first()
    if row is None or not can_view_ticket(actor, row):
        raise _no_such_ticket(field_name)
    tickets.ensure_not_merged(row, field_name)
    return row


async def _assign_one(actor: Actor, *, ticket_id: int, assignee: tickets.Assignee) -> models.Ticket:
    async with uow.transaction():
        row = await _lock_ticket(actor, ticket_id, "ticketIds")
        errors = Errors()
        tickets.check_assignee(
            errors,
            assignee,
            department_id=row.department_id,  # type: ignore[attr-defined]
            field_name="teamId" if assignee.team_id is not None else "agentId",
        )
        errors.raise_if_any()
        if {key: getattr(row, key) for key in assignee.values} == assignee.values:
            return row  # already so: nothing to write, nobody to tell
        return await tickets.apply_changes(
            actor, ticket=row, values=assignee.values, version=row.version
        )


async def take_ticket(actor: Actor, *, ticket_id: int) -> models.Ticket:
    """The acting agent takes an unassigned ticket of one of their departments (TIC-2)."""
    async with uow.transaction():
        row = await _lock_ticket(actor, ticket_id, "ticketId")
        if row.assignee_agent_id is not None or row.assignee_team_id is not None:  # type: ignore[attr-defined]
            whom = (
                "you"
                if row.assignee_agent_id == actor.agent_id  # type: ignore[attr-defined]
                else "someone else"
            )
            raise ValidationFailed.one(
                "ticketId",
                f"the ticket is already assigned (to {whom}); only unassigned tickets can be taken",
                ErrorCode.ALREADY_ASSIGNED,
            )
        assignee = await tickets.load_assignee(agent_id=actor.agent_id, team_id=None)
        errors = Errors()
        tickets.check_assignee(
            errors,
            assignee,
            department_id=row.department_id,  # type: ignore[attr-defined]
            field_name="ticketId",
        )
        errors.raise_if_any()
        return await tickets.apply_changes(
            actor, ticket=row, values=assignee.values, version=row.version
        )


class BadArgument(ClientError):
    """A query argument out of range."""

    code = "BAD_ARGUMENT"


async def top_tags(
    actor: Actor, *, department_id: int | None = None, first: int = 10
) -> list[tuple[str, int]]:
    """Tag names with how many non-spam tickets the actor may see carry them, most used first.

    Spam tickets are left out, as `tickets` leaves them out by default: a tag's count is the
    `totalCount` of `tickets(filter: {tag})`. A department the actor does not work in has none.
    """
    if not 0 <= first <= MAX_TOP_TAGS:
        raise BadArgument(f"first must be between 0 and {MAX_TOP_TAGS}, got {first}")
    if first == 0 or (department_id is not None and not can_see_department(actor, department_id)):
        return []
    qs = models.TicketTag.filter(ticket__is_spam=False)
    if department_id is not None:
        qs = qs.filter(ticket__department_id=department_id)
    elif not actor.is_admin:
        qs = qs.filter(ticket__department_id__in=list(actor.department_ids))
    rows = (
        await qs.annotate(count=Count("id"))
        .group_by("tag__name")
        .order_by("-count", "tag__name")
        .limit(first)
        .values("tag__name", "count")
    )
    return [(row["tag__name"], row["count"]) for row in rows]
