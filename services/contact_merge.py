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

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import F
from tortoise.models import Model

import models
from services import activity, customer_keys, customers, notifications, uow
from services.auth import Actor
from services.errors import ErrorCode, Errors, ValidationFailed

# The most records merged into one survivor in a single merge (the survivor not counted).
MERGE_MAX = 10

CONTACT_CHOICES = {
    "FIRST_NAME": "first_name",
    "LAST_NAME": "last_name",
    "EMAIL": "email",
    "SECONDARY_EMAIL": "secondary_email",
    "PHONE": "phone",
    "MOBILE": "mobile",
    "DESCRIPTION": "description",
    "ACCOUNT": "account_id",
    "OWNER": "owner_id",
}
ACCOUNT_CHOICES = {
    "NAME": "name",
    "EMAIL": "email",
    "PHONE": "phone",
    "WEBSITE": "website",
    "DESCRIPTION": "description",
    "OWNER": "owner_id",
}


@dataclass(frozen=True)
class _Kind:
    model: type[Model]
    name: str  # "Contact" / "Account"
    key: str  # "contact_id" / "account_id"
    choices: dict[str, str]


CONTACT = _Kind(models.Contact, "Contact", "contact_id", CONTACT_CHOICES)
ACCOUNT = _Kind(models.Account, "Account", "account_id", ACCOUNT_CHOICES)

# Relations handled one by one (links the survivor may already have), not by the generic move.
_SPECIAL = {
    (models.ContactProduct, "contact"),
    (models.AccountProduct, "account"),
    (models.Follow, "contact"),
    (models.Follow, "account"),
    (models.CrmLink, "contact"),
    (models.CrmLink, "account"),
    (models.Ticket, "contact"),
    (models.Ticket, "account"),
}


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


async def hidden_records(actor: Actor, kind: _Kind, ids: list[int]) -> set[int]:
    """The records among `ids` with a ticket in a department the actor is not in."""
    if actor.is_admin:
        return set()
    rows = (
        await models.Ticket.filter(**{f"{kind.key}__in": ids})
        .exclude(department_id__in=list(actor.department_ids))
        .order_by(kind.key)
        .distinct()
        .values_list(kind.key, flat=True)
    )
    return set(rows)


async def _lock(actor: Actor, kind: _Kind, survivor_id: int, merged_ids: list[int]) -> list[Any]:
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


async def _move_generic(kind: _Kind, survivor_id: int, merged_ids: list[int]) -> dict[str, int]:
    """Point every other foreign key to a merged record at the survivor; counts by table."""
    moved: dict[str, int] = {}
    meta = kind.model._meta
    for name in sorted(meta.backward_fk_fields | meta.backward_o2o_fields):
        relation = meta.fields_map[name]
        related: type[Model] = relation.related_model  # type: ignore[attr-defined]
        field = relation.relation_field  # type: ignore[attr-defined]  # e.g. "contact_id"
        fk_name = field.removesuffix("_id")
        if (related, fk_name) in _SPECIAL:
            continue
        uniques = _unique_with(related, fk_name, one_to_one=name in meta.backward_o2o_fields)
        if uniques:
            count = await _move_unique(related, field, uniques, survivor_id, merged_ids)
        else:
            count = await related.filter(**{f"{field}__in": merged_ids}).update(
                **{field: survivor_id}
            )
        if count:
            moved[related._meta.db_table] = count
    return moved


# Rows that name their record by type and id (not a foreign key) but are history, not links:
# they keep naming the merged record; the survivor's timeline finds them by contact/account_id.
_HISTORY = ("Activity", "Notification")


async def _move_subject_rows(kind: _Kind, survivor_id: int, merged_ids: list[int]) -> dict:
    """Rows of any model that names its record by `subject_type` + `subject_id` (comments and
    follows of records, from services.records) move to the survivor, unique links kept once."""
    from tortoise import Tortoise

    moved: dict[str, int] = {}
    for model in Tortoise.apps["models"].values():
        fields_map = model._meta.fields_map
        if model.__name__ in _HISTORY or not {"subject_type", "subject_id"} <= set(fields_map):
            continue
        uniques = [
            tuple(_column(model, f) for f in names if f not in ("subject_type", "subject_id"))
            for names in model._meta.unique_together or ()
            if "subject_id" in names
        ]
        rows = model.filter(subject_type=kind.name)
        if uniques:
            count = await _move_unique(
                model, "subject_id", uniques, survivor_id, merged_ids, scope=rows
            )
        else:
            count = await rows.filter(subject_id__in=merged_ids).update(subject_id=survivor_id)
        if count:
            moved[model._meta.db_table] = count
    return moved


def _column(model: type[Model], name: str) -> str:
    """The column of a field name (a foreign key's `<name>_id`)."""
    field = model._meta.fields_map[name]
    return getattr(field, "source_field", None) or name


