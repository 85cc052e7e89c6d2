"""Events (ACT-1): meetings and appointments with a start, an end, a location and agents
attending, linked to a ticket, a contact or an account, in one department (ORG-5). An end
before the start is refused. Attendees and the owner get the reminder; new attendees are
notified (ASSIGNED)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from deskql import models
from deskql.models.enums import NotificationReason
from deskql.services import activity, records, uow
from deskql.services.activities import common, reminders
from deskql.services.activities.common import UNCHANGED
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed

MAX_ATTENDEES = 50
SORTS = {"STARTS_AT": "starts_at", "CREATED_AT": "created_at", "TITLE": "title"}


async def _values(row: models.Event) -> dict[str, Any]:
    attendees = sorted(
        await models.EventAttendee.filter(event_id=row.id).values_list("agent_id", flat=True)
    )
    return {
        "title": row.title,
        "description": row.description,
        "starts_at": row.starts_at,
        "ends_at": row.ends_at,
        "location": row.location,
        "owner_id": row.owner_id,  # type: ignore[attr-defined]
        "reminder_at": row.reminder_at,
        "ticket_id": row.ticket_id,  # type: ignore[attr-defined]
        "contact_id": row.contact_id,  # type: ignore[attr-defined]
        "account_id": row.account_id,  # type: ignore[attr-defined]
        "attendee_ids": attendees,
    }


def _check_times(errors: Errors, starts_at: datetime | None, ends_at: datetime | None) -> None:
    if starts_at is not None and ends_at is not None and ends_at < starts_at:
        errors.add("endsAt", "the event must not end before it starts", ErrorCode.INVALID)


def _attendees(errors: Errors, agent_ids: list[int]) -> list[int]:
    unique = list(dict.fromkeys(agent_ids))
    if len(unique) > MAX_ATTENDEES:
        errors.add("attendeeIds", f"at most {MAX_ATTENDEES} attendees", ErrorCode.LIMIT_EXCEEDED)
    return unique


async def create_event(
    actor: Actor,
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    description: str = "",
    location: str = "",
    owner_id: int | None = None,
    attendee_ids: list[int] | None = None,
    reminder_at: datetime | None = None,
    department_id: int | None = None,
    ticket_id: int | None = None,
    contact_id: int | None = None,
    account_id: int | None = None,
) -> models.Event:
    """Create an event (owned by the actor unless another owner is given)."""
    errors = Errors()
    clean_title = common.text_field(errors, "title", title, max_length=255, required=True)
    text = common.text_field(errors, "description", description, max_length=common.TEXT_MAX)
    place = common.text_field(errors, "location", location, max_length=255)
    _check_times(errors, common.utc(starts_at), common.utc(ends_at))
    people = _attendees(errors, attendee_ids or [])
    links = await common.resolve_links(
        actor,
        errors,
        department_id=department_id,
        ticket_id=ticket_id,
        contact_id=contact_id,
        account_id=account_id,
    )
    owner = actor.agent_id if owner_id is None else owner_id
    dept = links.department_id if links else None
    await common.check_agents(actor, errors, "ownerId", [owner], dept)
    await common.check_agents(actor, errors, "attendeeIds", people, dept)
    errors.raise_if_any()
    assert links is not None and clean_title is not None
    async with uow.transaction():
        row = await models.Event.create(
            title=clean_title,
            description=text or "",
            location=place or "",
            starts_at=common.utc(starts_at),
            ends_at=common.utc(ends_at),
            owner_id=owner,
            reminder_at=common.utc(reminder_at),
            created_by_id=actor.agent_id,
            **links.columns(),
        )
        if people:
            await models.EventAttendee.bulk_create(
                [models.EventAttendee(event_id=row.id, agent_id=pk) for pk in people]
            )
        await reminders.schedule(event=row)
        values = await _values(row)
        await common.record(
            actor,
            "event.created",
            row,
            "Event",
            {k: activity.jsonable(v) for k, v in values.items() if v not in (None, "", [])},
            {pk: NotificationReason.ASSIGNED for pk in {owner, *people} if pk != actor.agent_id},
        )
    return row


def visible_events(actor: Actor) -> QuerySet[models.Event]:
    """Events of the actor's departments (all for administrators)."""
    return common.scoped(actor, models.Event.all())


async def require_event(actor: Actor, event_id: int, field: str = "id") -> models.Event:
    """An event the actor may see, else NOT_FOUND."""
    row = await visible_events(actor).filter(id=event_id).first()
    if row is None:
        raise ValidationFailed.one(field, "no such event", ErrorCode.NOT_FOUND)
    return row


