"""Throttling of guessable secrets (sign-in): per account and per client address, shared by
every process through the database.

How it works, for any `Policy` (agent sign-in, contact sign-in, ...):

- Each attempt is counted *before* the secret is checked (`begin`), so a burst of parallel
  attempts cannot all slip past the count while the first ones are still being hashed.
- Up to `free_failures` failures within `window_seconds` cost nothing. Every further attempt
  blocks its key for an exponentially growing time (`base_delay_seconds` * 2^(n-1), at most
  `max_delay_seconds`): that attempt is checked, and the next one is refused with
  `RATE_LIMITED` and the time to wait until the block ends.
- A success clears the account's key (`succeeded`) and gives the address its attempt back;
  a failure leaves both counted (`failed` only prunes old rows now and then).
- Keys are the account identifier the client typed (hashed), whether or not such an account
  exists, and the client address: a throttled unknown email answers exactly like a throttled
  real one, so the throttle tells nothing about which accounts exist.

The state lives in `throttle_bucket` rows updated by compare-and-set on a version column, so
several `deskql serve` processes on one PostgreSQL share it without locks.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q

from deskql import models
from deskql.services.errors import ErrorCode, FieldError, ValidationFailed

# Compare-and-set retries (with a growing random pause) before a contended attempt is refused
# as rate limited: only a flood of parallel attempts on one key gets that far.
_CAS_TRIES = 60
# One call in this many also deletes expired buckets.
_PRUNE_ONE_IN = 200


@dataclass(frozen=True)
class Policy:
    """How one kind of attempt is throttled."""

    name: str
    free_failures: int = 5
    # Per client address: more, since many people may share one address (an office's NAT).
    address_free_failures: int = 50
    base_delay_seconds: float = 1.0
    max_delay_seconds: float = 900.0
    # Failures older than this are forgotten.
    window_seconds: float = 900.0

    def delay(self, over: int) -> float:
        """Seconds a key is blocked after its `over`-th failure beyond the free ones."""
        if over <= 0:
            return 0.0
        return min(self.max_delay_seconds, self.base_delay_seconds * 2 ** min(over - 1, 40))


class RateLimited(ValidationFailed):
    """Too many attempts: refused without checking; retry after `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(
            [
                FieldError(
                    None,
                    f"too many attempts; try again in {self.retry_after} s",
                    ErrorCode.RATE_LIMITED,
                )
            ]
        )


@dataclass(frozen=True)
class Attempt:
    """The keys an attempt was counted under (pass it to `succeeded` or `failed`)."""

    policy: Policy
    account_key: str
    address_key: str | None


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def account_key(policy: Policy, identifier: str) -> str:
    """The bucket key of an account identifier (e.g. an email, normalised by the caller)."""
    return f"{policy.name}:account:{_hash(identifier)}"


def address_key(policy: Policy, address: str) -> str:
    """The bucket key of a client address."""
    return f"{policy.name}:address:{address[:120]}"


async def begin(policy: Policy, *, identifier: str, address: str | None) -> Attempt:
    """Count an attempt for an account identifier and a client address, before checking its
    secret; RateLimited (nothing counted) when either key is blocked now."""
    now = datetime.now(UTC)
    attempt = Attempt(
        policy, account_key(policy, identifier), address_key(policy, address) if address else None
    )
    keys = [(attempt.account_key, policy.free_failures)]
    if attempt.address_key is not None:
        keys.append((attempt.address_key, policy.address_free_failures))
    # Refuse first on any blocked key, so a refused attempt extends nothing.
    rows = {r.key: r for r in await models.ThrottleBucket.filter(key__in=[k for k, _ in keys])}
    waits = [
        (row.blocked_until - now).total_seconds()
        for row in rows.values()
        if row.blocked_until is not None and row.blocked_until > now
    ]
    if waits:
        raise RateLimited(max(waits))
    for key, free in keys:
        await _count(policy, key, free, rows.get(key), now)
    return attempt


async def _count(
    policy: Policy, key: str, free: int, row: models.ThrottleBucket | None, now: datetime
) -> None:
    for tries in range(_CAS_TRIES):
        if row is None:
            try:
                row = await models.ThrottleBucket.create(key=key, failures=0, version=0)
            except IntegrityError:  # another process created it first
                row = await models.ThrottleBucket.get(key=key)
        if row.blocked_until is not None and row.blocked_until > now:
            raise RateLimited((row.blocked_until - now).total_seconds())
        recent = row.last_failure_at is not None and row.last_failure_at > now - timedelta(
            seconds=policy.window_seconds
        )
        failures = (row.failures if recent else 0) + 1
        over = failures - free
        blocked = now + timedelta(seconds=policy.delay(over)) if over > 0 else None
        done = await models.ThrottleBucket.filter(id=row.id, version=row.version).update(
            failures=failures, blocked_until=blocked, last_failure_at=now, version=row.version + 1
        )
        if done:
            return
        # Another attempt changed the bucket first: look again after a short random pause.
        await asyncio.sleep(random.uniform(0, 0.002 * (tries + 1)))  # noqa: S311
        row = await models.ThrottleBucket.filter(key=key).first()
    # Many processes raced for this key at once: a flood; let the caller wait a moment.
    raise RateLimited(policy.base_delay_seconds)


async def succeeded(attempt: Attempt) -> None:
    """The secret was right: forget the account's failures, give the address its attempt back."""
    await models.ThrottleBucket.filter(key=attempt.account_key).delete()
    if attempt.address_key is not None:
        await models.ThrottleBucket.filter(key=attempt.address_key, failures__gt=0).update(
            failures=F("failures") - 1, version=F("version") + 1
        )


async def failed(attempt: Attempt) -> None:
    """The secret was wrong: the attempt stays counted; now and then prune expired buckets."""
    if random.randrange(_PRUNE_ONE_IN) == 0:  # noqa: S311 - not security relevant
        await prune(attempt.policy)


async def prune(policy: Policy) -> int:
    """Delete this policy's buckets with no recent failure and no running block; how many."""
    now = datetime.now(UTC)
    cutoff = now - timedelta(seconds=policy.window_seconds)
    return await models.ThrottleBucket.filter(
        Q(blocked_until__isnull=True) | Q(blocked_until__lt=now),
        key__startswith=f"{policy.name}:",
        last_failure_at__lt=cutoff,
    ).delete()
