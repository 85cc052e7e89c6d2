"""Click-to-dial (ACT-2) and the agent's telephony profile (extension, phone number).

`dial` asks the PBX (channels.telephony.ari) to ring the agent's extension and then the
customer, with no transaction open; only when the PBX accepts is the OUTBOUND call logged
(RINGING, named by the PBX's channel id so that its events update the same row)."""

from __future__ import annotations

from deskql import models
from deskql.channels.telephony import ari
from deskql.models.activities import CallDirection, CallStatus
from deskql.services import activity, uow
from deskql.services.activities import calls, common, phones
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.settings import Settings

EXTENSION_CHARS = set("0123456789*#")


def ari_config(settings: Settings) -> ari.AriConfig | None:
    """The ARI settings, or None when click-to-dial is not configured."""
    if not settings.ari_url:
        return None
    return ari.AriConfig(
        url=settings.ari_url,
        user=settings.ari_user,
        password=settings.ari_password,
        app=settings.ari_app,
        endpoint=settings.ari_endpoint,
        context=settings.ari_context,
        caller_id=settings.ari_caller_id,
        timeout=float(settings.ari_timeout_seconds),
    )


async def dial(
    actor: Actor,
    settings: Settings,
    *,
    contact_id: int | None = None,
    number: str | None = None,
    ticket_id: int | None = None,
    department_id: int | None = None,
) -> models.Call:
    """Ring the actor's extension, then the contact's (or the given) number; log the call."""
    errors = Errors()
    if (contact_id is None) == (number is None):
        raise ValidationFailed.one(
            None, "give contactId or number (one of them)", ErrorCode.INVALID
        )
    region = settings.telephony_default_region
    contact = None
    e164: str | None = None
    if contact_id is not None:
        contact = await models.Contact.filter(id=contact_id).first()
        if contact is None:
            raise ValidationFailed.one("contactId", "no such contact", ErrorCode.NOT_FOUND)
        e164 = phones.to_e164(contact.phone, region) or phones.to_e164(contact.mobile, region)
        if e164 is None:
            raise ValidationFailed.one(
                "contactId", "the contact has no valid phone or mobile number", ErrorCode.INVALID
            )
    else:
        e164 = calls.number_field(errors, "number", number, region)
    links = await common.resolve_links(
        actor,
        errors,
        department_id=department_id,
        ticket_id=ticket_id,
        contact_id=contact_id,
        account_id=None,
        require_link=False,
    )
    agent = await models.Agent.get(id=actor.agent_id)
    if not agent.extension:
        errors.add(None, "set your extension in your profile first", ErrorCode.INVALID_STATE)
    config = ari_config(settings)
    if config is None:
        errors.add(
            None, "click-to-dial is not configured (DESKQL_ARI_URL)", ErrorCode.PBX_UNAVAILABLE
        )
    errors.raise_if_any()
    assert links is not None and e164 is not None and config is not None
    try:
        channel = await ari.originate(
            config,
            extension=agent.extension,
            number=e164,
            variables={"DESKQL_AGENT": str(agent.id)},
        )
    except ari.DialFailed as exc:
        code = ErrorCode.PBX_REFUSED if exc.refused else ErrorCode.PBX_UNAVAILABLE
        raise ValidationFailed.one(None, str(exc), code) from None
    async with uow.transaction():
        account_id = contact.account_id if contact is not None else None  # type: ignore[attr-defined]
        columns = links.columns()
        if columns["account_id"] is None:
            columns["account_id"] = account_id
        row = await models.Call.create(
            direction=CallDirection.OUTBOUND,
            number=e164,
            status=CallStatus.RINGING,
            started_at=common.now(),
            agent_id=agent.id,
            provider_call_id=str(channel["id"])[:128],
            provider_events=[],
            created_by_id=actor.agent_id,
            **columns,
        )
        changes = {
            k: activity.jsonable(v) for k, v in calls.values_of(row).items() if v not in (None, "")
        }
        changes["providerCallId"] = row.provider_call_id
        await common.record(actor, "call.dialled", row, "Call", changes)
    return row


async def update_telephony_profile(
    actor: Actor,
    settings: Settings,
    *,
    agent_id: int | None = None,
    extension: str | None = None,
    phone_number: str | None = None,
) -> models.Agent:
    """Set an agent's extension and phone number (their own; administrators anyone's)."""
    target = actor.agent_id if agent_id is None else agent_id
    if target != actor.agent_id and not actor.is_admin:
        raise ValidationFailed.one(
            "agentId", "only administrators may change another agent", ErrorCode.NOT_OWNER
        )
    agent = await models.Agent.filter(id=target).first()
    if agent is None:
        raise ValidationFailed.one("agentId", "no such agent", ErrorCode.NOT_FOUND)
    errors = Errors()
    values: dict[str, str] = {}
    if extension is not None:
        ext = extension.strip()
        if len(ext) > 20 or not set(ext) <= EXTENSION_CHARS:
            errors.add("extension", "an extension is up to 20 digits, * or #", ErrorCode.INVALID)
        elif ext and await models.Agent.filter(extension=ext).exclude(id=target).exists():
            errors.add(
                "extension", f"extension {ext} belongs to another agent", ErrorCode.DUPLICATE
            )
        values["extension"] = ext
    if phone_number is not None:
        if phone_number.strip():
            values["phone_number"] = (
                calls.number_field(
                    errors, "phoneNumber", phone_number, settings.telephony_default_region
                )
                or ""
            )
        else:
            values["phone_number"] = ""
    errors.raise_if_any()
    before = {"extension": agent.extension, "phone_number": agent.phone_number}
    async with uow.transaction():
        await models.Agent.filter(id=target).update(**values)
        agent = await models.Agent.get(id=target)
        after = {"extension": agent.extension, "phone_number": agent.phone_number}
        changes = activity.diff(before, after)
        if changes:
            await activity.record(
                actor=actor,
                kind="agent.telephony_updated",
                subject_type="Agent",
                subject_id=agent.id,
                changes=changes,
            )
    return agent
