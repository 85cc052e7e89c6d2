"""Contacts, accounts and products (CUS-1, CUS-2, CUS-9)."""

from __future__ import annotations

import models
from services import activity, validation
from services.auth import Actor
from services.errors import Errors


def split_name(name: str | None, email: str) -> tuple[str, str]:
    """First and last name from a display name, or from the email's local part."""
    cleaned = (name or "").strip().strip('"').strip()
    if not cleaned:
        cleaned = email.split("@", 1)[0]
    first, _, last = cleaned.rpartition(" ")
    if not first:
        return "", last[:100]
    return first[:100], last[:100]


async def find_or_create_contact(
    actor: Actor | None, *, email: str, name: str | None = None
) -> models.Contact:
    """The contact with this email, created on first contact (CUS-1: Melissa's first email)."""
    errors = Errors()
    clean = validation.email(errors, "email", email, required=True)
    errors.raise_if_any()
    assert clean is not None
    contact = await models.Contact.filter(email=clean).first()
    if contact is not None:
        return contact
    first, last = split_name(name, clean)
    contact = await models.Contact.create(email=clean, first_name=first, last_name=last)
    await activity.record(
        actor=actor,
        kind="contact.created",
        subject_type="Contact",
        subject_id=contact.id,
        contact_id=contact.id,
        changes={"email": clean, "name": contact.name},
    )
    return contact
