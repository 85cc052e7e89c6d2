"""From addresses created, verified, updated and deleted by administrators (EM-6..EM-9)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from email.utils import make_msgid
from typing import Any

from tortoise.exceptions import IntegrityError

from deskql import models
from deskql.channels.email import outbound as smtp
from deskql.models.enums import Edition
from deskql.models.outbound import SmtpSecurity
from deskql.services import activity, outbox, uow, validation
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.from_addresses.crypto import encrypt
from deskql.services.from_addresses.senders import default_sender, uses_own_smtp
from deskql.services.policies import require_admin
from deskql.settings import Settings

# EM-8: From addresses an edition may have (None: unlimited).
LIMITS: dict[Edition, int | None] = {
    Edition.FREE: 1,
    Edition.STANDARD: 5,
    Edition.PROFESSIONAL: 10,
    Edition.ENTERPRISE: None,
}


SMTP_PORTS = (25, 465, 587)


DISPLAY_NAME_MAX = 120


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- writing ---------------------------------------------------------------------------------


async def _record(actor: Actor | None, kind: str, row: models.FromAddress, changes: dict) -> None:
    await activity.record(
        actor=actor,
        kind=kind,
        subject_type="FromAddress",
        subject_id=row.id,
        department_id=row.department_id,  # type: ignore[attr-defined]
        changes=changes,
    )


def _clean_smtp(errors: Errors, smtp_in: dict[str, Any]) -> dict[str, Any]:
    host = validation.text(errors, "smtpHost", smtp_in.get("host"), max_length=255, required=True)
    if host and (" " in host or "/" in host):
        errors.add("smtpHost", "smtpHost is not a host name", ErrorCode.INVALID)
    port = smtp_in.get("port")
    if port not in SMTP_PORTS:
        errors.add("smtpPort", "smtpPort must be 25, 465 or 587", ErrorCode.INVALID)
    security = smtp_in.get("security") or SmtpSecurity.PLAIN
    username = validation.text(
        errors, "smtpUsername", smtp_in.get("username"), max_length=254, required=True
    )
    password = smtp_in.get("password") or ""
    if not password:
        errors.add("smtpPassword", "smtpPassword is required", ErrorCode.REQUIRED)
    elif len(password) > 500 or "\n" in password or "\r" in password:
        errors.add("smtpPassword", "smtpPassword is not acceptable", ErrorCode.INVALID)
    return {
        "smtp_host": host or "",
        "smtp_port": port or 0,
        "smtp_security": SmtpSecurity(security),
        "smtp_username": username or "",
        "password": password,
    }


async def _queue_verification(settings: Settings, row: models.FromAddress) -> None:
    """Give the address a fresh single-use token and queue the email with its link; inside
    the caller's transaction (the old link stops working)."""
    token = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(hours=settings.from_address_token_hours)
    await models.FromAddress.filter(id=row.id).update(
        token_hash=_digest(token), token_expires_at=expires
    )
    sender, name = await default_sender(settings, row.department_id)  # type: ignore[attr-defined]
    link = f"{settings.base_url}/verify-from-address/{token}"
    message_id = make_msgid(domain=outbox.message_domain(settings))
    raw = smtp.build_message(
        from_name=name,
        from_email=sender,
        to=[row.email],
        cc=[],
        subject=f"Confirm {row.email} as a From address of {settings.org_name}",
        body_text=(
            f"Someone asked to send help desk replies from {row.email}.\n\n"
            f"To allow it, open this link within {settings.from_address_token_hours} hours:\n"
            f"{link}\n\nIf this was not you, ignore this email.\n"
        ),
        message_id=message_id,
        extra_headers={"Auto-Submitted": "auto-generated"},
    )
    await outbox.enqueue(
        raw=raw, message_id=message_id, mail_from=sender, to=[row.email], cc=[], bcc=[]
    )


async def create_from_address(
    actor: Actor,
    *,
    settings: Settings,
    department_id: int,
    email: str,
    display_name: str = "",
    smtp_settings: dict[str, Any] | None = None,
) -> models.FromAddress:
    """Add a From address to a department within the edition's limit (EM-8); it waits for
    verification (EM-6) unless it sends through its own SMTP server (EM-7)."""
    require_admin(actor, "manage From addresses")
    errors = Errors()
    clean_email = validation.email(errors, "email", email, required=True)
    name = validation.text(errors, "displayName", display_name, max_length=DISPLAY_NAME_MAX)
    own = _clean_smtp(errors, smtp_settings) if smtp_settings is not None else None
    if not await models.Department.exists(id=department_id):
        errors.add("departmentId", "no such department", ErrorCode.NOT_FOUND)
    errors.raise_if_any()
    values: dict[str, Any] = {}
    if own is not None:
        values = {k: v for k, v in own.items() if k != "password"}
        values["smtp_password_encrypted"] = encrypt(settings, own["password"])
    try:
        async with uow.transaction():
            org = await models.Organisation.all().select_for_update().first()
            edition = org.edition if org else Edition.FREE
            limit = LIMITS[edition]
            count = await models.FromAddress.all().count()
            if limit is not None and count >= limit:
                raise ValidationFailed.one(
                    None,
                    f"the {edition.value} edition allows {limit} From address(es); "
                    f"there are {count}",
                    ErrorCode.LIMIT_EXCEEDED,
                )
            if await models.FromAddress.exists(department_id=department_id, email=clean_email):
                raise _duplicate(clean_email or "")
            row = await models.FromAddress.create(
                department_id=department_id,
                email=clean_email,
                display_name=name or "",
                **values,
            )
            if own is None:
                await _queue_verification(settings, row)
            await _record(
                actor,
                "from_address.created",
                row,
                {"email": clean_email, "ownSmtp": own is not None},
            )
    except IntegrityError:
        raise _duplicate(clean_email or "") from None
    outbox.wake()
    return await models.FromAddress.get(id=row.id)


