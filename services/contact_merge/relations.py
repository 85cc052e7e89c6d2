"""Moving what hangs off merged records to the survivor: named relations (tickets, product
links, follows, CRM link), every other foreign key found through the ORM (links under a
unique constraint kept once), rows naming a record by subject_type/subject_id, and the count
of every related row before and after, to prove nothing was lost."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import F
from tortoise.models import Model

from deskql import models
from deskql.services import activity
from deskql.services.auth import Actor
from deskql.services.contact_merge.kinds import Kind

# Relations handled one by one (links the survivor may already have), not by the generic move.
SPECIAL = {
    (models.ContactProduct, "contact"),
    (models.AccountProduct, "account"),
    (models.Follow, "contact"),
    (models.Follow, "account"),
    (models.CrmLink, "contact"),
    (models.CrmLink, "account"),
    (models.Ticket, "contact"),
    (models.Ticket, "account"),
}


async def move_generic(kind: Kind, survivor_id: int, merged_ids: list[int]) -> dict[str, int]:
    """Point every other foreign key to a merged record at the survivor; counts by table."""
    moved: dict[str, int] = {}
    meta = kind.model._meta
    for name in sorted(meta.backward_fk_fields | meta.backward_o2o_fields):
        relation = meta.fields_map[name]
        related: type[Model] = relation.related_model  # type: ignore[attr-defined]
        field = relation.relation_field  # type: ignore[attr-defined]  # e.g. "contact_id"
        fk_name = field.removesuffix("_id")
        if (related, fk_name) in SPECIAL:
            continue
        uniques = _unique_with(related, fk_name, one_to_one=name in meta.backward_o2o_fields)
        if uniques:
            count = await move_unique(related, field, uniques, survivor_id, merged_ids)
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


async def move_subject_rows(kind: Kind, survivor_id: int, merged_ids: list[int]) -> dict:
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
            count = await move_unique(
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


async def move_unique(
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


async def move_links(
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


async def move_follows(kind: Kind, survivor_id: int, merged_ids: list[int]) -> int:
    """Followers of a merged record follow the survivor (once); how many moved."""
    return await move_links(models.Follow, kind.key, "agent_id", survivor_id, merged_ids)


async def move_crm(kind: Kind, survivor_id: int, merged_ids: list[int]) -> int:
    """The survivor keeps its CRM link, else takes the first merged record's; 1 if moved."""
    if await models.CrmLink.filter(**{kind.key: survivor_id}).exists():
        return 0
    first = await models.CrmLink.filter(**{f"{kind.key}__in": merged_ids}).order_by("id").first()
    if first is None:
        return 0
    await models.CrmLink.filter(id=first.id).update(**{kind.key: survivor_id})
    return 1


async def move_tickets(actor: Actor, kind: Kind, survivor: Any, merged_ids: list[int]) -> list[int]:
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


async def related_counts(spec: Kind, ids: list[int]) -> dict[str, int]:
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


def deduped_tables(spec: Kind) -> set[str]:
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


def check_nothing_lost(spec: Kind, before: dict[str, int], after: dict[str, int]) -> None:
    """Every row that hung off the records hangs off the survivor now (links kept once)."""
    deduped = deduped_tables(spec)
    for table, count in before.items():
        if table in deduped:
            continue
        if after.get(table, 0) != count:
            raise RuntimeError(f"merge would lose rows of {table}: {count} -> {after.get(table)}")
