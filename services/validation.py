"""Field cleaners shared by every service: each records an error and returns the clean value."""

from __future__ import annotations

import re

from deskql.services.errors import ErrorCode, Errors

# Deliberately simple: one @, a dot in the domain, no spaces or control characters.
_EMAIL = re.compile(
    r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_URL = re.compile(r"^https?://[^\s]+$", re.IGNORECASE)


def text(
    errors: Errors,
    field: str,
    value: str | None,
    *,
    max_length: int,
    required: bool = False,
    multiline: bool = False,
) -> str | None:
    """Trim and check a string: required, length and no control characters."""
    if value is None:
        if required:
            errors.add(field, f"{field} is required", ErrorCode.REQUIRED)
        return None
    cleaned = value.strip()
    if required and not cleaned:
        errors.add(field, f"{field} must not be empty", ErrorCode.REQUIRED)
        return None
    if len(cleaned) > max_length:
        errors.add(
            field,
            f"{field} is {len(cleaned)} characters long; at most {max_length} are allowed",
            ErrorCode.TOO_LONG,
        )
        return None
    probe = cleaned.replace("\n", "").replace("\r", "").replace("\t", "") if multiline else cleaned
    if _CONTROL.search(probe) or (not multiline and ("\n" in cleaned or "\r" in cleaned)):
        errors.add(field, f"{field} contains control characters", ErrorCode.INVALID)
        return None
    return cleaned


def email(errors: Errors, field: str, value: str | None, *, required: bool = False) -> str | None:
    """Check and lower-case an email address; empty is allowed unless required."""
    cleaned = text(errors, field, value, max_length=254, required=required)
    if not cleaned:
        return cleaned
    if not _EMAIL.match(cleaned):
        errors.add(field, f"{cleaned!r} is not a valid email address", ErrorCode.INVALID_EMAIL)
        return None
    return cleaned.lower()


def url(errors: Errors, field: str, value: str | None, *, max_length: int = 500) -> str | None:
    """Check an http(s) URL; empty is allowed."""
    cleaned = text(errors, field, value, max_length=max_length)
    if cleaned and not _URL.match(cleaned):
        errors.add(field, f"{field} must be an http(s) URL", ErrorCode.INVALID)
        return None
    return cleaned


def phone(errors: Errors, field: str, value: str | None) -> str | None:
    """Check a phone number: digits, spaces and + - ( ) . / x only."""
    cleaned = text(errors, field, value, max_length=40)
    if cleaned and not re.fullmatch(r"[0-9+\-() ./x]+", cleaned):
        errors.add(field, f"{field} is not a phone number", ErrorCode.INVALID)
        return None
    return cleaned
