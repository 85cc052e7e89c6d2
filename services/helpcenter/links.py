"""Single-use, expiring links emailed to contacts through the outbox: an agent's invite, a
self sign-up's address verification and a forgotten password's reset.

The link goes to the help center page (`/help#/<kind>/<token>`): the token sits in the URL's
fragment, which browsers never send to a server, so it stays out of access logs. Only its
sha256 is stored. Using a link is a conditional UPDATE on `used_at IS NULL`: two clicks at once
use it once. A new link of the same kind for the same address ends the older ones.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from email.utils import make_msgid

from deskql import models
from deskql.channels.email import outbound as smtp
from deskql.models.helpcenter import ContactLinkKind
from deskql.services import activity, auth, customers, outbox, support_addresses, uow, validation
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.helpcenter import access, options
from deskql.settings import Settings

LIFETIME: dict[ContactLinkKind, timedelta] = {
    ContactLinkKind.INVITE: timedelta(days=7),
    ContactLinkKind.SIGNUP: timedelta(days=1),
    ContactLinkKind.RESET: timedelta(hours=1),
}
_SUBJECTS = {
    ContactLinkKind.INVITE: "You are invited to the {org} help center",
    ContactLinkKind.SIGNUP: "Confirm your email for the {org} help center",
    ContactLinkKind.RESET: "Reset your {org} help center password",
}
_BODIES = {
    ContactLinkKind.INVITE: "You can now follow your support requests online.\n\n"
    "Choose a password within {hours} hours here:\n{link}\n",
    ContactLinkKind.SIGNUP: "Someone (hopefully you) signed up with this address.\n\n"
    "Confirm it within {hours} hours here:\n{link}\n\nIf this was not you, ignore this email.\n",
    ContactLinkKind.RESET: "Someone (hopefully you) asked to reset your password.\n\n"
    "Choose a new one within {hours} hours here:\n{link}\n\n"
    "If this was not you, ignore this email: your password stays as it is.\n",
}


def link_url(settings: Settings, kind: ContactLinkKind, token: str) -> str:
    """The page address a link's email points to."""
    return f"{settings.base_url}/help#/{kind.value.lower()}/{token}"


