"""Comparison keys of contacts and accounts (CUS-5): what two values must share to be the same.

Names and emails: Unicode NFKC, case folded, surrounding space stripped and inner runs of
space collapsed ("  MELISSA " and "melissa", "ﬁona" and "fiona" match). Phones: parsed with
`phonenumbers` (Google's libphonenumber) in the organisation's region and compared as E.164,
so "+48 600 100 200" and "600-100-200" are one number in a Polish organisation; a number it
cannot parse falls back to its digits. Empty values have the key "" and never match.

The keys are stored in `*_key` columns written with the row (models.Contact.save, and
`contact_keys`/`account_keys` for queryset updates and bulk inserts), so duplicates are found
with GROUP BY on an indexed column.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

_SPACE = re.compile(r"\s+")
_NON_DIGIT = re.compile(r"\D")

# ISO 3166 region numbers without a leading + are read in (e.g. "PL"); set by the app from
# DESKQL_PHONE_REGION. Empty: only international numbers parse, the rest compare by digits.
_region: str = ""


def configure(region: str) -> None:
    """Set the region national phone numbers are read in (e.g. "PL")."""
    global _region
    _region = (region or "").strip().upper()


def region() -> str:
    """The configured phone region ("" when none)."""
    return _region


def text_key(value: str | None, max_length: int = 254) -> str:
    """The comparison key of a name or an email."""
    if not value:
        return ""
    folded = unicodedata.normalize("NFKC", value).casefold()
    return _SPACE.sub(" ", folded).strip()[:max_length]


def phone_key(value: str | None) -> str:
    """The comparison key of a phone number: E.164 when it parses, else its digits."""
    if not value or not value.strip():
        return ""
    raw = unicodedata.normalize("NFKC", value).strip()
    try:
        number = phonenumbers.parse(raw, _region or None)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_possible_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return _NON_DIGIT.sub("", raw)[:40]


def contact_keys(
    *,
    first_name: str | None,
    last_name: str | None,
    email: str | None,
    secondary_email: str | None,
    phone: str | None,
    mobile: str | None,
) -> dict[str, str]:
    """Every key column of a contact with these values."""
    full = f"{first_name or ''} {last_name or ''}"
    return {
        "first_name_key": text_key(first_name, 100),
        "last_name_key": text_key(last_name, 100),
        "full_name_key": text_key(full, 201),
        "email_key": text_key(email),
        "secondary_email_key": text_key(secondary_email),
        "phone_key": phone_key(phone),
        "mobile_key": phone_key(mobile),
    }


def account_keys(name: str | None, email: str | None, phone: str | None) -> dict[str, str]:
    """Every key column of an account with these values."""
    return {
        "name_key": text_key(name, 200),
        "email_key": text_key(email),
        "phone_key": phone_key(phone),
    }


CONTACT_KEY_SOURCES = ("first_name", "last_name", "email", "secondary_email", "phone", "mobile")
ACCOUNT_KEY_SOURCES = ("name", "email", "phone")
