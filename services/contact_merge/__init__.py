"""Merging duplicate contacts or accounts into one survivor (CUS-5).

Everything that hangs off a merged record moves to the survivor in one transaction: every row
of every model with a foreign key to it (tickets, thread authors, tasks, follows, product
links, CRM link, merged addresses, and whatever later features link: found through the ORM's
relations, so a new one is covered), plus the denormalised links of Activity and Notification
rows so the survivor's timeline keeps its history. Links the survivor already has (the same
product, an agent following both) are kept once. The chosen field values are kept; a merged
contact's addresses become the survivor's secondary email while that slot is free, and are
remembered (models.ContactEmailAlias) so their next email lands on the survivor.

Concurrency: the records are locked in id order (SELECT ... FOR UPDATE on PostgreSQL) before
anything is read; a second merge of the same records waits, then finds the merged ones gone
and is refused with NOT_FOUND, so nothing is moved twice or lost.

Access: contacts and accounts are organisation-wide, but their tickets are not (ORG-5). An
agent may merge only records whose tickets are all in departments they work in; otherwise the
record is NOT_FOUND for them, as a ticket of another department would be.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from deskql import models
from deskql.services import activity, customer_keys, customers, notifications, uow
from deskql.services.auth import Actor
from deskql.services.contact_merge import relations
from deskql.services.contact_merge.emails import remember_emails
from deskql.services.contact_merge.kinds import ACCOUNT, CONTACT, MERGE_MAX, Kind, hidden_records
from deskql.services.errors import ErrorCode, Errors, ValidationFailed

__all__ = ["ACCOUNT", "CONTACT", "MERGE_MAX", "Kind", "hidden_records", "merge"]


def _check_ids(survivor_id: int, merged_ids: list[int], field_choices: dict[str, int]) -> None:
    errors = Errors()
    if not merged_ids:
        errors.add("mergedIds", "give at least one record to merge", ErrorCode.REQUIRED)
    elif merged_ids == [survivor_id]:
        errors.add("mergedIds", "a record cannot be merged into itself", ErrorCode.INVALID)
    elif survivor_id in merged_ids:
        errors.add("mergedIds", "the survivor is in the merged list", ErrorCode.INVALID)
    elif len(set(merged_ids)) != len(merged_ids):
        errors.add("mergedIds", "a record is listed twice", ErrorCode.INVALID)
    if len(set(merged_ids)) > MERGE_MAX:
        errors.add(
            "mergedIds",
            f"at most {MERGE_MAX} records can be merged at once, got {len(set(merged_ids))}",
            ErrorCode.LIMIT_EXCEEDED,
        )
    for field, source in field_choices.items():
        if source != survivor_id and source not in merged_ids:
            errors.add(
                "fieldChoices",
                f"the value of {field} must come from the survivor or a merged record",
                ErrorCode.INVALID,
            )
    errors.raise_if_any()


async def _lock(actor: Actor, kind: Kind, survivor_id: int, merged_ids: list[int]) -> list[Any]:
    """The records, locked in id order; NOT_FOUND when one is gone or hidden from the actor."""
    everyone = sorted({survivor_id, *merged_ids})
    rows = await kind.model.filter(id__in=everyone).order_by("id").select_for_update()
    found = {row.id for row in rows}
    hidden = await hidden_records(actor, kind, everyone)
    errors = Errors()
    if survivor_id not in found or survivor_id in hidden:
        errors.add("survivorId", f"no such {kind.name.lower()}", ErrorCode.NOT_FOUND)
    missing = [pk for pk in merged_ids if pk not in found or pk in hidden]
    if missing:
        errors.add(
            "mergedIds",
            f"no such {kind.name.lower()} ({len(missing)} of {len(merged_ids)} ids)",
            ErrorCode.NOT_FOUND,
        )
    errors.raise_if_any()
    return rows


def _chosen(rows: dict[int, Any], survivor: Any, kind: Kind, choices: dict[str, int]) -> dict:
    """The survivor's column values after the merge: its own, but the chosen ones."""
    out: dict[str, Any] = {}
    for field, source in choices.items():
        column = kind.choices[field]
        value = getattr(rows[source], column)
        if value != getattr(survivor, column):
            out[column] = value
    return out