def _duplicate(email: str) -> ValidationFailed:
    return ValidationFailed.one(
        "email", f"{email} is already a From address of this department", ErrorCode.DUPLICATE
    )


async def _require(address_id: int) -> models.FromAddress:
    row = await models.FromAddress.filter(id=address_id).first()
    if row is None:
        raise ValidationFailed.one("id", "no such From address", ErrorCode.NOT_FOUND)
    return row


async def resend_verification(
    actor: Actor, *, settings: Settings, address_id: int
) -> models.FromAddress:
    """Send a new verification link; the previous one stops working (EM-6)."""
    require_admin(actor, "manage From addresses")
    row = await _require(address_id)
    if row.is_verified or uses_own_smtp(row):
        raise ValidationFailed.one(
            "id", "this From address needs no verification", ErrorCode.CONFLICT
        )
    async with uow.transaction():
        await _queue_verification(settings, row)
        await _record(actor, "from_address.verification_sent", row, {"email": row.email})
    outbox.wake()
    return await models.FromAddress.get(id=row.id)


async def verify_token(token: str) -> tuple[models.FromAddress | None, str]:
    """Use a verification link: (the address, '') or (None, why it did not work)."""
    if not token or len(token) > 200:
        return None, "this link is not valid"
    digest = _digest(token)
    row = await models.FromAddress.filter(token_hash=digest).first()
    if row is None:
        return None, "this link is not valid or was already used"
    if row.token_expires_at is None or row.token_expires_at < datetime.now(UTC):
        return None, "this link has expired; ask an administrator to send a new one"
    async with uow.transaction():
        # Conditional on the hash: two clicks at once verify once.
        done = await models.FromAddress.filter(id=row.id, token_hash=digest).update(
            is_verified=True, verified_at=datetime.now(UTC), token_hash=None, token_expires_at=None
        )
        if done != 1:
            return None, "this link is not valid or was already used"
        await _record(None, "from_address.verified", row, {"email": row.email})
    return await models.FromAddress.get(id=row.id), ""


async def update_from_address(
    actor: Actor, *, settings: Settings, address_id: int, changes: dict[str, Any]
) -> models.FromAddress:
    """Rename, disable/enable (EM-9) or change the own-SMTP settings of a From address."""
    require_admin(actor, "manage From addresses")
    unknown = set(changes) - {"display_name", "is_disabled", "smtp_settings"}
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    row = await _require(address_id)
    errors = Errors()
    values: dict[str, Any] = {}
    if "display_name" in changes:
        name = validation.text(
            errors, "displayName", changes["display_name"] or "", max_length=DISPLAY_NAME_MAX
        )
        values["display_name"] = name or ""
    if "is_disabled" in changes:
        if changes["is_disabled"] is None:
            errors.add("isDisabled", "isDisabled cannot be cleared", ErrorCode.REQUIRED)
        values["is_disabled"] = changes["is_disabled"]
    if changes.get("smtp_settings") is not None:
        own = _clean_smtp(errors, changes["smtp_settings"])
        values.update({k: v for k, v in own.items() if k != "password"})
        values["smtp_password_encrypted"] = encrypt(settings, own["password"])
    errors.raise_if_any()
    shown = {k: getattr(row, k) for k in values if k != "smtp_password_encrypted"}
    async with uow.transaction():
        if values:
            await models.FromAddress.filter(id=row.id).update(**values)
        fresh = await models.FromAddress.get(id=row.id)
        changed = activity.diff(shown, {k: getattr(fresh, k) for k in shown})
        if "smtp_password_encrypted" in values:
            changed["smtpPassword"] = {"old": "***", "new": "***"}
        if changed:
            await _record(actor, "from_address.updated", fresh, changed)
    return fresh


async def delete_from_address(actor: Actor, *, address_id: int) -> models.FromAddress:
    """Delete a From address (EM-9); mail queued from it goes out through the relay."""
    require_admin(actor, "manage From addresses")
    row = await _require(address_id)
    async with uow.transaction():
        await _record(actor, "from_address.deleted", row, {"email": row.email})
        await row.delete()
    return row