async def update_event(
    actor: Actor,
    *,
    event_id: int,
    title: Any = UNCHANGED,
    description: Any = UNCHANGED,
    location: Any = UNCHANGED,
    starts_at: Any = UNCHANGED,
    ends_at: Any = UNCHANGED,
    owner_id: Any = UNCHANGED,
    attendee_ids: Any = UNCHANGED,
    reminder_at: Any = UNCHANGED,
) -> models.Event:
    """Change an event's fields (those given); attendees are replaced as a whole."""
    row = await require_event(actor, event_id)
    before = await _values(row)
    errors = Errors()
    values: dict[str, Any] = {}
    if title is not UNCHANGED:
        values["title"] = common.text_field(errors, "title", title, max_length=255, required=True)
    if description is not UNCHANGED:
        values["description"] = (
            common.text_field(errors, "description", description, max_length=common.TEXT_MAX) or ""
        )
    if location is not UNCHANGED:
        values["location"] = common.text_field(errors, "location", location, max_length=255) or ""
    if starts_at is not UNCHANGED and starts_at is not None:
        values["starts_at"] = common.utc(starts_at)
    if ends_at is not UNCHANGED and ends_at is not None:
        values["ends_at"] = common.utc(ends_at)
    if reminder_at is not UNCHANGED:
        values["reminder_at"] = common.utc(reminder_at)
    _check_times(
        errors,
        values.get("starts_at", common.utc(row.starts_at)),
        values.get("ends_at", common.utc(row.ends_at)),
    )
    dept = row.department_id  # type: ignore[attr-defined]
    if owner_id is not UNCHANGED and owner_id is not None:
        values["owner_id"] = owner_id
        await common.check_agents(actor, errors, "ownerId", [owner_id], dept)
    people: list[int] | None = None
    if attendee_ids is not UNCHANGED and attendee_ids is not None:
        people = _attendees(errors, attendee_ids)
        await common.check_agents(actor, errors, "attendeeIds", people, dept)
    errors.raise_if_any()
    async with uow.transaction():
        if values:
            await models.Event.filter(id=row.id).update(**values, updated_at=common.now())
        if people is not None:
            await models.EventAttendee.filter(event_id=row.id).delete()
            if people:
                await models.EventAttendee.bulk_create(
                    [models.EventAttendee(event_id=row.id, agent_id=pk) for pk in people]
                )
        row = await models.Event.get(id=row.id)
        if "reminder_at" in values:
            await reminders.schedule(event=row)
        after = await _values(row)
        changes = activity.diff(before, after)
        if changes:
            new = set(after["attendee_ids"]) - set(before["attendee_ids"])
            if after["owner_id"] != before["owner_id"] and after["owner_id"] is not None:
                new.add(after["owner_id"])
            await common.record(
                actor,
                "event.updated",
                row,
                "Event",
                changes,
                {pk: NotificationReason.ASSIGNED for pk in new if pk != actor.agent_id},
            )
    return row


async def delete_event(actor: Actor, *, event_id: int) -> models.Event:
    """Delete an event (its owner, its creator or an administrator)."""
    row = await require_event(actor, event_id)
    allowed = {row.owner_id, row.created_by_id}  # type: ignore[attr-defined]
    if not actor.is_admin and actor.agent_id not in allowed:
        raise ValidationFailed.one(
            "id",
            "only its owner, its creator or an administrator may delete it",
            ErrorCode.NOT_OWNER,
        )
    async with uow.transaction():
        await common.record(
            actor, "event.deleted", row, "Event", {"title": row.title, "eventId": row.id}
        )
        await records.forget_record("Event", row.id)
        await models.Event.filter(id=row.id).delete()
    return row


def list_events(
    actor: Actor,
    *,
    owner_id: int | None = None,
    attendee_id: int | None = None,
    starts_before: datetime | None = None,
    starts_after: datetime | None = None,
    upcoming: bool | None = None,
    ticket_id: int | None = None,
    contact_id: int | None = None,
    account_id: int | None = None,
    sort: str = "STARTS_AT",
    descending: bool = False,
) -> QuerySet[models.Event]:
    """The events the actor may see, filtered and sorted (ties by id)."""
    qs = common.link_filter(
        visible_events(actor), ticket_id=ticket_id, contact_id=contact_id, account_id=account_id
    )
    if owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    if attendee_id is not None:
        going = models.EventAttendee.filter(agent_id=attendee_id).values("event_id")
        qs = qs.filter(id__in=Subquery(going))
    if starts_before is not None:
        qs = qs.filter(starts_at__lt=common.utc(starts_before))
    if starts_after is not None:
        qs = qs.filter(starts_at__gte=common.utc(starts_after))
    if upcoming is True:
        qs = qs.filter(ends_at__gte=common.now())
    elif upcoming is False:
        qs = qs.filter(ends_at__lt=common.now())
    sign = "-" if descending else ""
    return qs.order_by(f"{sign}{SORTS[sort]}", f"{sign}id")


def mine(actor: Actor) -> QuerySet[models.Event]:
    """Events not yet over that the actor owns or attends."""
    going = models.EventAttendee.filter(agent_id=actor.agent_id).values("event_id")
    return visible_events(actor).filter(
        Q(owner_id=actor.agent_id) | Q(id__in=Subquery(going)), ends_at__gte=common.now()
    )


async def attendee_ids(event_ids: list[int]) -> dict[int, list[int]]:
    """Attendees of events, by event id."""
    out: dict[int, list[int]] = {pk: [] for pk in event_ids}
    rows = await models.EventAttendee.filter(event_id__in=event_ids).order_by("id")
    for row in rows:
        out[row.event_id].append(row.agent_id)  # type: ignore[attr-defined]
    return out