async def merge(
    actor: Actor,
    *,
    kind: str,
    survivor_id: int,
    merged_ids: list[int],
    field_choices: dict[str, int] | None = None,
) -> Any:
    """Merge contacts or accounts (kind "contact"/"account") into the survivor (CUS-5)."""
    spec = CONTACT if kind == "contact" else ACCOUNT
    choices = dict(field_choices or {})
    unknown = set(choices) - set(spec.choices)
    if unknown:
        raise ValidationFailed.one(
            "fieldChoices", f"not a {spec.name} field: {sorted(unknown)}", ErrorCode.INVALID
        )
    _check_ids(survivor_id, merged_ids, choices)
    async with uow.transaction():
        rows = {row.id: row for row in await _lock(actor, spec, survivor_id, merged_ids)}
        survivor = rows[survivor_id]
        merged = [rows[pk] for pk in merged_ids]
        before_counts = await relations.related_counts(spec, [survivor_id, *merged_ids])
        new_values = _chosen(rows, survivor, spec, choices)
        ticket_ids = await relations.move_tickets(actor, spec, survivor, merged_ids)
        moved = await relations.move_generic(spec, survivor_id, merged_ids)
        link = models.ContactProduct if spec is CONTACT else models.AccountProduct
        moved["products"] = await relations.move_links(
            link, spec.key, "product_id", survivor_id, merged_ids
        )
        moved["follows"] = await relations.move_follows(spec, survivor_id, merged_ids)
        moved["crm"] = await relations.move_crm(spec, survivor_id, merged_ids)
        moved.update(await relations.move_subject_rows(spec, survivor_id, merged_ids))
        for model in (models.Activity, models.Notification):
            await model.filter(**{f"{spec.key}__in": merged_ids}).update(**{spec.key: survivor_id})
        emails: list[str] = []
        if spec is CONTACT:
            emails = await remember_emails(survivor, merged, new_values)
        await kind_model_delete(spec, merged_ids)
        if spec is CONTACT:
            customers.forget_contacts()
        notifications.forget_followers()
        if new_values:
            await _update_survivor(spec, survivor, new_values)
        changes: dict[str, Any] = {
            f"{spec.name.lower()}Ids": merged_ids,
            "ticketIds": ticket_ids,
            "moved": {k: v for k, v in moved.items() if v},
            "fields": activity.diff({k: getattr(survivor, k) for k in new_values}, new_values),
            "merged": [_summary(spec, row) for row in merged],
        }
        if emails:
            changes["emails"] = emails
        await activity.record(
            actor=actor,
            kind=f"{spec.name.lower()}.merged",
            subject_type=spec.name,
            subject_id=survivor_id,
            contact_id=survivor_id if spec is CONTACT else None,
            account_id=survivor_id if spec is ACCOUNT else survivor.account_id,
            changes=changes,
        )
        after_counts = await relations.related_counts(spec, [survivor_id])
        relations.check_nothing_lost(spec, before_counts, after_counts)
        return await spec.model.get(id=survivor_id)


def _summary(spec: Kind, row: Any) -> dict[str, Any]:
    if spec is CONTACT:
        return {"name": row.name, "email": row.email}
    return {"name": row.name}


async def kind_model_delete(spec: Kind, ids: list[int]) -> None:
    """Delete the merged records (everything was moved off them)."""
    await spec.model.filter(id__in=ids).delete()


async def _update_survivor(spec: Kind, survivor: Any, values: dict[str, Any]) -> None:
    merged = {k: getattr(survivor, k) for k in _key_sources(spec)}
    merged.update({k: v for k, v in values.items() if k in merged})
    keys = (
        customer_keys.contact_keys(**merged)
        if spec is CONTACT
        else customer_keys.account_keys(**merged)
    )
    await spec.model.filter(id=survivor.id).update(**values, **keys, updated_at=datetime.now(UTC))


def _key_sources(spec: Kind) -> tuple[str, ...]:
    if spec is CONTACT:
        return customer_keys.CONTACT_KEY_SOURCES
    return customer_keys.ACCOUNT_KEY_SOURCES