async def _queue(
    settings: Settings,
    *,
    kind: ContactLinkKind,
    email: str,
    contact_id: int | None,
    created_by: int | None = None,
    name: str = "",
    password_hash: str | None = None,
) -> models.ContactLink:
    """Write a link and queue its email; inside the caller's transaction."""
    now = datetime.now(UTC)
    # The newest link of a kind for an address is the only one that works.
    await models.ContactLink.filter(kind=kind, email=email, used_at__isnull=True).update(
        used_at=now
    )
    token = secrets.token_urlsafe(32)
    row = await models.ContactLink.create(
        kind=kind,
        token_hash=access.digest(token),
        email=email,
        contact_id=contact_id,
        name=name,
        password_hash=password_hash,
        created_by_id=created_by,
        expires_at=now + LIFETIME[kind],
    )
    address = await support_addresses.ensure_default_address(settings)
    sender, sender_name = address.email, address.display_name or settings.org_name
    message_id = make_msgid(domain=outbox.message_domain(settings))
    hours = int(LIFETIME[kind].total_seconds() // 3600)
    raw = smtp.build_message(
        from_name=sender_name,
        from_email=sender,
        to=[email],
        cc=[],
        subject=_SUBJECTS[kind].format(org=settings.org_name),
        body_text=_BODIES[kind].format(hours=hours, link=link_url(settings, kind, token)),
        message_id=message_id,
        extra_headers={"Auto-Submitted": "auto-generated"},
    )
    await outbox.enqueue(
        raw=raw, message_id=message_id, mail_from=sender, to=[email], cc=[], bcc=[]
    )
    return row


async def _record(actor: Actor | None, kind: str, contact: models.Contact, changes: dict) -> None:  # type: ignore[type-arg]
    await activity.record(
        actor=actor,
        kind=kind,
        subject_type="Contact",
        subject_id=contact.id,
        contact_id=contact.id,
        account_id=contact.account_id,  # type: ignore[attr-defined]
        changes=changes,
    )


async def invite(actor: Actor, *, settings: Settings, contact_id: int) -> models.Contact:
    """Email a contact a single-use link to choose a help-center password (any agent)."""
    contact = await models.Contact.filter(id=contact_id).first()
    if contact is None:
        raise ValidationFailed.one("contactId", "no such contact", ErrorCode.NOT_FOUND)
    if not contact.email:
        raise ValidationFailed.one(
            "contactId", "the contact has no email address to invite", ErrorCode.REQUIRED
        )
    login = await models.ContactLogin.filter(contact_id=contact.id).first()
    if login is not None and not login.is_active:
        raise ValidationFailed.one(
            "contactId",
            "the contact's help-center access is deactivated: reactivate it first",
            ErrorCode.INVALID_STATE,
        )
    async with uow.transaction():
        await _queue(
            settings,
            kind=ContactLinkKind.INVITE,
            email=contact.email,
            contact_id=contact.id,
            created_by=actor.agent_id,
        )
        await _record(actor, "contact.help_center_invited", contact, {"email": contact.email})
    outbox.wake()
    return contact


async def sign_up(
    settings: Settings, *, email: str | None, name: str | None, password: str
) -> None:
    """Self sign-up (when an administrator turned it on): email a verification link. The same
    answer whether or not the address is known; a known contact with a password gets a reset
    link instead, so nobody learns who has an account."""
    if not (await options.get()).self_signup:
        raise ValidationFailed.one(
            None,
            "self sign-up is turned off: ask the help desk for an invite",
            ErrorCode.INVALID_STATE,
        )
    errors = Errors()
    clean = validation.email(errors, "email", email, required=True)
    clean_name = validation.text(errors, "name", name, max_length=200) or ""
    access.check_password(errors, "password", password)
    errors.raise_if_any()
    assert clean is not None
    contact = await models.Contact.filter(email=clean).first()
    login = await models.ContactLogin.filter(contact_id=contact.id).first() if contact else None
    if login is not None and not login.is_active:
        return  # deactivated: nothing is sent, and nothing tells the asker so
    password_hash = await auth.hash_password(password)
    async with uow.transaction():
        if login is not None and login.password_hash:
            await _queue(
                settings, kind=ContactLinkKind.RESET, email=clean, contact_id=login.contact_id
            )  # type: ignore[attr-defined]
        else:
            await _queue(
                settings,
                kind=ContactLinkKind.SIGNUP,
                email=clean,
                contact_id=contact.id if contact else None,
                name=clean_name,
                password_hash=password_hash,
            )
    outbox.wake()


async def request_reset(settings: Settings, *, email: str | None) -> None:
    """Email a password-reset link to a contact who may sign in; the same answer otherwise."""
    errors = Errors()
    clean = validation.email(errors, "email", email, required=True)
    errors.raise_if_any()
    contact = await models.Contact.filter(email=clean).first()
    login = await models.ContactLogin.filter(contact_id=contact.id).first() if contact else None
    if contact is None or login is None or not login.is_active:
        return
    async with uow.transaction():
        await _queue(
            settings, kind=ContactLinkKind.RESET, email=contact.email or "", contact_id=contact.id
        )
    outbox.wake()


async def use_link(
    settings: Settings, *, token: str, password: str | None
) -> tuple[models.Contact, str]:
    """Use an invite or reset link (with the new password) or a sign-up link (its password
    was chosen at sign-up); returns the contact and a fresh token (they are signed in).
    A password set this way revokes the contact's other tokens."""
    if not token or len(token) > 200:
        raise ValidationFailed.one("token", "this link is not valid", ErrorCode.INVALID)
    row = await models.ContactLink.filter(token_hash=access.digest(token)).first()
    if row is None or row.used_at is not None:
        raise ValidationFailed.one(
            "token", "this link is not valid or was already used", ErrorCode.INVALID
        )
    if row.expires_at <= datetime.now(UTC):
        raise ValidationFailed.one(
            "token",
            "this link has expired: ask for a new one",
            ErrorCode.INVALID_STATE,
        )
    new_hash = row.password_hash
    if row.kind is not ContactLinkKind.SIGNUP:
        errors = Errors()
        access.check_password(errors, "password", password)
        errors.raise_if_any()
        assert password is not None
        new_hash = await auth.hash_password(password)
    assert new_hash is not None
    async with uow.transaction():
        done = await models.ContactLink.filter(id=row.id, used_at__isnull=True).update(
            used_at=datetime.now(UTC)
        )
        if done != 1:
            raise ValidationFailed.one(
                "token", "this link is not valid or was already used", ErrorCode.INVALID
            )
        if row.contact_id is not None:  # type: ignore[attr-defined]
            contact = await models.Contact.get(id=row.contact_id)  # type: ignore[attr-defined]
        else:
            contact = await customers.find_or_create_contact(None, email=row.email, name=row.name)
        login = await models.ContactLogin.filter(contact_id=contact.id).first()
        if login is not None and not login.is_active:
            raise ValidationFailed.one(
                "token", "your help-center access is deactivated", ErrorCode.INVALID_STATE
            )
        if login is None:
            await models.ContactLogin.create(contact_id=contact.id, password_hash=new_hash)
        else:
            await models.ContactLogin.filter(id=login.id).update(password_hash=new_hash)
        await access.revoke_all(contact.id)
        await _record(
            None,
            "contact.help_center_password_set",
            contact,
            {"via": row.kind.value},
        )
        plain = await access.issue_token(contact.id, days=settings.session_token_days)
    return contact, plain
