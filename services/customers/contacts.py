"""Contacts: reading, creating, updating, deleting and listing them (CUS-1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.functions import Lower
from tortoise.queryset import QuerySet

from deskql import models
from deskql.services import activity, customer_keys, notifications, uow
from deskql.services.auth import Actor
from deskql.services.customers.common import (
    _check_contact_email,
    _check_refs,
    _clean_common,
    _explain_conflict,
    _linked_products,
    _order,
    _set_products,
    _split_products,
    _summary,
)
from deskql.services.customers.lookup import forget_contacts
from deskql.services.errors import ErrorCode, Errors, ValidationFailed

# The attributes each update may change; `product_ids` replaces the set of linked products.
CONTACT_UPDATABLE = (
    "first_name",
    "last_name",
    "email",
    "secondary_email",
    "phone",
    "mobile",
    "description",
    "account_id",
    "owner_id",
    "product_ids",
)


# ---------------------------------------------------------------------------------------------
# Contacts (CUS-1)
# ---------------------------------------------------------------------------------------------


async def get_contact(actor: Actor, *, contact_id: int) -> models.Contact | None:
    """The contact, or None when it does not exist."""
    return await models.Contact.filter(id=contact_id).first()


async def _require_contact(contact_id: int) -> models.Contact:
    contact = await models.Contact.filter(id=contact_id).first()
    if contact is None:
        raise ValidationFailed.one("id", "no such contact", ErrorCode.NOT_FOUND)
    return contact


async def create_contact(
    actor: Actor,
    *,
    last_name: str,
    first_name: str = "",
    email: str | None = None,
    secondary_email: str = "",
    phone: str = "",
    mobile: str = "",
    description: str = "",
    account_id: int | None = None,
    owner_id: int | None = None,
    product_ids: list[int] | None = None,
) -> models.Contact:
    """Create a contact; its email, when given, must be unused (CUS-1)."""
    errors = Errors()
    values = _clean_common(
        errors,
        {
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "secondary_email": secondary_email,
            "phone": phone,
            "mobile": mobile,
            "description": description,
            "account_id": account_id,
            "owner_id": owner_id,
            "product_ids": product_ids,
        },
    )
    await _check_refs(actor, errors, values)
    errors.raise_if_any()
    await _check_contact_email(values["email"])

    columns, products = _split_products(values)
    try:
        async with uow.transaction():
            contact = await models.Contact.create(**columns)
            forget_contacts()
            notifications.no_followers_yet(contact_id=contact.id)
            if products:
                await _set_products(models.ContactProduct, "contact_id", contact.id, products)
            await activity.record(
                actor=actor,
                kind="contact.created",
                subject_type="Contact",
                subject_id=contact.id,
                contact_id=contact.id,
                account_id=contact.account_id,  # type: ignore[attr-defined]
                changes=_summary(values),
            )
    except IntegrityError:
        # Another request took the email (or deleted a record we link) since the checks.
        await _explain_conflict(actor, values, contact_email=True)
        raise
    return contact


async def update_contact(
    actor: Actor, *, contact_id: int, changes: dict[str, Any]
) -> models.Contact:
    """Change the given fields of a contact; `product_ids` replaces its product links."""
    unknown = set(changes) - set(CONTACT_UPDATABLE)
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    contact = await _require_contact(contact_id)
    errors = Errors()
    values = _clean_common(errors, changes)
    await _check_refs(actor, errors, values)
    errors.raise_if_any()
    if "email" in values:
        await _check_contact_email(values["email"], exclude_id=contact.id)

    columns, products = _split_products(values)
    try:
        async with uow.transaction():
            # Lock the row (PostgreSQL) so the diff below is against what we overwrite.
            row = await models.Contact.filter(id=contact.id).select_for_update().first()
            if row is None:
                raise ValidationFailed.one("id", "no such contact", ErrorCode.NOT_FOUND)
            before = {key: getattr(row, key) for key in columns}
            if products is not None:
                before["product_ids"] = await _linked_products(
                    models.ContactProduct, "contact_id", row.id
                )
            changed = activity.diff(before, values)
            if changed:
                if columns:
                    merged = {k: getattr(row, k) for k in customer_keys.CONTACT_KEY_SOURCES}
                    merged.update({k: v for k, v in columns.items() if k in merged})
                    await models.Contact.filter(id=row.id).update(
                        **columns,
                        **customer_keys.contact_keys(**merged),
                        updated_at=datetime.now(UTC),
                    )
                    forget_contacts()
                if products is not None:
                    await _set_products(models.ContactProduct, "contact_id", row.id, products)
                fresh = await models.Contact.get(id=row.id)
                await activity.record(
                    actor=actor,
                    kind="contact.updated",
                    subject_type="Contact",
                    subject_id=row.id,
                    contact_id=row.id,
                    account_id=fresh.account_id  # type: ignore[attr-defined]
                    or row.account_id,  # type: ignore[attr-defined]
                    changes=changed,
                )
            else:
                fresh = row
    except IntegrityError:
        await _explain_conflict(actor, values, contact_email=True, contact_id=contact.id)
        raise
    return fresh


async def delete_contact(actor: Actor, *, contact_id: int) -> models.Contact:
    """Delete a contact that has no tickets (else IN_USE); returns it as it was."""
    contact = await _require_contact(contact_id)
    try:
        async with uow.transaction():
            # FOR UPDATE conflicts with a concurrent ticket insert's key-share lock (PostgreSQL),
            # so no ticket can appear between the count and the delete.
            row = await models.Contact.filter(id=contact.id).select_for_update().first()
            if row is None:
                raise ValidationFailed.one("id", "no such contact", ErrorCode.NOT_FOUND)
            count = await models.Ticket.filter(contact_id=row.id).count()
            if count:
                raise _contact_in_use(count)
            await models.Thread.filter(author_contact_id=row.id).update(author_contact_id=None)
            await models.ContactProduct.filter(contact_id=row.id).delete()
            await activity.record(
                actor=actor,
                kind="contact.deleted",
                subject_type="Contact",
                subject_id=row.id,
                contact_id=row.id,
                account_id=row.account_id,  # type: ignore[attr-defined]
                changes={"name": row.name, "email": row.email},
            )
            await row.delete()
            forget_contacts()
    except IntegrityError:
        # A ticket for this contact was created meanwhile (the RESTRICT foreign key).
        count = await models.Ticket.filter(contact_id=contact.id).count()
        if count:
            raise _contact_in_use(count) from None
        raise
    return row


def _contact_in_use(count: int) -> ValidationFailed:
    noun = "ticket" if count == 1 else "tickets"
    return ValidationFailed.one(
        "id",
        f"the contact has {count} {noun}; delete or move them to another contact first",
        ErrorCode.IN_USE,
    )


@dataclass
class ContactFilter:
    """Criteria for contact lists; every given criterion must hold."""

    text: str | None = None
    email: str | None = None
    account_id: int | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


CONTACT_SORTS = {
    "NAME": ("last_name_lower", "first_name_lower"),
    "CREATED_AT": ("created_at",),
    "UPDATED_AT": ("updated_at",),
    "EMAIL": ("email_lower",),
}


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def list_contacts(
    actor: Actor, flt: ContactFilter | None = None, *, sort: str = "NAME", desc: bool = False
) -> QuerySet[models.Contact]:
    """Contacts matching the filter, sorted (NAME: last then first name; ties by id)."""
    f = flt or ContactFilter()
    qs = models.Contact.all()
    if f.text and f.text.strip():
        # Every word must appear in the first name, last name or email.
        for word in f.text.split():
            qs = qs.filter(
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(email__icontains=word)
            )
    if f.email is not None:
        qs = qs.filter(email=f.email.strip().lower())
    if f.account_id is not None:
        qs = qs.filter(account_id=f.account_id)
    if f.created_after is not None:
        qs = qs.filter(created_at__gte=_utc(f.created_after))
    if f.created_before is not None:
        qs = qs.filter(created_at__lt=_utc(f.created_before))
    # Sort case-insensitively the same way on SQLite and PostgreSQL.
    qs = qs.annotate(
        last_name_lower=Lower("last_name"),
        first_name_lower=Lower("first_name"),
        email_lower=Lower("email"),
    )
    return _order(qs, CONTACT_SORTS[sort], desc)
