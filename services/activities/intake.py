"""Call events from the telephony bridge (ACT-2): one call per provider call id, whatever
order its events arrive in and however often.

Each event runs in one transaction that locks the call's row (PostgreSQL), skips an event id
it applied already, and folds the event into the call: the status only moves forward
(RINGING -> ANSWERED -> ENDED), the earliest time is the start, and the outcome is derived
from every event seen so far (an `ended` that came before `answered` is re-read when
`answered` arrives). A new call finds its contact by number (E.164; phone or mobile; several
matches: the most recently changed, unless their open tickets lie in different departments and
nothing else decides: then the event is refused), optionally creates an unknown caller's
contact, and lands on the contact's open ticket (or a new one, per setting), with an Activity
row on the contact and ticket; a ringing inbound call notifies its agent (INCOMING_CALL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError

from deskql import models
from deskql.models.activities import CallDirection, CallOutcome, CallStatus
from deskql.models.enums import Channel, NotificationReason, TicketStatus
from deskql.services import activity, tickets, uow
from deskql.services.activities import calls, common, phones
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.settings import Settings

EVENT_TYPES = ("ringing", "answered", "ended", "missed", "voicemail")
_RANK = {CallStatus.RINGING: 0, CallStatus.ANSWERED: 1, CallStatus.ENDED: 2}
_STATUS = {
    "ringing": CallStatus.RINGING,
    "answered": CallStatus.ANSWERED,
    "ended": CallStatus.ENDED,
    "missed": CallStatus.ENDED,
    "voicemail": CallStatus.ENDED,
}


@dataclass(frozen=True)
class CallEvent:
    """One event of a provider's call, as the channel parsed it."""

    call_id: str
    event_id: str
    type: str
    at: datetime
    number: str  # the customer's number as sent
    direction: CallDirection = CallDirection.INBOUND
    extension: str = ""
    duration_seconds: int | None = None
    recording_url: str = ""


@dataclass
class Outcome:
    """What intake did with an event."""

    call: models.Call
    created: bool
    duplicate: bool


def _outcome(types: set[str], duration: int) -> CallOutcome | None:
    if "voicemail" in types:
        return CallOutcome.VOICEMAIL
    if "missed" in types:
        return CallOutcome.MISSED
    if "ended" in types:
        return (
            CallOutcome.COMPLETED if "answered" in types or duration > 0 else CallOutcome.NO_ANSWER
        )
    return None


async def _agent_by_extension(extension: str) -> models.Agent | None:
    if not extension:
        return None
    return await models.Agent.filter(extension=extension, is_active=True).order_by("id").first()


async def _open_tickets(contact_ids: list[int]) -> list[models.Ticket]:
    return (
        await models.Ticket.filter(
            contact_id__in=contact_ids, is_spam=False, merged_into_id__isnull=True
        )
        .exclude(status=TicketStatus.CLOSED)
        .order_by("-updated_at", "-id")
    )


async def _default_department(settings: Settings) -> int:
    wanted = settings.telephony_department.strip()
    if wanted:
        query = (
            models.Department.filter(id=int(wanted))
            if wanted.isdigit()
            else models.Department.filter(name=wanted)
        )
        row = await query.first()
        if row is not None:
            return row.id
    row = await models.Department.all().order_by("id").first()
    if row is None:
        raise ValidationFailed.one(None, "no department to log calls in", ErrorCode.NOT_FOUND)
    return row.id


async def _place(
    settings: Settings, number: str, agent: models.Agent | None
) -> tuple[int, models.Contact | None, models.Ticket | None]:
    """The department, contact and open ticket of a new call."""
    agent_depts: list[int] = []
    if agent is not None:
        agent_depts = sorted(
            await models.DepartmentMembership.filter(agent_id=agent.id).values_list(
                "department_id", flat=True
            )
        )
    matches = await phones.contacts_with(number, settings.telephony_default_region)
    open_tickets = await _open_tickets([c.id for c in matches]) if matches else []
    by_contact: dict[int, list[models.Ticket]] = {}
    for t in open_tickets:
        by_contact.setdefault(t.contact_id, []).append(t)  # type: ignore[attr-defined]
    contact: models.Contact | None = None
    department: int | None = agent_depts[0] if len(agent_depts) == 1 else None
    if len(matches) > 1:
        depts = {t.department_id for t in open_tickets}  # type: ignore[attr-defined]
        if department is None and agent_depts:
            shared = [d for d in agent_depts if d in depts]
            department = shared[0] if len(shared) == 1 else None
        if department is None and len(depts) > 1:
            raise ValidationFailed.one(
                "from",
                f"{number} belongs to {len(matches)} contacts with open tickets in "
                f"{len(depts)} departments; the call cannot be placed",
                ErrorCode.CONFLICT,
            )
        if department is not None:
            # Contacts with an open ticket in that department first, then the most recent.
            ranked = [
                c
                for c in matches
                if any(
                    t.department_id == department
                    for t in by_contact.get(c.id, [])  # type: ignore[attr-defined]
                )
            ]
            contact = (ranked or matches)[0]
        else:
            contact = matches[0]
    elif matches:
        contact = matches[0]
    ticket: models.Ticket | None = None
    if contact is not None:
        own = by_contact.get(contact.id, [])
        if department is not None:
            own = [t for t in own if t.department_id == department]  # type: ignore[attr-defined]
        ticket = own[0] if own else None
        if department is None and ticket is not None:
            department = ticket.department_id  # type: ignore[attr-defined]
    if department is None:
        department = await _default_department(settings)
    return department, contact, ticket


