"""An agent's notifications: listing them (never about what they may no longer see),
catching up after an id, counting the unread ones and marking them read."""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from deskql import models
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, ValidationFailed

MAX_MARK_READ = 100


def _for(actor: Actor) -> QuerySet[models.Notification]:
    qs = models.Notification.filter(agent_id=actor.agent_id)
    if actor.is_admin:
        return qs
    # Never show what the agent may no longer see: tickets since moved to (or departments
    # since left for) a department outside theirs. Deleted tickets' notifications stay.
    hidden = models.Ticket.exclude(department_id__in=list(actor.department_ids)).values("id")
    return qs.filter(Q(ticket_id__isnull=True) | ~Q(ticket_id__in=Subquery(hidden)))


def list_notifications(
    actor: Actor,
    *,
    unread_only: bool = False,
    before_id: int | None = None,
    newer_than_id: int | None = None,
) -> QuerySet[models.Notification]:
    """The actor's notifications, newest first (keyset on id: stable while new ones arrive)."""
    qs = _for(actor)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    if before_id is not None:
        qs = qs.filter(id__lt=before_id)
    if newer_than_id is not None:
        qs = qs.filter(id__gt=newer_than_id)
    return qs.order_by("-id")


async def notification_ids_after(actor: Actor, *, after_id: int, limit: int = 1000) -> list[int]:
    """Ids of the actor's notifications newer than an id, oldest first (catch-up, replay)."""
    query = _for(actor).filter(id__gt=after_id).order_by("id").limit(limit)
    return list(await query.values_list("id", flat=True))


async def get_notification(actor: Actor, *, notification_id: int) -> models.Notification | None:
    """One of the actor's notifications, or None."""
    return await _for(actor).filter(id=notification_id).first()


async def unread_count(actor: Actor) -> int:
    """How many of the actor's notifications are unread."""
    return await _for(actor).filter(read_at__isnull=True).count()


async def mark_read(actor: Actor, *, notification_ids: list[int]) -> list[models.Notification]:
    """Mark some of the actor's notifications read; ids that are not theirs are NOT_FOUND."""
    if not notification_ids:
        raise ValidationFailed.one("ids", "give at least one notification id", ErrorCode.REQUIRED)
    if len(notification_ids) > MAX_MARK_READ:
        raise ValidationFailed.one(
            "ids", f"at most {MAX_MARK_READ} ids at a time", ErrorCode.LIMIT_EXCEEDED
        )
    wanted = list(dict.fromkeys(notification_ids))
    rows = await _for(actor).filter(id__in=wanted)
    if len(rows) != len(wanted):
        found = {row.id for row in rows}
        missing = [pk for pk in wanted if pk not in found]
        raise ValidationFailed.one(
            "ids", f"no such notification ({len(missing)} of the ids)", ErrorCode.NOT_FOUND
        )
    now = datetime.now(UTC)
    await _for(actor).filter(id__in=wanted, read_at__isnull=True).update(read_at=now)
    return await _for(actor).filter(id__in=wanted).order_by("-id")


async def mark_all_read(actor: Actor, *, up_to_id: int | None = None) -> int:
    """Mark all the actor's unread notifications read (up to an id, if given); returns how many."""
    qs = _for(actor).filter(read_at__isnull=True)
    if up_to_id is not None:
        qs = qs.filter(id__lte=up_to_id)
    return await qs.update(read_at=datetime.now(UTC))
