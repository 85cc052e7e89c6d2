"""Shared by contacts, accounts and products: limits, cleaning, checks, product links."""

from __future__ import annotations

import re
from typing import Any

from tortoise.queryset import QuerySet

from deskql import models
from deskql.services import activity, validation
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.policies import visible_agents

NAME_MAX = 100  # a contact's first and last name


TITLE_MAX = 200  # an account's or product's name


PHONE_MAX = 40


CODE_MAX = 60


WEBSITE_MAX = 500


DESCRIPTION_MAX = 100_000


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


def _order(qs: QuerySet[Any], columns: tuple[str, ...], desc: bool) -> QuerySet[Any]:
    prefix = "-" if desc else ""
    return qs.order_by(*(f"{prefix}{c}" for c in columns), f"{prefix}id")
