"""Support addresses (EM-1, EM-3..EM-5): the default one and aliases, managed by administrators."""

from __future__ import annotations

from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet

from deskql import models
from deskql.models.enums import Edition
from deskql.services import activity, mail_directory, uow, validation
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.policies import require_admin
from deskql.settings import Settings

# EM-3: how many support addresses an edition may have, the default one included.
LIMITS = {
    Edition.FREE: 2,
    Edition.STANDARD: 6,
    Edition.PROFESSIONAL: 11,
    Edition.ENTERPRISE: 101,
}
DISPLAY_NAME_MAX = 120


def default_email(settings: Settings) -> str:
    """The default support address: support@<slug>.<mail-domain> (EM-1)."""
    return f"support@{settings.org_slug}.{settings.mail_domain}".lower()


async def ensure_default_address(settings: Settings) -> models.SupportAddress:
    """The default support address, created on start when missing (EM-1)."""
    row = await models.SupportAddress.filter(is_default=True).first()
    if row is not None:
        return row
    email = default_email(settings)
    try:
        async with uow.transaction():
            row = await models.SupportAddress.create(
                email=email, display_name=settings.org_name, is_default=True
            )
            await _record(None, "support_address.created", row, {"email": email})
    except IntegrityError:  # another process created it first, or an alias had that address
        row = await models.SupportAddress.get(email=email)
    mail_directory.invalidate()
    return row


async def find_address(email: str) -> models.SupportAddress | None:
    """The support address mail to this address is for (case-insensitive), if any.

    Inbound mail asks services.mail_directory instead (held per process, no statement)."""
    return await models.SupportAddress.filter(email=email.strip().lower()).first()


def list_addresses(actor: Actor) -> QuerySet[models.SupportAddress]:
    """Every support address, the default first (administrators only)."""
    require_admin(actor, "manage support addresses")
    return models.SupportAddress.all().order_by("-is_default", "id")


async def _record(
    actor: Actor | None, kind: str, row: models.SupportAddress, changes: dict[str, Any]
) -> None:
    await activity.record(
        actor=actor,
        kind=kind,
        subject_type="SupportAddress",
        subject_id=row.id,
        department_id=row.department_id,  # type: ignore[attr-defined]
        changes=changes,
    )


async def _check_department(errors: Errors, department_id: int | None) -> None:
    if department_id is not None and not await models.Department.exists(id=department_id):
        errors.add("departmentId", "no such department", ErrorCode.NOT_FOUND)


def _duplicate(email: str) -> ValidationFailed:
    return ValidationFailed.one(
        "email", f"{email} is already a support address", ErrorCode.DUPLICATE
    )


async def create_address(
    actor: Actor,
    *,
    email: str,
    display_name: str = "",
    department_id: int | None = None,
    is_fetching: bool = True,
) -> models.SupportAddress:
    """Add an alias within the edition's limit (EM-3), optionally mapped to a department."""
    require_admin(actor, "manage support addresses")
    errors = Errors()
    clean_email = validation.email(errors, "email", email, required=True)
    name = validation.text(errors, "displayName", display_name, max_length=DISPLAY_NAME_MAX)
    await _check_department(errors, department_id)
    errors.raise_if_any()
    assert clean_email is not None
    try:
        async with uow.transaction():
            # Lock the organisation row so two creations cannot pass the limit together.
            org = await models.Organisation.all().select_for_update().first()
            limit = LIMITS[org.edition] if org else LIMITS[Edition.FREE]
            count = await models.SupportAddress.all().count()
            if count >= limit:
                raise ValidationFailed.one(
                    None,
                    f"the {org.edition.value if org else 'FREE'} edition allows {limit} support "
                    f"addresses, the default one included; there are {count}",
                    ErrorCode.LIMIT_EXCEEDED,
                )
            if await models.SupportAddress.exists(email=clean_email):
                raise _duplicate(clean_email)
            row = await models.SupportAddress.create(
                email=clean_email,
                display_name=name or "",
                department_id=department_id,
                is_fetching=is_fetching,
            )
            await _record(
                actor,
                "support_address.created",
                row,
                {"email": clean_email, "displayName": row.display_name},
            )
    except IntegrityError:
        raise _duplicate(clean_email) from None
    mail_directory.invalidate()
    return row


async def _require(address_id: int) -> models.SupportAddress:
    row = await models.SupportAddress.filter(id=address_id).first()
    if row is None:
        raise ValidationFailed.one("id", "no such support address", ErrorCode.NOT_FOUND)
    return row


async def update_address(
    actor: Actor, *, address_id: int, changes: dict[str, Any]
) -> models.SupportAddress:
    """Rename, re-map (EM-5), switch fetching on/off (EM-4) or disable the address as a
    sender of replies (EM-9); the default's email is fixed."""
    require_admin(actor, "manage support addresses")
    unknown = set(changes) - {
        "email",
        "display_name",
        "department_id",
        "is_fetching",
        "from_disabled",
    }
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    row = await _require(address_id)
    errors = Errors()
    values: dict[str, Any] = {}
    if "email" in changes:
        clean = validation.email(errors, "email", changes["email"], required=True)
        if clean and row.is_default and clean != row.email:
            errors.add("email", "the default support address cannot change", ErrorCode.INVALID)
        elif clean and clean != row.email:
            if await models.SupportAddress.exists(email=clean):
                errors.add("email", f"{clean} is already a support address", ErrorCode.DUPLICATE)
            values["email"] = clean
    if "display_name" in changes:
        name = validation.text(
            errors, "displayName", changes["display_name"] or "", max_length=DISPLAY_NAME_MAX
        )
        values["display_name"] = name or ""
    if "department_id" in changes:
        await _check_department(errors, changes["department_id"])
        values["department_id"] = changes["department_id"]
    if "is_fetching" in changes:
        if changes["is_fetching"] is None:
            errors.add("isFetching", "isFetching cannot be cleared", ErrorCode.REQUIRED)
        values["is_fetching"] = changes["is_fetching"]
    if "from_disabled" in changes:
        if changes["from_disabled"] is None:
            errors.add("fromDisabled", "fromDisabled cannot be cleared", ErrorCode.REQUIRED)
        values["from_disabled"] = changes["from_disabled"]
    errors.raise_if_any()
    before = {key: getattr(row, key) for key in values}
    try:
        async with uow.transaction():
            if values:
                await models.SupportAddress.filter(id=row.id).update(**values)
            fresh = await models.SupportAddress.get(id=row.id)
            changed = activity.diff(before, {key: getattr(fresh, key) for key in before})
            if changed:
                await _record(actor, "support_address.updated", fresh, changed)
    except IntegrityError:
        raise _duplicate(values.get("email", row.email)) from None
    mail_directory.invalidate()
    return fresh


async def delete_address(actor: Actor, *, address_id: int) -> models.SupportAddress:
    """Delete an alias; the default address stays, and so at least one remains (EM-3)."""
    require_admin(actor, "manage support addresses")
    row = await _require(address_id)
    if row.is_default:
        raise ValidationFailed.one(
            "id", "the default support address cannot be deleted", ErrorCode.IN_USE
        )
    async with uow.transaction():
        await models.Organisation.all().select_for_update().first()
        if await models.SupportAddress.all().count() <= 1:
            raise ValidationFailed.one(
                "id", "at least one support address must remain", ErrorCode.IN_USE
            )
        await _record(actor, "support_address.deleted", row, {"email": row.email})
        await row.delete()
    mail_directory.invalidate()
    return row
