"""Calls (ACT-1, ACT-2): logged by hand (`create_call`) or by the telephony bridge
(`services.activities.intake`), linked to a ticket, a contact or an account, in one department
(ORG-5). Numbers are stored in E.164."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.queryset import QuerySet

from deskql import models
from deskql.models.activities import CallDirection, CallOutcome, CallStatus
from deskql.services import activity, records, uow, validation
from deskql.services.activities import common, phones
from deskql.services.activities.common import UNCHANGED
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed

MAX_DURATION = 7 * 24 * 3600
SORTS = {"STARTED_AT": "started_at", "DURATION": "duration_seconds", "CREATED_AT": "created_at"}


def values_of(row: models.Call) -> dict[str, Any]:
    """The fields an Activity diff compares."""
    return {
        "direction": row.direction,
        "number": row.number,
        "status": row.status,
        "outcome": row.outcome,
        "started_at": row.started_at,
        "duration_seconds": row.duration_seconds,
        "agent_id": row.agent_id,  # type: ignore[attr-defined]
        "recording_url": row.recording_url,
        "notes": row.notes,
        "ticket_id": row.ticket_id,  # type: ignore[attr-defined]
        "contact_id": row.contact_id,  # type: ignore[attr-defined]
        "account_id": row.account_id,  # type: ignore[attr-defined]
    }


def number_field(errors: Errors, field: str, raw: str | None, region: str) -> str | None:
    """A phone number in E.164, or an INVALID error."""
    if raw is None or not raw.strip():
        errors.add(field, "a phone number is required", ErrorCode.REQUIRED)
        return None
    number = phones.to_e164(raw, region)
    if number is None:
        errors.add(field, f"{raw[:40]!r} is not a valid phone number", ErrorCode.INVALID)
    return number


def _duration(errors: Errors, value: int | None) -> int:
    if value is None:
        return 0
    if value < 0 or value > MAX_DURATION:
        errors.add("durationSeconds", "duration must be 0 to 7 days", ErrorCode.INVALID)
        return 0
    return value


async def create_call(
    actor: Actor,
    *,
    direction: CallDirection,
    number: str,
    started_at: datetime | None = None,
    duration_seconds: int | None = None,
    agent_id: int | None = None,
    outcome: CallOutcome | None = CallOutcome.COMPLETED,
    recording_url: str = "",
    notes: str = "",
    department_id: int | None = None,
    ticket_id: int | None = None,
    contact_id: int | None = None,
    account_id: int | None = None,
    region: str = "US",
) -> models.Call:
    """Log a call by hand (agent: the actor unless another is given)."""
    errors = Errors()
    e164 = number_field(errors, "number", number, region)
    duration = _duration(errors, duration_seconds)
    url = validation.url(errors, "recordingUrl", recording_url) or ""
    text = common.text_field(errors, "notes", notes, max_length=common.TEXT_MAX) or ""
    links = await common.resolve_links(
        actor,
        errors,
        department_id=department_id,
        ticket_id=ticket_id,
        contact_id=contact_id,
        account_id=account_id,
    )
    agent = actor.agent_id if agent_id is None else agent_id
    await common.check_agents(actor, errors, "agentId", [agent], links and links.department_id)
    errors.raise_if_any()
    assert links is not None
    async with uow.transaction():
        row = await models.Call.create(
            direction=direction,
            number=e164,
            status=CallStatus.ENDED,
            outcome=outcome,
            started_at=common.utc(started_at) or common.now(),
            duration_seconds=duration,
            agent_id=agent,
            recording_url=url,
            notes=text,
            created_by_id=actor.agent_id,
            **links.columns(),
        )
        await common.record(
            actor,
            "call.logged",
            row,
            "Call",
            {k: activity.jsonable(v) for k, v in values_of(row).items() if v not in (None, "")},
        )
    return row


def visible_calls(actor: Actor) -> QuerySet[models.Call]:
    """Calls of the actor's departments (all for administrators)."""
    return common.scoped(actor, models.Call.all())