async def _new_contact(settings: Settings, number: str) -> models.Contact:
    contact = await models.Contact.create(last_name=f"Caller {number}", phone=number)
    await activity.record(
        actor=None,
        kind="contact.created",
        subject_type="Contact",
        subject_id=contact.id,
        contact_id=contact.id,
        changes={"phone": number, "source": "telephony"},
    )
    return contact


async def _create(settings: Settings, event: CallEvent, number: str) -> models.Call:
    agent = await _agent_by_extension(event.extension)
    department, contact, ticket = await _place(settings, number, agent)
    if contact is None and settings.telephony_create_contacts:
        contact = await _new_contact(settings, number)
    if ticket is None and contact is not None and settings.telephony_create_tickets:
        ticket = await tickets.create_ticket(
            None,
            subject=f"Call from {contact.name or number}",
            department_id=department,
            contact_id=contact.id,
            channel=Channel.PHONE,
        )
    started = event.at
    if event.type != "ringing" and event.duration_seconds:
        started = event.at - timedelta(seconds=event.duration_seconds)
    return await models.Call.create(
        direction=event.direction,
        number=number,
        status=CallStatus.RINGING,
        started_at=started,
        agent_id=agent.id if agent else None,
        department_id=department,
        ticket_id=ticket.id if ticket else None,
        contact_id=contact.id if contact else None,
        account_id=(ticket.account_id if ticket else None)  # type: ignore[attr-defined]
        or (contact.account_id if contact else None),  # type: ignore[attr-defined]
        provider_call_id=event.call_id,
        provider_events=[],
    )


def _fold(row: models.Call, event: CallEvent) -> dict[str, Any]:
    """The call's columns after this event (given the events applied before)."""
    seen: list[dict[str, Any]] = list(row.provider_events or [])
    seen.append({"id": event.event_id, "type": event.type})
    types = {e["type"] for e in seen}
    status = row.status
    if _RANK[_STATUS[event.type]] > _RANK[status]:
        status = _STATUS[event.type]
    values: dict[str, Any] = {"provider_events": seen, "status": status}
    at = event.at
    if event.type == "ringing" and at < common.utc(row.started_at):  # type: ignore[operator]
        values["started_at"] = at
    if event.type == "answered":
        values["answered_at"] = at
    if event.type in ("ended", "missed", "voicemail"):
        values["ended_at"] = at
    duration = row.duration_seconds
    if event.duration_seconds is not None:
        duration = event.duration_seconds
        values["duration_seconds"] = duration
    if event.recording_url:
        values["recording_url"] = event.recording_url
    values["outcome"] = _outcome(types, duration)
    return values


async def _apply(settings: Settings, event: CallEvent, number: str) -> Outcome:
    async with uow.transaction():
        row = await models.Call.filter(provider_call_id=event.call_id).select_for_update().first()
        created = row is None
        if row is None:
            row = await _create(settings, event, number)
        elif any(e.get("id") == event.event_id for e in row.provider_events or []):
            return Outcome(row, created=False, duplicate=True)
        before = calls.values_of(row)
        values = _fold(row, event)
        await models.Call.filter(id=row.id).update(**values, updated_at=common.now())
        row = await models.Call.get(id=row.id)
        direct: dict[int, NotificationReason] = {}
        ringing = event.type == "ringing" and row.status is CallStatus.RINGING
        if ringing and row.direction is CallDirection.INBOUND and row.agent_id is not None:  # type: ignore[attr-defined]
            direct[row.agent_id] = NotificationReason.INCOMING_CALL  # type: ignore[attr-defined]
        if created:
            changes = {
                k: activity.jsonable(v)
                for k, v in calls.values_of(row).items()
                if v not in (None, "")
            }
            changes["providerCallId"] = event.call_id
            changes["event"] = event.type
            await common.record(None, "call.logged", row, "Call", changes, direct)
        else:
            changes = activity.diff(before, calls.values_of(row))
            if changes:
                changes["event"] = {"old": None, "new": event.type}
                await common.record(None, "call.updated", row, "Call", changes, direct)
        return Outcome(row, created=created, duplicate=False)


async def receive(settings: Settings, event: CallEvent) -> Outcome:
    """Apply one provider call event (idempotent by call id and event id)."""
    errors = Errors()
    if event.type not in EVENT_TYPES:
        errors.add("type", f"type must be one of {', '.join(EVENT_TYPES)}", ErrorCode.INVALID)
    number = calls.number_field(errors, "from", event.number, settings.telephony_default_region)
    errors.raise_if_any()
    assert number is not None
    try:
        return await _apply(settings, event, number)
    except IntegrityError:
        # Two first events of one call at once: the other created it; apply to that row.
        return await _apply(settings, event, number)
