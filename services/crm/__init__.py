"""CRM links of contacts and accounts (CUS-6): map a record to one in the CRM, pull its
latest version on demand, unlink. The record is fetched before the transaction (no network
I/O while it is open), then stored with an Activity row. The connector is services.crm.hubspot.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from deskql import models
from deskql.services import activity, uow, validation
from deskql.services.auth import Actor
from deskql.services.contact_merge import (
    ACCOUNT,
    CONTACT,
    hidden_records,  # the merge's rule: tickets visible
)
from deskql.services.crm.hubspot import CrmError, CrmRecord, fetch
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.settings import Settings

EXTERNAL_ID_MAX = 100

__all__ = ["CrmError", "CrmRecord", "link", "refresh", "unlink", "links"]


def _spec(kind: str) -> Any:
    return CONTACT if kind == "contact" else ACCOUNT


async def _require(actor: Actor, kind: str, pk: int) -> Any:
    spec = _spec(kind)
    row = await spec.model.filter(id=pk).first()
    if row is None or await hidden_records(actor, spec, [pk]):
        raise ValidationFailed.one("id", f"no such {kind}", ErrorCode.NOT_FOUND)
    return row


async def _pull(settings: Settings, kind: str, external_id: str, field: str) -> CrmRecord:
    try:
        return await fetch(settings, kind=kind, external_id=external_id)
    except CrmError as exc:
        raise ValidationFailed.one(field, str(exc), exc.code) from None


async def _store(actor: Actor, kind: str, pk: int, record: CrmRecord, *, action: str) -> Any:
    spec = _spec(kind)
    now = datetime.now(UTC)
    async with uow.transaction():
        row = await spec.model.filter(id=pk).select_for_update().first()
        if row is None:
            raise ValidationFailed.one("id", f"no such {kind}", ErrorCode.NOT_FOUND)
        link = await models.CrmLink.filter(**{spec.key: pk}).first()
        before = dict(link.fields_json) if link else {}
        values = {
            "external_id": record.external_id,
            "url": record.url,
            "fields_json": record.fields,
            "remote_updated_at": record.updated_at,
            "fetched_at": now,
        }
        if link is None:
            link = await models.CrmLink.create(**{spec.key: pk}, **values)
        else:
            await models.CrmLink.filter(id=link.id).update(**values)
            link = await models.CrmLink.get(id=link.id)
        # [name, old, new] triples: CRM property names are the CRM's, not our id keys.
        changed = [
            [name, change["old"], change["new"]]
            for name, change in activity.diff(before, record.fields).items()
        ]
        await activity.record(
            actor=actor,
            kind=f"{kind}.crm_{action}",
            subject_type=spec.name,
            subject_id=pk,
            contact_id=pk if kind == "contact" else None,
            account_id=pk if kind == "account" else getattr(row, "account_id", None),
            changes={"crmId": record.external_id, "fields": changed},
        )
    return link


async def link(
    actor: Actor, settings: Settings, *, kind: str, pk: int, external_id: str
) -> models.CrmLink:
    """Map a contact or account to a CRM record, fetched now to check it exists (CUS-6)."""
    errors = Errors()
    clean = validation.text(errors, "crmId", external_id, max_length=EXTERNAL_ID_MAX, required=True)
    errors.raise_if_any()
    await _require(actor, kind, pk)
    record = await _pull(settings, kind, clean or "", "crmId")
    return await _store(actor, kind, pk, record, action="linked")


async def refresh(actor: Actor, settings: Settings, *, kind: str, pk: int) -> models.CrmLink:
    """Pull the latest version of the mapped CRM record (CUS-6)."""
    await _require(actor, kind, pk)
    current = await models.CrmLink.filter(**{_spec(kind).key: pk}).first()
    if current is None:
        raise ValidationFailed.one(
            "id", f"the {kind} is not mapped to a CRM record", ErrorCode.INVALID_STATE
        )
    record = await _pull(settings, kind, current.external_id, "id")
    return await _store(actor, kind, pk, record, action="refreshed")


async def unlink(actor: Actor, *, kind: str, pk: int) -> None:
    """Remove the CRM mapping of a contact or account."""
    spec = _spec(kind)
    await _require(actor, kind, pk)
    async with uow.transaction():
        current = await models.CrmLink.filter(**{spec.key: pk}).select_for_update().first()
        if current is None:
            raise ValidationFailed.one(
                "id", f"the {kind} is not mapped to a CRM record", ErrorCode.INVALID_STATE
            )
        await current.delete()
        await activity.record(
            actor=actor,
            kind=f"{kind}.crm_unlinked",
            subject_type=spec.name,
            subject_id=pk,
            contact_id=pk if kind == "contact" else None,
            account_id=pk if kind == "account" else None,
            changes={"crmId": current.external_id},
        )


async def links(*, kind: str, ids: list[int]) -> dict[int, models.CrmLink]:
    """The CRM links of these records, by record id (one statement)."""
    key = _spec(kind).key
    rows = await models.CrmLink.filter(**{f"{key}__in": ids})
    return {getattr(row, key): row for row in rows}
