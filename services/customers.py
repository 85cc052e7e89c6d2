"""Contacts, accounts and products (CUS-1, CUS-2, CUS-9).

Contacts, accounts and products are organisation-wide (see services.policies): every active
agent may list, create, change and delete them. Each change writes an Activity row in the same
transaction, linked by contact_id/account_id so the customer timelines find it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.functions import Lower
from tortoise.queryset import QuerySet

from deskql import models
from deskql.services import activity, customer_keys, notifications, uow, validation
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.policies import visible_agents

NAME_MAX = 100  # a contact's first and last name
TITLE_MAX = 200  # an account's or product's name
PHONE_MAX = 40
CODE_MAX = 60
WEBSITE_MAX = 500
DESCRIPTION_MAX = 100_000

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
ACCOUNT_UPDATABLE = (
    "name",
    "email",
    "phone",
    "website",
    "description",
    "owner_id",
    "product_ids",
)
PRODUCT_UPDATABLE = ("name", "code", "description")

# Service attribute -> the camelCase input field named in errors.
_FIELD = {
    "first_name": "firstName",
    "last_name": "lastName",
    "email": "email",
    "secondary_email": "secondaryEmail",
    "phone": "phone",
    "mobile": "mobile",
    "description": "description",
    "account_id": "accountId",
    "owner_id": "ownerId",
    "product_ids": "productIds",
    "name": "name",
    "website": "website",
    "code": "code",
}

# Any whitespace or control character inside an address (CR/LF would inject mail headers).
_EMAIL_BREAK = re.compile(r"[\s\x00-\x1f\x7f]")


def split_name(name: str | None, email: str) -> tuple[str, str]:
    """First and last name from a display name, or from the email's local part."""
    cleaned = (name or "").strip().strip('"').strip()
    if not cleaned:
        local = email.split("@", 1)[0]
        words = [w for w in re.split(r"[._-]+", local) if w]
        # jan.kowalski@ -> "Jan Kowalski"; anything with digits or symbols stays as written.
        cleaned = (
            " ".join(w.capitalize() for w in words)
            if all(w.isalpha() for w in words) and words
            else local
        )
    first, _, last = cleaned.rpartition(" ")
    if not first:
        return "", last[:100]
    return first[:100], last[:100]


CONTACTS_MEMO = "customers.contacts"  # email -> the contact, or None: none has it


async def read_contacts(emails: Iterable[str]) -> list[models.Contact]:
    """Read the contacts with these addresses in one statement, for `find_or_create_contact`
    later in this transaction (a group of inbound messages); returns those found."""
    memo = uow.memo()
    clean = {
        email
        for value in emails
        if (email := validation.email(Errors(), "email", value, required=True))
    }
    if memo is None or not clean:
        return []
    rows = await models.Contact.filter(email__in=sorted(clean))
    known = memo.setdefault(CONTACTS_MEMO, {})
    known.update(dict.fromkeys(clean))
    known.update({row.email: row for row in rows})
    missing = sorted(clean - {row.email for row in rows})
    if missing:
        # Addresses of contacts merged into others (CUS-5) land on the survivor.
        aliases = await models.ContactEmailAlias.filter(email__in=missing).prefetch_related(
            "contact"
        )
        known.update({alias.email: alias.contact for alias in aliases})
        rows = [*rows, *(alias.contact for alias in aliases)]
    return rows


def forget_contacts() -> None:
    """Drop the contacts read in this transaction (after writing contacts in it)."""
    memo = uow.memo()
    if memo is not None:
        memo.pop(CONTACTS_MEMO, None)


