"""Writing planned runs: grouped UPDATEs and bulk INSERTs, mentions, replies, activity rows."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from tortoise.expressions import F

from deskql import models
from deskql.services import (
    notifications,
)
from deskql.services.auth import Actor
from deskql.services.errors import FieldError, ValidationFailed
from deskql.services.macros.plan import _Plan
from deskql.settings import Settings

APPLIED = "ticket.macro_applied"


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
