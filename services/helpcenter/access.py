"""Contacts' sign-in: passwords (argon2id, as agents'), contact tokens and the ContactActor.

Contact tokens start with `dqc_`; agents' with `dq_`. Each API refuses the other's kind by
name, so a token can never act on the wrong audience's API. A contact token is checked on
every request against its contact's login row: a deactivated contact's tokens stop at once,
and a deleted contact's tokens are deleted with it (ON DELETE CASCADE).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from deskql import models
from deskql.services import auth, throttle, uow
from deskql.services.errors import ErrorCode, Errors, NotAuthenticated, ValidationFailed
from deskql.settings import Settings

CONTACT_TOKEN_PREFIX = auth.CONTACT_TOKEN_PREFIX
PASSWORD_MIN = 8
PASSWORD_MAX = 200


@dataclass(frozen=True)
class ContactActor:
    """A signed-in contact: who they are and which tickets they may see (ORG-5)."""

    contact_id: int
    account_id: int | None
    is_account_manager: bool
    token_id: int | None = None


def digest(token: str) -> str:
    """The sha256 a token or link is stored as (256 random bits: a fast hash suffices)."""
    return hashlib.sha256(token.encode()).hexdigest()


def is_contact_token(token: str | None) -> bool:
    """Whether a bearer token is of the contacts' kind."""
    return bool(token) and token.startswith(CONTACT_TOKEN_PREFIX)  # type: ignore[union-attr]


def check_password(errors: Errors, field: str, password: str | None) -> str | None:
    """A new password: 8 to 200 characters."""
    if password is None or len(password) < PASSWORD_MIN:
        errors.add(field, f"a password needs at least {PASSWORD_MIN} characters", ErrorCode.INVALID)
        return None
    if len(password) > PASSWORD_MAX:
        errors.add(field, f"a password has at most {PASSWORD_MAX} characters", ErrorCode.TOO_LONG)
        return None
    return password


async def issue_token(contact_id: int, *, days: int) -> str:
    """A new contact token (shown once; stored as its sha256)."""
    plain = CONTACT_TOKEN_PREFIX + secrets.token_urlsafe(32)
    await models.ContactToken.create(
        contact_id=contact_id,
        token_hash=digest(plain),
        prefix=plain[:10],
        expires_at=datetime.now(UTC) + timedelta(days=days),
    )
    return plain


async def authenticate(token: str | None) -> ContactActor:
    """Resolve a contact token to a ContactActor, or raise NotAuthenticated saying why."""
    if not token:
        raise NotAuthenticated("sign in first: send 'Authorization: Bearer <contact token>'")
    if not is_contact_token(token):
        if token.startswith(auth.TOKEN_PREFIX):
            raise NotAuthenticated(
                "an agent's token does not work on the help center: sign in as a contact"
            )
        raise NotAuthenticated("invalid token")
    row = await models.ContactToken.filter(token_hash=digest(token)).first()
    if row is None:
        raise NotAuthenticated("invalid token")
    if row.revoked_at is not None:
        raise NotAuthenticated("this token has been revoked; sign in again")
    if row.expires_at <= datetime.now(UTC):
        raise NotAuthenticated("this token has expired; sign in again")
    rows = await models.ContactLogin.filter(contact_id=row.contact_id).values_list(  # type: ignore[attr-defined]
        "is_active", "is_account_manager", "contact__account_id"
    )
    if not rows or not rows[0][0]:
        raise NotAuthenticated("this contact's help-center access is deactivated")
    _, manager, account_id = rows[0]
    return ContactActor(row.contact_id, account_id, bool(manager), row.id)  # type: ignore[attr-defined]


def login_policy(settings: Settings) -> throttle.Policy:
    """How contact sign-in is throttled: as agents' (the same settings), in its own buckets."""
    return throttle.Policy(
        name="contact-login",
        free_failures=settings.login_free_failures,
        address_free_failures=settings.login_address_free_failures,
        base_delay_seconds=settings.login_block_base_ms / 1000,
        max_delay_seconds=settings.login_block_max_ms / 1000,
        window_seconds=settings.login_window_seconds,
    )


