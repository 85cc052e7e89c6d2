"""Contacts found by email for mail and merges: read once per transaction, created if new."""

from __future__ import annotations

import re
from collections.abc import Iterable

from deskql import models
from deskql.services import activity, notifications, uow, validation
from deskql.services.auth import Actor
from deskql.services.errors import Errors


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
