"""Phone numbers in E.164 (`phonenumbers`, Google's libphonenumber) and finding the contacts
that have one."""

from __future__ import annotations

import re

import phonenumbers

from deskql import models

MAX_CANDIDATES = 200


def to_e164(raw: str | None, region: str = "US") -> str | None:
    """The number in E.164 (+14155550100); None when it is empty, malformed or impossible."""
    if raw is None or not raw.strip() or len(raw) > 40:
        return None
    try:
        parsed = phonenumbers.parse(raw, region.upper() or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed) or not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


async def contacts_with(number: str, region: str = "US") -> list[models.Contact]:
    """Contacts whose phone or mobile is this E.164 number, most recently changed first.

    Contacts keep their numbers as typed ("(415) 555-0100"); candidates are those whose
    phone or mobile holds the last four digits, each then normalised and compared."""
    digits = re.sub(r"\D", "", number)
    tail = digits[-4:]
    if len(tail) < 4:
        return []
    from tortoise.expressions import Q

    rows = (
        await models.Contact.filter(Q(phone__contains=tail) | Q(mobile__contains=tail))
        .order_by("-updated_at", "-id")
        .limit(MAX_CANDIDATES)
    )
    return [
        row for row in rows if number in (to_e164(row.phone, region), to_e164(row.mobile, region))
    ]