async def login(
    settings: Settings, *, email: str, password: str, client_address: str | None = None
) -> tuple[models.Contact, str]:
    """Check a contact's email and password and issue a token; throttled per email and per
    client address (services/throttle: RateLimited after repeated failures)."""
    clean = (email or "").strip().lower()
    attempt = await throttle.begin(login_policy(settings), identifier=clean, address=client_address)
    try:
        found = await _check_and_issue(clean, password, settings.session_token_days)
    except ValidationFailed:
        await throttle.failed(attempt)
        raise
    await throttle.succeeded(attempt)
    return found


async def _check_and_issue(clean: str, password: str, days: int) -> tuple[models.Contact, str]:
    # No contact's email holds a NUL (PostgreSQL's text cannot even be compared with one).
    known = clean and "\x00" not in clean
    contact = await models.Contact.filter(email=clean).first() if known else None
    login_row = await models.ContactLogin.filter(contact_id=contact.id).first() if contact else None
    ok = login_row is not None and login_row.password_hash is not None
    if ok:
        assert login_row is not None and login_row.password_hash is not None
        ok = await auth.verify_password(login_row.password_hash, password)
    else:
        # The same time for unknown emails, so they cannot be told apart by timing.
        await auth.hash_password(password)
    if not ok or contact is None or login_row is None:
        raise ValidationFailed.one(None, "wrong email or password", ErrorCode.INVALID_CREDENTIALS)
    if not login_row.is_active:
        raise ValidationFailed.one(
            None, "your help-center access is deactivated", ErrorCode.INVALID_CREDENTIALS
        )
    async with uow.transaction():
        await models.ContactLogin.filter(id=login_row.id).update(last_login_at=datetime.now(UTC))
        plain = await issue_token(contact.id, days=days)
    return contact, plain


async def logout(actor: ContactActor) -> None:
    """Revoke the token the contact is signed in with."""
    if actor.token_id is not None:
        await models.ContactToken.filter(id=actor.token_id, revoked_at__isnull=True).update(
            revoked_at=datetime.now(UTC)
        )


async def revoke_all(contact_id: int) -> int:
    """Revoke every token of a contact (deactivation, a new password)."""
    return await models.ContactToken.filter(contact_id=contact_id, revoked_at__isnull=True).update(
        revoked_at=datetime.now(UTC)
    )


async def update_access(
    actor: auth.Actor,
    *,
    contact_id: int,
    is_active: bool | None = None,
    is_account_manager: bool | None = None,
) -> models.ContactLogin:
    """Deactivate or reactivate a contact's help-center access, or make them their account's
    manager (they then see all its tickets); any agent. Deactivating revokes their tokens."""
    from deskql.services import activity  # activity imports notifications, which import us not

    contact = await models.Contact.filter(id=contact_id).first()
    if contact is None:
        raise ValidationFailed.one("contactId", "no such contact", ErrorCode.NOT_FOUND)
    if is_account_manager and contact.account_id is None:  # type: ignore[attr-defined]
        raise ValidationFailed.one(
            "isAccountManager", "the contact belongs to no account", ErrorCode.INVALID_STATE
        )
    async with uow.transaction():
        row = await models.ContactLogin.filter(contact_id=contact.id).first()
        if row is None:
            row = await models.ContactLogin.create(contact_id=contact.id)
        changes: dict[str, dict[str, bool]] = {}
        if is_active is not None and is_active != row.is_active:
            changes["isActive"] = {"old": row.is_active, "new": is_active}
            row.is_active = is_active
        if is_account_manager is not None and is_account_manager != row.is_account_manager:
            changes["isAccountManager"] = {"old": row.is_account_manager, "new": is_account_manager}
            row.is_account_manager = is_account_manager
        if changes:
            await row.save(update_fields=["is_active", "is_account_manager", "updated_at"])
            if is_active is False:
                await revoke_all(contact.id)
            await activity.record(
                actor=actor,
                kind="contact.help_center_access_updated",
                subject_type="Contact",
                subject_id=contact.id,
                contact_id=contact.id,
                account_id=contact.account_id,  # type: ignore[attr-defined]
                changes=changes,
            )
    return row
