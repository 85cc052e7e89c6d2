"""What every inbound message looks up, held per process for a few seconds: the support
addresses, the default department, the email switches (EM-11, EM-13, EM-14) and the blocklist.

Read per message these were five statements of about twenty (RCPT's address, the message's
address, the first department, the switches, the blocklist). They change rarely and through
services, which call `invalidate()` after they commit: this process sees a change at once,
another process (a separate `deskql smtp`) within TTL seconds. An address that is not in the
snapshot is still looked up in the database, so a new alias is never refused for staleness;
the blocklist is held only while it is small (else it is asked per message).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from deskql import models
from deskql.services import email_settings

TTL = 5.0  # seconds another process's change may take to be seen here
MAX_BLOCKED = 5000  # a bigger blocklist is queried per message instead of held


@dataclass(frozen=True)
class AddressInfo:
    """A support address as inbound mail needs it."""

    id: int
    email: str
    department_id: int | None
    is_fetching: bool


@dataclass(frozen=True)
class Snapshot:
    """The looked-up rows at one moment."""

    loaded_at: float
    by_email: dict[str, AddressInfo]
    by_id: dict[int, AddressInfo]
    first_department_id: int | None
    switch_rows: list[models.EmailSettings]
    blocked: frozenset[str] | None  # None: too many to hold


_snapshot: Snapshot | None = None
_generation = 0


def invalidate() -> None:
    """Forget the snapshot (call after committing a change to what it holds)."""
    global _snapshot, _generation
    _snapshot = None
    _generation += 1


async def _first_department_id() -> int | None:
    ids = await models.Department.all().order_by("id").limit(1).values_list("id", flat=True)
    return ids[0] if ids else None  # type: ignore[return-value]


def _info(row: models.SupportAddress) -> AddressInfo:
    return AddressInfo(row.id, row.email, row.department_id, row.is_fetching)  # type: ignore[attr-defined]


async def snapshot() -> Snapshot:
    """The current snapshot, loaded when missing or older than TTL."""
    global _snapshot
    snap = _snapshot
    if snap is not None and time.monotonic() - snap.loaded_at < TTL:
        return snap
    generation = _generation
    addresses = [_info(r) for r in await models.SupportAddress.all()]
    first = await _first_department_id()
    rows = await models.EmailSettings.all()
    patterns = (
        await models.BlockedSender.all().limit(MAX_BLOCKED + 1).values_list("pattern", flat=True)
    )
    snap = Snapshot(
        loaded_at=time.monotonic(),
        by_email={a.email: a for a in addresses},
        by_id={a.id: a for a in addresses},
        first_department_id=first,  # type: ignore[arg-type]
        switch_rows=list(rows),
        blocked=frozenset(patterns) if len(patterns) <= MAX_BLOCKED else None,
    )
    if generation == _generation:  # not invalidated while loading
        _snapshot = snap
    return snap


async def address(email: str) -> AddressInfo | None:
    """The support address mail to this address is for (case-insensitive), if any."""
    key = email.strip().lower()
    found = (await snapshot()).by_email.get(key)
    if found is not None:
        return found
    row = await models.SupportAddress.filter(email=key).first()
    if row is None:
        return None
    invalidate()  # created since the snapshot (or by another process)
    return _info(row)


async def known_support_address(email: str) -> AddressInfo | None:
    """The support address an email is, from the cached snapshot only (no statement per
    message; a new address is known within the snapshot's lifetime)."""
    return (await snapshot()).by_email.get(email.strip().lower())


async def address_by_id(address_id: int) -> AddressInfo | None:
    """A support address by id, if it exists."""
    found = (await snapshot()).by_id.get(address_id)
    if found is not None:
        return found
    row = await models.SupportAddress.filter(id=address_id).first()
    if row is None:
        return None
    invalidate()
    return _info(row)


async def default_department_id() -> int | None:
    """The department of mail to an address without one: the first department."""
    first = (await snapshot()).first_department_id
    if first is not None:
        return first
    # None is not trusted from the snapshot: a department created since must be found.
    return await _first_department_id()


async def switches(department_id: int | None) -> email_settings.Effective:
    """The email switches in force for a department (EM-13 overrides included)."""
    return email_settings.resolve((await snapshot()).switch_rows, department_id)


async def blocked_among(patterns: list[str]) -> set[str]:
    """Which of these addresses or @domains are on the blocklist."""
    held = (await snapshot()).blocked
    if held is not None:
        return {p for p in patterns if p in held}
    return set(
        await models.BlockedSender.filter(pattern__in=patterns).values_list("pattern", flat=True)
    )
