"""Products: reading, creating, updating, deleting and listing them (CUS-9)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.functions import Lower
from tortoise.queryset import QuerySet

from deskql import models
from deskql.services import activity, uow
from deskql.services.auth import Actor
from deskql.services.customers.common import _clean_common, _order, _record_side_effect, _summary
from deskql.services.errors import ErrorCode, Errors, ValidationFailed

PRODUCT_UPDATABLE = ("name", "code", "description")


async def _check_product_name(name: str | None, *, exclude_id: int | None = None) -> None:
    if not name:
        return
    qs = models.Product.filter(name__iexact=name)
    if exclude_id is not None:
        qs = qs.exclude(id=exclude_id)
    if await qs.exists():
        raise ValidationFailed.one("name", f"a product named {name!r} exists", ErrorCode.DUPLICATE)


# ---------------------------------------------------------------------------------------------
# Products (CUS-9)
# ---------------------------------------------------------------------------------------------


async def get_product(actor: Actor, *, product_id: int) -> models.Product | None:
    """The product, or None when it does not exist."""
    return await models.Product.filter(id=product_id).first()


async def _require_product(product_id: int) -> models.Product:
    product = await models.Product.filter(id=product_id).first()
    if product is None:
        raise ValidationFailed.one("id", "no such product", ErrorCode.NOT_FOUND)
    return product


async def create_product(
    actor: Actor, *, name: str, code: str = "", description: str = ""
) -> models.Product:
    """Add a product to the catalogue; names are unique regardless of case (CUS-9)."""
    errors = Errors()
    values = _clean_common(errors, {"name": name, "code": code, "description": description})
    errors.raise_if_any()
    await _check_product_name(values["name"])
    try:
        async with uow.transaction():
            product = await models.Product.create(**values)
            await activity.record(
                actor=actor,
                kind="product.created",
                subject_type="Product",
                subject_id=product.id,
                changes=_summary(values),
            )
    except IntegrityError:
        raise ValidationFailed.one(
            "name", f"a product named {values['name']!r} exists", ErrorCode.DUPLICATE
        ) from None
    return product


async def update_product(
    actor: Actor, *, product_id: int, changes: dict[str, Any]
) -> models.Product:
    """Change the given fields of a product."""
    unknown = set(changes) - set(PRODUCT_UPDATABLE)
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    product = await _require_product(product_id)
    errors = Errors()
    values = _clean_common(errors, changes)
    errors.raise_if_any()
    if "name" in values:
        await _check_product_name(values["name"], exclude_id=product.id)
    try:
        async with uow.transaction():
            row = await models.Product.filter(id=product.id).select_for_update().first()
            if row is None:
                raise ValidationFailed.one("id", "no such product", ErrorCode.NOT_FOUND)
            changed = activity.diff({key: getattr(row, key) for key in values}, values)
            if not changed:
                return row
            await models.Product.filter(id=row.id).update(**values)
            await activity.record(
                actor=actor,
                kind="product.updated",
                subject_type="Product",
                subject_id=row.id,
                changes=changed,
            )
            fresh = await models.Product.get(id=row.id)
    except IntegrityError:
        raise ValidationFailed.one(
            "name", f"a product named {values.get('name')!r} exists", ErrorCode.DUPLICATE
        ) from None
    return fresh


async def delete_product(actor: Actor, *, product_id: int) -> models.Product:
    """Delete a product; the contacts, accounts and tickets that used it lose the link."""
    product = await _require_product(product_id)
    async with uow.transaction():
        row = await models.Product.filter(id=product.id).select_for_update().first()
        if row is None:
            raise ValidationFailed.one("id", "no such product", ErrorCode.NOT_FOUND)
        now = datetime.now(UTC)
        tickets = await models.Ticket.filter(product_id=row.id)
        contacts = await models.Contact.filter(product_links__product_id=row.id)
        accounts = await models.Account.filter(product_links__product_id=row.id)
        held: dict[tuple[str, int], list[int]] = {}
        for owners, link, key in (
            (contacts, models.ContactProduct, "contact_id"),
            (accounts, models.AccountProduct, "account_id"),
        ):
            pairs = await link.filter(**{f"{key}__in": [o.id for o in owners]}).values_list(
                key, "product_id"
            )
            for owner_id, pk in sorted(pairs):
                held.setdefault((key, owner_id), []).append(pk)
        await models.Ticket.filter(product_id=row.id).update(
            product_id=None, version=F("version") + 1, updated_at=now
        )
        await models.ContactProduct.filter(product_id=row.id).delete()
        await models.AccountProduct.filter(product_id=row.id).delete()
        for ticket in tickets:
            await _record_side_effect(
                actor,
                kind="ticket.updated",
                row=ticket,
                changes={"product_id": {"old": row.id, "new": None}},
            )
        for item in (*contacts, *accounts):
            name = type(item).__name__.lower()
            old = held.get((f"{name}_id", item.id), [])
            await _record_side_effect(
                actor,
                kind=f"{name}.updated",
                row=item,
                changes={"product_ids": {"old": old, "new": [p for p in old if p != row.id]}},
            )
        await activity.record(
            actor=actor,
            kind="product.deleted",
            subject_type="Product",
            subject_id=row.id,
            changes={
                "name": row.name,
                "ticketsUnlinked": len(tickets),
                "contactsUnlinked": len(contacts),
                "accountsUnlinked": len(accounts),
            },
        )
        await row.delete()
    return row


def list_products(
    actor: Actor, *, text: str | None = None, sort: str = "NAME", desc: bool = False
) -> QuerySet[models.Product]:
    """Products whose name or code contains every word of `text`, sorted by name."""
    qs = models.Product.all()
    for word in (text or "").split():
        qs = qs.filter(Q(name__icontains=word) | Q(code__icontains=word))
    qs = qs.annotate(name_lower=Lower("name"))
    return _order(qs, {"NAME": ("name_lower",)}[sort], desc)