async def find_or_create_contact(
    actor: Actor | None, *, email: str, name: str | None = None
) -> models.Contact:
    """The contact with this email, created on first contact (CUS-1: Melissa's first email)."""
    errors = Errors()
    clean = validation.email(errors, "email", email, required=True)
    errors.raise_if_any()
    assert clean is not None
    memo = uow.memo()
    known: dict[str, models.Contact | None] | None = (
        memo.get(CONTACTS_MEMO) if memo is not None else None
    )
    if known is not None and clean in known:
        contact = known[clean]
    else:
        contact = await models.Contact.filter(email=clean).first()
        if contact is None:
            # The address of a contact merged into another (CUS-5): it lands on the survivor.
            contact = await models.Contact.filter(email_aliases__email=clean).first()
    if contact is not None:
        return contact
    first, last = split_name(name, clean)
    contact = await models.Contact.create(email=clean, first_name=first, last_name=last)
    notifications.no_followers_yet(contact_id=contact.id)
    if known is not None:
        known[clean] = contact
    await activity.record(
        actor=actor,
        kind="contact.created",
        subject_type="Contact",
        subject_id=contact.id,
        contact_id=contact.id,
        changes={"email": clean, "name": contact.name},
    )
    return contact


# ---------------------------------------------------------------------------------------------
# Validation shared by create and update
# ---------------------------------------------------------------------------------------------


def _email(errors: Errors, field: str, value: str | None) -> str | None:
    """An optional email, lower-cased; None when empty. Embedded whitespace or control
    characters (a header injection such as "a@b.com\\r\\nBcc: c@d.com") are INVALID_EMAIL."""
    if value is not None and _EMAIL_BREAK.search(value.strip()):
        errors.add(
            field, f"{value.strip()[:80]!r} is not a valid email address", ErrorCode.INVALID_EMAIL
        )
        return None
    return validation.email(errors, field, value) or None


def _clean_text(
    errors: Errors, key: str, value: str | None, *, max_length: int, required: bool = False
) -> str:
    return (
        validation.text(
            errors,
            _FIELD[key],
            value,
            max_length=max_length,
            required=required,
            multiline=key == "description",
        )
        or ""
    )


def _clean_common(errors: Errors, values: dict[str, Any]) -> dict[str, Any]:
    """Clean the given text fields of a contact, account or product (absent keys stay absent)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key == "first_name":
            out[key] = _clean_text(errors, key, value, max_length=NAME_MAX)
        elif key == "last_name":
            out[key] = _clean_text(errors, key, value, max_length=NAME_MAX, required=True)
        elif key == "name":
            out[key] = _clean_text(errors, key, value, max_length=TITLE_MAX, required=True)
        elif key == "code":
            out[key] = _clean_text(errors, key, value, max_length=CODE_MAX)
        elif key == "description":
            out[key] = _clean_text(errors, key, value, max_length=DESCRIPTION_MAX)
        elif key == "email":
            out[key] = _email(errors, _FIELD[key], value)
        elif key == "secondary_email":
            out[key] = _email(errors, _FIELD[key], value) or ""
        elif key in ("phone", "mobile"):
            out[key] = validation.phone(errors, _FIELD[key], value) or ""
        elif key == "website":
            out[key] = validation.url(errors, _FIELD[key], value, max_length=WEBSITE_MAX) or ""
        elif key == "product_ids":
            out[key] = sorted(set(value or []))
        else:
            out[key] = value
    return out


async def _check_refs(actor: Actor, errors: Errors, values: dict[str, Any]) -> None:
    """Check that the account, owner and products the values point to exist."""
    account_id = values.get("account_id")
    if account_id is not None and not await models.Account.exists(id=account_id):
        errors.add("accountId", "no such account", ErrorCode.NOT_FOUND)
    owner_id = values.get("owner_id")
    if owner_id is not None:
        owner = await visible_agents(actor).filter(id=owner_id).first()
        if owner is None:
            errors.add("ownerId", "no such agent", ErrorCode.NOT_FOUND)
        elif not owner.is_active:
            errors.add("ownerId", "the agent is deactivated", ErrorCode.INVALID)
    product_ids = values.get("product_ids") or []
    if product_ids:
        found = set(await models.Product.filter(id__in=product_ids).values_list("id", flat=True))
        missing = [pk for pk in product_ids if pk not in found]
        if missing:
            errors.add(
                "productIds",
                f"no such product ({len(missing)} of {len(product_ids)} ids)",
                ErrorCode.NOT_FOUND,
            )


async def _check_contact_email(email: str | None, *, exclude_id: int | None = None) -> None:
    if not email:
        return
    qs = models.Contact.filter(email=email)
    if exclude_id is not None:
        qs = qs.exclude(id=exclude_id)
    if await qs.exists():
        raise ValidationFailed.one(
            "email", f"a contact with email {email} exists", ErrorCode.DUPLICATE
        )


async def _check_product_name(name: str | None, *, exclude_id: int | None = None) -> None:
    if not name:
        return
    qs = models.Product.filter(name__iexact=name)
    if exclude_id is not None:
        qs = qs.exclude(id=exclude_id)
    if await qs.exists():
        raise ValidationFailed.one("name", f"a product named {name!r} exists", ErrorCode.DUPLICATE)


async def _explain_conflict(
    actor: Actor, values: dict[str, Any], *, contact_email: bool, contact_id: int | None = None
) -> None:
    """After the database refused a write (a unique or foreign key constraint), say why as a
    field error: the email was taken, or the account, owner or a product was deleted meanwhile.
    Returns when it cannot tell; the caller then re-raises the database error."""
    if contact_email and "email" in values:
        await _check_contact_email(values["email"], exclude_id=contact_id)
    errors = Errors()
    await _check_refs(actor, errors, values)
    errors.raise_if_any()


def _split_products(values: dict[str, Any]) -> tuple[dict[str, Any], list[int] | None]:
    """The row's column values and the product ids (None: leave the links alone)."""
    columns = dict(values)
    return columns, columns.pop("product_ids", None)


