"""Accounts: reading, creating, updating, deleting and listing them (CUS-2)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.functions import Lower
from tortoise.queryset import QuerySet

from deskql import models
from deskql.services import activity, customer_keys, uow
from deskql.services.auth import Actor
from deskql.services.customers.common import (
    _check_refs,
    _clean_common,
    _explain_conflict,
    _linked_products,
    _order,
    _record_side_effect,
    _set_products,
    _split_products,
    _summary,
)
from deskql.services.customers.lookup import forget_contacts
from deskql.services.errors import ErrorCode, Errors, ValidationFailed

ACCOUNT_UPDATABLE = (
    "name",
    "email",
    "phone",
    "website",
    "description",
    "owner_id",
    "product_ids",
)


# ---------------------------------------------------------------------------------------------
# Accounts (CUS-2)
# ---------------------------------------------------------------------------------------------


async def get_account(actor: Actor, *, account_id: int) -> models.Account | None:
    """The account, or None when it does not exist."""
    return await models.Account.filter(id=account_id).first()


async def _require_account(account_id: int) -> models.Account:
    account = await models.Account.filter(id=account_id).first()
    if account is None:
        raise ValidationFailed.one("id", "no such account", ErrorCode.NOT_FOUND)
    return account


async def create_account(
    actor: Actor,
    *,
    name: str,
    email: str | None = None,
    phone: str = "",
    website: str = "",
    description: str = "",
    owner_id: int | None = None,
    product_ids: list[int] | None = None,
) -> models.Account:
    """Create an account, a customer company (CUS-2)."""
    errors = Errors()
    values = _clean_common(
        errors,
        {
            "name": name,
            "email": email,
            "phone": phone,
            "website": website,
            "description": description,
            "owner_id": owner_id,
            "product_ids": product_ids,
        },
    )
    values["email"] = values["email"] or ""
    await _check_refs(actor, errors, values)
    errors.raise_if_any()

    columns, products = _split_products(values)
    try:
        async with uow.transaction():
            account = await models.Account.create(**columns)
            if products:
                await _set_products(models.AccountProduct, "account_id", account.id, products)
            await activity.record(
                actor=actor,
                kind="account.created",
                subject_type="Account",
                subject_id=account.id,
                account_id=account.id,
                changes=_summary(values),
            )
    except IntegrityError:
        # The owner or a product was deleted since the checks.
        await _explain_conflict(actor, values, contact_email=False)
        raise
    return account


async def update_account(
    actor: Actor, *, account_id: int, changes: dict[str, Any]
) -> models.Account:
    """Change the given fields of an account; `product_ids` replaces its product links."""
    unknown = set(changes) - set(ACCOUNT_UPDATABLE)
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    account = await _require_account(account_id)
    errors = Errors()
    values = _clean_common(errors, changes)
    if "email" in values:
        values["email"] = values["email"] or ""
    await _check_refs(actor, errors, values)
    errors.raise_if_any()

    columns, products = _split_products(values)
    try:
        async with uow.transaction():
            row = await models.Account.filter(id=account.id).select_for_update().first()
            if row is None:
                raise ValidationFailed.one("id", "no such account", ErrorCode.NOT_FOUND)
            before = {key: getattr(row, key) for key in columns}
            if products is not None:
                before["product_ids"] = await _linked_products(
                    models.AccountProduct, "account_id", row.id
                )
            changed = activity.diff(before, values)
            if not changed:
                return row
            if columns:
                merged = {k: getattr(row, k) for k in customer_keys.ACCOUNT_KEY_SOURCES}
                merged.update({k: v for k, v in columns.items() if k in merged})
                await models.Account.filter(id=row.id).update(
                    **columns,
                    **customer_keys.account_keys(**merged),
                    updated_at=datetime.now(UTC),
                )
            if products is not None:
                await _set_products(models.AccountProduct, "account_id", row.id, products)
            await activity.record(
                actor=actor,
                kind="account.updated",
                subject_type="Account",
                subject_id=row.id,
                account_id=row.id,
                changes=changed,
            )
            return await models.Account.get(id=row.id)
    except IntegrityError:
        await _explain_conflict(actor, values, contact_email=False)
        raise


async def delete_account(actor: Actor, *, account_id: int) -> models.Account:
    """Delete an account; its contacts and tickets stay, without an account."""
    account = await _require_account(account_id)
    async with uow.transaction():
        row = await models.Account.filter(id=account.id).select_for_update().first()
        if row is None:
            raise ValidationFailed.one("id", "no such account", ErrorCode.NOT_FOUND)
        now = datetime.now(UTC)
        contacts = await models.Contact.filter(account_id=row.id)
        tickets = await models.Ticket.filter(account_id=row.id)
        await models.Contact.filter(account_id=row.id).update(account_id=None, updated_at=now)
        forget_contacts()
        # A ticket changes: bump its version so stale ticketUpdate calls get CONFLICT.
        await models.Ticket.filter(account_id=row.id).update(
            account_id=None, version=F("version") + 1, updated_at=now
        )
        await models.AccountProduct.filter(account_id=row.id).delete()
        unlinked = {"account_id": {"old": row.id, "new": None}}
        for item in (*tickets, *contacts):
            kind = f"{type(item).__name__.lower()}.updated"
            await _record_side_effect(actor, kind=kind, row=item, changes=unlinked)
        await activity.record(
            actor=actor,
            kind="account.deleted",
            subject_type="Account",
            subject_id=row.id,
            account_id=row.id,
            changes={
                "name": row.name,
                "contactsUnlinked": len(contacts),
                "ticketsUnlinked": len(tickets),
            },
        )
        await row.delete()
    return row


ACCOUNT_SORTS = {"NAME": ("name_lower",), "CREATED_AT": ("created_at",)}


def list_accounts(
    actor: Actor, *, text: str | None = None, sort: str = "NAME", desc: bool = False
) -> QuerySet[models.Account]:
    """Accounts whose name contains every word of `text`, sorted (ties by id)."""
    qs = models.Account.all()
    for word in (text or "").split():
        qs = qs.filter(name__icontains=word)
    qs = qs.annotate(name_lower=Lower("name"))
    return _order(qs, ACCOUNT_SORTS[sort], desc)