async def require_call(actor: Actor, call_id: int, field: str = "id") -> models.Call:
    """A call the actor may see, else NOT_FOUND."""
    row = await visible_calls(actor).filter(id=call_id).first()
    if row is None:
        raise ValidationFailed.one(field, "no such call", ErrorCode.NOT_FOUND)
    return row


async def update_call(
    actor: Actor,
    *,
    call_id: int,
    outcome: Any = UNCHANGED,
    duration_seconds: Any = UNCHANGED,
    recording_url: Any = UNCHANGED,
    notes: Any = UNCHANGED,
    ticket_id: Any = UNCHANGED,
    contact_id: Any = UNCHANGED,
    account_id: Any = UNCHANGED,
) -> models.Call:
    """Change a call's notes, outcome, duration, recording or links (those given)."""
    row = await require_call(actor, call_id)
    before = values_of(row)
    errors = Errors()
    values: dict[str, Any] = {}
    if outcome is not UNCHANGED:
        values["outcome"] = outcome
    if duration_seconds is not UNCHANGED and duration_seconds is not None:
        values["duration_seconds"] = _duration(errors, duration_seconds)
    if recording_url is not UNCHANGED:
        values["recording_url"] = validation.url(errors, "recordingUrl", recording_url) or ""
    if notes is not UNCHANGED:
        values["notes"] = (
            common.text_field(errors, "notes", notes, max_length=common.TEXT_MAX) or ""
        )
    if any(v is not UNCHANGED for v in (ticket_id, contact_id, account_id)):
        new_ticket = before["ticket_id"] if ticket_id is UNCHANGED else ticket_id
        links = await common.resolve_links(
            actor,
            errors,
            department_id=None if new_ticket is not None else row.department_id,  # type: ignore[attr-defined]
            ticket_id=new_ticket,
            contact_id=before["contact_id"] if contact_id is UNCHANGED else contact_id,
            account_id=before["account_id"] if account_id is UNCHANGED else account_id,
        )
        if links is not None:
            values.update(links.columns())
    errors.raise_if_any()
    async with uow.transaction():
        if values:
            await models.Call.filter(id=row.id).update(**values, updated_at=common.now())
        row = await models.Call.get(id=row.id)
        changes = activity.diff(before, values_of(row))
        if changes:
            await common.record(actor, "call.updated", row, "Call", changes)
    return row


async def delete_call(actor: Actor, *, call_id: int) -> models.Call:
    """Delete a call log (its agent, its creator or an administrator)."""
    row = await require_call(actor, call_id)
    allowed = {row.agent_id, row.created_by_id}  # type: ignore[attr-defined]
    if not actor.is_admin and actor.agent_id not in allowed:
        raise ValidationFailed.one(
            "id",
            "only its agent, its creator or an administrator may delete it",
            ErrorCode.NOT_OWNER,
        )
    async with uow.transaction():
        await common.record(
            actor, "call.deleted", row, "Call", {"number": row.number, "callId": row.id}
        )
        await records.forget_record("Call", row.id)
        await models.Call.filter(id=row.id).delete()
    return row


def list_calls(
    actor: Actor,
    *,
    agent_id: int | None = None,
    direction: CallDirection | None = None,
    outcome: CallOutcome | None = None,
    started_before: datetime | None = None,
    started_after: datetime | None = None,
    ticket_id: int | None = None,
    contact_id: int | None = None,
    account_id: int | None = None,
    sort: str = "STARTED_AT",
    descending: bool = True,
) -> QuerySet[models.Call]:
    """The calls the actor may see, filtered and sorted (ties by id)."""
    qs = common.link_filter(
        visible_calls(actor), ticket_id=ticket_id, contact_id=contact_id, account_id=account_id
    )
    if agent_id is not None:
        qs = qs.filter(agent_id=agent_id)
    if direction is not None:
        qs = qs.filter(direction=direction)
    if outcome is not None:
        qs = qs.filter(outcome=outcome)
    if started_before is not None:
        qs = qs.filter(started_at__lt=common.utc(started_before))
    if started_after is not None:
        qs = qs.filter(started_at__gte=common.utc(started_after))
    sign = "-" if descending else ""
    return qs.order_by(f"{sign}{SORTS[sort]}", f"{sign}id")