async def _linked_products(link: type, owner_key: str, owner_id: int) -> list[int]:
    return sorted(await link.filter(**{owner_key: owner_id}).values_list("product_id", flat=True))


async def _set_products(link: type, owner_key: str, owner_id: int, product_ids: list[int]) -> None:
    """Make the owner's product links exactly `product_ids`."""
    current = set(await _linked_products(link, owner_key, owner_id))
    wanted = set(product_ids)
    if current - wanted:
        await link.filter(
            **{owner_key: owner_id, "product_id__in": sorted(current - wanted)}
        ).delete()
    if wanted - current:
        await link.bulk_create(
            [link(**{owner_key: owner_id, "product_id": pk}) for pk in sorted(wanted - current)]
        )


def _summary(values: dict[str, Any]) -> dict[str, Any]:
    """The non-empty values of a created record, JSON-safe, for its `*.created` activity."""
    return {
        key: activity.jsonable(value)
        for key, value in values.items()
        if value not in (None, "", [])
    }


async def _record_side_effect(
    actor: Actor, *, kind: str, row: Any, changes: dict[str, Any]
) -> None:
    """Record the change of a ticket, contact or account made as a side effect of deleting
    another record (its account or product was unlinked), so its own history shows it. The
    links keep the row's values from before the change: the deleted account's timeline too."""
    subject_type = type(row).__name__
    if subject_type == "Ticket":
        links = {
            "ticket_id": row.id,
            "contact_id": row.contact_id,
            "account_id": row.account_id,
            "department_id": row.department_id,
        }
    elif subject_type == "Contact":
        links = {"contact_id": row.id, "account_id": row.account_id}
    else:
        links = {"account_id": row.id}
    await activity.record(
        actor=actor,
        kind=kind,
        subject_type=subject_type,
        subject_id=row.id,
        changes=changes,
        **links,
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


def _order(qs: QuerySet[Any], columns: tuple[str, ...], desc: bool) -> QuerySet[Any]:
    prefix = "-" if desc else ""
    return qs.order_by(*(f"{prefix}{c}" for c in columns), f"{prefix}id")


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