def _unique_with(model: type[Model], fk_name: str, *, one_to_one: bool) -> list[tuple[str, ...]]:
    """The other columns of each unique constraint of `model` that includes the foreign key
    (an empty tuple: the key alone is unique, a one-to-one)."""
    if one_to_one:
        return [()]
    return [
        tuple(_column(model, f) for f in names if f != fk_name)
        for names in model._meta.unique_together or ()
        if fk_name in names
    ]


async def _move_unique(
    model: type[Model],
    key: str,
    uniques: list[tuple[str, ...]],
    survivor_id: int,
    merged_ids: list[int],
    *,
    scope: Any = None,
) -> int:
    """Move rows whose foreign key is part of a unique constraint: a row that would collide
    with one the survivor has (or was given) is a duplicate link and goes; how many moved."""
    base = scope if scope is not None else model.all()
    columns = sorted({c for u in uniques for c in u})
    taken: list[set[tuple[Any, ...]]] = [set() for _ in uniques]
    for row in await base.filter(**{key: survivor_id}).values(*columns):
        for i, unique in enumerate(uniques):
            taken[i].add(tuple(row[c] for c in unique))
    moved = 0
    for row in (
        await base.filter(**{f"{key}__in": merged_ids}).order_by("id").values("id", *columns)
    ):
        keys = [tuple(row[c] for c in unique) for unique in uniques]
        if any(k in taken[i] for i, k in enumerate(keys)):
            await model.filter(id=row["id"]).delete()
            continue
        for i, k in enumerate(keys):
            taken[i].add(k)
        await model.filter(id=row["id"]).update(**{key: survivor_id})
        moved += 1
    return moved


async def _move_links(
    link: type[Model], key: str, other: str, survivor_id: int, merged_ids: list[int]
) -> int:
    """Move unique (owner, other) links: the survivor keeps one of each; how many moved."""
    have = set(await link.filter(**{key: survivor_id}).values_list(other, flat=True))
    rows = await link.filter(**{f"{key}__in": merged_ids}).order_by("id")
    moved = 0
    for row in rows:
        value = getattr(row, other)
        if value in have:
            await row.delete()
        else:
            have.add(value)
            await link.filter(id=row.id).update(**{key: survivor_id})
            moved += 1
    return moved


async def _move_follows(kind: _Kind, survivor_id: int, merged_ids: list[int]) -> int:
    """Followers of a merged record follow the survivor (once); how many moved."""
    return await _move_links(models.Follow, kind.key, "agent_id", survivor_id, merged_ids)


async def _move_crm(kind: _Kind, survivor_id: int, merged_ids: list[int]) -> int:
    """The survivor keeps its CRM link, else takes the first merged record's; 1 if moved."""
    if await models.CrmLink.filter(**{kind.key: survivor_id}).exists():
        return 0
    first = await models.CrmLink.filter(**{f"{kind.key}__in": merged_ids}).order_by("id").first()
    if first is None:
        return 0
    await models.CrmLink.filter(id=first.id).update(**{kind.key: survivor_id})
    return 1


async def _move_tickets(
    actor: Actor, kind: _Kind, survivor: Any, merged_ids: list[int]
) -> list[int]:
    """Give the merged records' tickets to the survivor, each with its own history row."""
    tickets = await models.Ticket.filter(**{f"{kind.key}__in": merged_ids}).order_by("id")
    if not tickets:
        return []
    values: dict[str, Any] = {kind.key: survivor.id}
    now = datetime.now(UTC)
    await models.Ticket.filter(id__in=[t.id for t in tickets]).update(
        **values, version=F("version") + 1, updated_at=now
    )
    for ticket in tickets:
        before = {key: getattr(ticket, key) for key in values}
        await activity.record(
            actor=actor,
            kind="ticket.updated",
            subject_type="Ticket",
            subject_id=ticket.id,
            ticket_id=ticket.id,
            contact_id=values.get("contact_id", ticket.contact_id),  # type: ignore[attr-defined]
            account_id=values.get("account_id", ticket.account_id),  # type: ignore[attr-defined]
            department_id=ticket.department_id,  # type: ignore[attr-defined]
            changes=activity.diff(before, values),
        )
    return [t.id for t in tickets]


