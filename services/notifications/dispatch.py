"""Telling agents of an activity: `notify` (inside the transaction that writes it), the
administrators' operational notices, a batch's one notification (`notify_run`), and `quiet`
for the batches that send that one instead of one per record."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from tortoise.expressions import Q

from deskql import models
from deskql.models.enums import NotificationReason, Role
from deskql.services.auth import Actor
from deskql.services.notifications.followers import _followers
from deskql.services.notifications.recipients import (
    DEPARTMENT_RECORDS,
    _assignees,
    _generic_subject,
    _Reasons,
    _record_mentions,
    _who_may_see,
    auto_follow_assignee,
)
from deskql.services.notifications.writing import Written, _write

# Activities every administrator is told of (services/webhooks: a webhook switched off).
ADMIN_KINDS = frozenset({"webhook.disabled"})
# Set while a batch (a macro run) writes activities whose notifications it sends as one.
_quiet: ContextVar[bool] = ContextVar("deskql_notify_quiet", default=False)


@contextmanager
def quiet() -> Iterator[None]:
    """Inside the block, activities notify nobody: the caller sends one batched notification
    (`notify_run`) for the whole batch instead of one per record."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


async def notify(
    actor: Actor | None,
    *,
    activity: models.Activity,
    ticket: models.Ticket | None = None,
    owners: Iterable[int] = (),
    direct: dict[int, NotificationReason] | None = None,
) -> list[Written]:
    """Write the Notification rows an Activity produces (inside its transaction); `direct`
    names agents told for a reason of the record itself (a task's owner, a reminder)."""
    if _quiet.get():
        return []
    if activity.kind in ADMIN_KINDS:
        return await _notify_admins(activity)
    if activity.ticket_id is not None and ticket is None:
        ticket = await models.Ticket.filter(id=activity.ticket_id).first()
    await auto_follow_assignee(activity, ticket)
    mentioned = await _record_mentions(activity)
    if ticket is not None and ticket.is_spam:
        return []
    generic = activity.ticket_id is None and _generic_subject(activity)
    linked = (activity.ticket_id, activity.contact_id, activity.account_id)
    if all(pk is None for pk in linked) and not generic and not direct:
        return []
    reasons = _Reasons()
    for pk, reason in (direct or {}).items():
        reasons.offer([pk], reason)
    reasons.offer(await _followers(activity, generic=generic), NotificationReason.FOLLOWING)
    reasons.offer(owners, NotificationReason.OWNER)
    reasons.offer(await _assignees(activity, ticket), NotificationReason.ASSIGNED)
    reasons.offer(mentioned, NotificationReason.MENTIONED)
    if actor is not None:
        reasons.pop(actor.agent_id, None)
    # Ticket records belong to a department, and so do registered record types that name one
    # (articles) and tasks, events and calls; contacts and accounts are organisation-wide.
    scoped = (
        activity.ticket_id is not None or generic or activity.subject_type in DEPARTMENT_RECORDS
    )
    department_id = activity.department_id if scoped else None
    allowed = await _who_may_see(reasons, department_id)
    return await _write(
        activity,
        reasons,
        allowed,
        ticket_id=activity.ticket_id,
        contact_id=activity.contact_id,
        account_id=activity.account_id,
    )


async def _notify_admins(activity: models.Activity) -> list[Written]:
    """Every active administrator (but the one who acted) hears of an operational problem."""
    admins = await models.Agent.filter(role=Role.ADMINISTRATOR, is_active=True).values_list(
        "id", flat=True
    )
    reasons = _Reasons()
    actor_id = activity.actor_id  # type: ignore[attr-defined]
    reasons.offer([pk for pk in admins if pk != actor_id], NotificationReason.ADMINISTRATOR)
    return await _write(activity, reasons, set(reasons), ticket_id=None)


async def notify_run(
    actor: Actor | None,
    *,
    activity: models.Activity,
    ticket_ids: list[int],
    assigned_agent_ids: set[int],
    assigned_team_ids: set[int],
    mentioned_agent_ids: set[int],
    department_ids: list[int],
) -> list[Written]:
    """One notification per agent for a batch that touched many tickets (a macro run):
    followers of any of the (non-spam) tickets, their contacts or accounts, the agents
    assigned (or in teams assigned) and those mentioned; the highest reason wins. A
    notification points at the ticket only when the batch touched one."""
    live = await models.Ticket.filter(id__in=ticket_ids, is_spam=False).values_list(
        "id", "contact_id", "account_id"
    )
    if not live:
        return []
    query = Q(ticket_id__in=[row[0] for row in live])
    contacts = sorted({row[1] for row in live if row[1] is not None})
    accounts = sorted({row[2] for row in live if row[2] is not None})
    if contacts:
        query |= Q(contact_id__in=contacts)
    if accounts:
        query |= Q(account_id__in=accounts)
    reasons = _Reasons()
    reasons.offer(
        await models.Follow.filter(query).values_list("agent_id", flat=True),
        NotificationReason.FOLLOWING,
    )
    team_members: list[int] = []
    if assigned_team_ids:
        team_members = await models.TeamMembership.filter(
            team_id__in=list(assigned_team_ids)
        ).values_list("agent_id", flat=True)
    reasons.offer(set(assigned_agent_ids) | set(team_members), NotificationReason.ASSIGNED)
    reasons.offer(mentioned_agent_ids, NotificationReason.MENTIONED)
    if actor is not None:
        reasons.pop(actor.agent_id, None)
    allowed: set[int] = set()
    for department_id in department_ids:
        allowed |= await _who_may_see(reasons, department_id)
    one = ticket_ids[0] if len(ticket_ids) == 1 else None
    return await _write(activity, reasons, allowed, ticket_id=one)
