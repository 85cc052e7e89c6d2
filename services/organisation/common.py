"""Shared by the organisation's services: limits, password and rate checks, sorting."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import F
from tortoise.functions import Lower
from tortoise.queryset import QuerySet

from deskql import models
from deskql.services import activity
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors

PASSWORD_MIN = 8


PASSWORD_MAX = 256


NAME_MAX = 120


PERSON_NAME_MAX = 100


DESCRIPTION_MAX = 5000


HOBBIES_MAX = 500


# Stands in for password values in Activity rows: history says a password changed, never what.
HIDDEN = "[hidden]"


SORTS = ("NAME", "CREATED_AT")


# TIM-2: hourly rates in cents, 0 to 1,000,000.00 an hour.
MAX_HOURLY_RATE_CENTS = 100_000_000


UNCHANGED: Any = object()


def check_rate(errors: Errors, field: str, cents: int | None) -> None:
    """An hourly rate in cents: 0 to MAX_HOURLY_RATE_CENTS (None passes: no rate)."""
    if cents is not None and not 0 <= cents <= MAX_HOURLY_RATE_CENTS:
        errors.add(
            field, f"a rate is 0 to {MAX_HOURLY_RATE_CENTS} cents an hour", ErrorCode.INVALID
        )


def check_password(errors: Errors, password: str | None, field: str = "password") -> None:
    """Passwords: 8 to 256 characters."""
    if password is None:
        return
    if len(password) < PASSWORD_MIN:
        errors.add(field, f"a password needs at least {PASSWORD_MIN} characters", ErrorCode.INVALID)
    elif len(password) > PASSWORD_MAX:
        errors.add(field, f"a password has at most {PASSWORD_MAX} characters", ErrorCode.TOO_LONG)


def _now() -> datetime:
    return datetime.now(UTC)


def _sorted(
    qs: QuerySet[Any], *, sort: str, desc: bool, name_fields: tuple[str, ...]
) -> QuerySet[Any]:
    """Order a list by name (case-insensitive, the same on SQLite and PostgreSQL) or creation."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    prefix = "-" if desc else ""
    if sort == "NAME":
        keys = {f"sort_key_{i}": Lower(name) for i, name in enumerate(name_fields)}
        qs = qs.annotate(**keys)
        columns = list(keys)
    else:
        columns = ["created_at"]
    return qs.order_by(*(prefix + c for c in columns), f"{prefix}id")


def _words(text: str | None) -> list[str]:
    return (text or "").split()


async def _check_departments(errors: Errors, department_ids: Iterable[int]) -> list[int]:
    """The distinct department ids, sorted; a NOT_FOUND error when any does not exist."""
    ids = sorted(set(department_ids))
    if ids:
        found = await models.Department.filter(id__in=ids).count()
        if found != len(ids):
            errors.add("departmentIds", "no such department", ErrorCode.NOT_FOUND)
    return ids


async def _unassign_tickets(actor: Actor | None, column: str, pk: int) -> int:
    """Unassign the tickets assigned to an agent or team, one `ticket.updated` row each.

    Call inside a transaction. The version goes up so that clients holding the old one
    get a CONFLICT instead of silently reassigning.
    """
    tickets = await models.Ticket.filter(**{column: pk}).select_for_update()
    if not tickets:
        return 0
    await models.Ticket.filter(id__in=[t.id for t in tickets]).update(
        **{column: None}, version=F("version") + 1, updated_at=_now()
    )
    for ticket in tickets:
        await activity.record_ticket(
            actor=actor,
            kind="ticket.updated",
            ticket=ticket,
            changes={column: {"old": pk, "new": None}},
        )
    return len(tickets)