def _chosen(rows: dict[int, Any], survivor: Any, kind: _Kind, choices: dict[str, int]) -> dict:
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
        before_counts = await _related_counts(spec, [survivor_id, *merged_ids])
        new_values = _chosen(rows, survivor, spec, choices)
        ticket_ids = await _move_tickets(actor, spec, survivor, merged_ids)
        moved = await _move_generic(spec, survivor_id, merged_ids)
        link = models.ContactProduct if spec is CONTACT else models.AccountProduct
        moved["products"] = await _move_links(link, spec.key, "product_id", survivor_id, merged_ids)
        moved["follows"] = await _move_follows(spec, survivor_id, merged_ids)
        moved["crm"] = await _move_crm(spec, survivor_id, merged_ids)
        moved.update(await _move_subject_rows(spec, survivor_id, merged_ids))
        for model in (models.Activity, models.Notification):
            await model.filter(**{f"{spec.key}__in": merged_ids}).update(**{spec.key: survivor_id})
        emails: list[str] = []
        if spec is CONTACT:
            emails = await _remember_emails(survivor, merged, new_values)
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
        after_counts = await _related_counts(spec, [survivor_id])
        _check_nothing_lost(spec, before_counts, after_counts)
        return await spec.model.get(id=survivor_id)


def _summary(spec: _Kind, row: Any) -> dict[str, Any]:
    if spec is CONTACT:
        return {"name": row.name, "email": row.email}
    return {"name": row.name}


async def kind_model_delete(spec: _Kind, ids: list[int]) -> None:
    """Delete the merged records (everything was moved off them)."""
    await spec.model.filter(id__in=ids).delete()


async def _remember_emails(survivor: Any, merged: list[Any], new_values: dict[str, Any]) -> list:
    """Merged contacts' addresses: the survivor's secondary email while that slot is free, and
    aliases (their next email lands on the survivor); the addresses remembered."""
    final_email = new_values.get("email", survivor.email)
    secondary = new_values.get("secondary_email", survivor.secondary_email)
    addresses: list[str] = []
    # The survivor's own email replaced by a chosen one comes first, then the merged ones.
    for address in (
        survivor.email,
        *(a for row in merged for a in (row.email, row.secondary_email)),
    ):
        if address and address != final_email and address not in addresses:
            addresses.append(address)
    if not secondary:
        for address in addresses:
            if address != final_email:
                new_values["secondary_email"] = address
                break
    taken = set(
        await models.ContactEmailAlias.filter(email__in=addresses).values_list("email", flat=True)
    )
    await models.ContactEmailAlias.bulk_create(
        [
            models.ContactEmailAlias(email=address, contact_id=survivor.id)
            for address in addresses
            if address not in taken
        ]
    )
    if final_email:
        await models.ContactEmailAlias.filter(email=final_email).delete()
    return addresses


async def _update_survivor(spec: _Kind, survivor: Any, values: dict[str, Any]) -> None:
    merged = {k: getattr(survivor, k) for k in _key_sources(spec)}
    merged.update({k: v for k, v in values.items() if k in merged})
    keys = (
        customer_keys.contact_keys(**merged)
        if spec is CONTACT
        else customer_keys.account_keys(**merged)
    )
    await spec.model.filter(id=survivor.id).update(**values, **keys, updated_at=datetime.now(UTC))


def _key_sources(spec: _Kind) -> tuple[str, ...]:
    if spec is CONTACT:
        return customer_keys.CONTACT_KEY_SOURCES
    return customer_keys.ACCOUNT_KEY_SOURCES


async def _related_counts(spec: _Kind, ids: list[int]) -> dict[str, int]:
    """Rows hanging off these records, by table (to prove nothing was lost)."""
    counts: dict[str, int] = {}
    meta = spec.model._meta
    for name in sorted(meta.backward_fk_fields | meta.backward_o2o_fields):
        relation = meta.fields_map[name]
        related: type[Model] = relation.related_model  # type: ignore[attr-defined]
        field = relation.relation_field  # type: ignore[attr-defined]
        table = related._meta.db_table
        counts[table] = counts.get(table, 0) + await related.filter(**{f"{field}__in": ids}).count()
    return counts


# Tables whose rows the survivor may already have (kept once): fewer after, never more.
_DEDUPED = {"follow", "contact_product", "account_product", "crm_link", "contact_email_alias"}


def _deduped_tables(spec: _Kind) -> set[str]:
    """Tables whose links to the records are unique: the survivor keeps each link once."""
    out = set(_DEDUPED)
    meta = spec.model._meta
    for name in meta.backward_fk_fields | meta.backward_o2o_fields:
        relation = meta.fields_map[name]
        related: type[Model] = relation.related_model  # type: ignore[attr-defined]
        fk_name = relation.relation_field.removesuffix("_id")  # type: ignore[attr-defined]
        if _unique_with(related, fk_name, one_to_one=name in meta.backward_o2o_fields):
            out.add(related._meta.db_table)
    return out


def _check_nothing_lost(spec: _Kind, before: dict[str, int], after: dict[str, int]) -> None:
    """Every row that hung off the records hangs off the survivor now (links kept once)."""
    deduped = _deduped_tables(spec)
    for table, count in before.items():
        if table in deduped:
            continue
        if after.get(table, 0) != count:
            raise RuntimeError(f"merge would lose rows of {table}: {count} -> {after.get(table)}")
