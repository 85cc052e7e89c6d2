"""Authentication: password hashing, bearer tokens and the Actor every service is given."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from deskql import models
from deskql.models.enums import Role, TokenKind
from deskql.services import auth_cache, throttle
from deskql.services.auth_cache import AuthCache
from deskql.services.errors import ErrorCode, NotAuthenticated, ValidationFailed
from deskql.serving import metrics
from deskql.settings import Settings

TOKEN_PREFIX = "dq_"
# Contacts' tokens (services/helpcenter/access.py): never valid here.
CONTACT_TOKEN_PREFIX = "dqc_"


@dataclass(frozen=True)
class Actor:
    """Who is acting: an agent with role and department memberships, resolved per request."""

    agent_id: int
    role: Role
    department_ids: frozenset[int]
    token_id: int | None = None

    @property
    def is_admin(self) -> bool:
        """Administrators see and change everything (ORG-5)."""
        return self.role is Role.ADMINISTRATOR


_hasher: PasswordHasher | None = None
# Concurrent argon2 computations per process (each takes password_memory_kib of memory).
_hash_concurrency = 2
# One semaphore per event loop (an asyncio.Semaphore belongs to the loop that first waits on it).
_hash_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def configure_hasher(time_cost: int, memory_kib: int, concurrency: int | None = None) -> None:
    """Set the argon2id cost used for new password hashes, and how many run at once."""
    global _hasher, _hash_concurrency
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    if concurrency is not None:
        _hash_concurrency = max(1, concurrency)
        _hash_slots.clear()


def _slots() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slots = _hash_slots.get(loop)
    if slots is None:
        slots = _hash_slots[loop] = asyncio.Semaphore(_hash_concurrency)
    return slots


async def _bounded(fn: Callable[[], object]) -> object:
    # A flood of sign-ins waits here instead of each allocating argon2's memory in a thread.
    async with _slots():
        return await asyncio.to_thread(fn)


def _get_hasher() -> PasswordHasher:
    global _hasher
    if _hasher is None:
        _hasher = PasswordHasher()
    return _hasher


async def hash_password(password: str) -> str:
    """Hash a password with argon2id, off the event loop (it is slow on purpose)."""
    hasher = _get_hasher()
    return str(await _bounded(lambda: hasher.hash(password)))


async def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches the stored argon2id hash."""

    def _verify() -> bool:
        try:
            return _get_hasher().verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return bool(await _bounded(_verify))


def _digest(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough to make a stolen table useless.
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(
    *,
    agent_id: int,
    kind: TokenKind,
    name: str = "",
    lifetime: timedelta | None = None,
    created_by: int | None = None,
) -> tuple[models.ApiToken, str]:
    """Create a token for an agent; returns the row and the plain token (shown once)."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = await models.ApiToken.create(
        agent_id=agent_id,
        kind=kind,
        name=name,
        token_hash=_digest(plain),
        prefix=plain[:10],
        expires_at=datetime.now(UTC) + lifetime if lifetime else None,
        created_by_id=created_by,
    )
    return row, plain


async def load_actor(agent_id: int, token_id: int | None = None) -> Actor:
    """Build the Actor for an agent from the database (role and departments)."""
    agent = await models.Agent.filter(id=agent_id).only("id", "role").get()
    dept_ids = await models.DepartmentMembership.filter(agent_id=agent_id).values_list(
        "department_id", flat=True
    )
    return Actor(agent.id, agent.role, frozenset(dept_ids), token_id)


async def authenticate(token: str | None, cache: AuthCache | None = None) -> Actor:
    """Resolve a bearer token to an Actor, or raise NotAuthenticated saying why; with a
    cache, a fresh entry answers without the database (services/auth_cache.py)."""
    if not token:
        raise NotAuthenticated("authentication required: send 'Authorization: Bearer <token>'")
    if token.startswith(CONTACT_TOKEN_PREFIX):
        raise NotAuthenticated(
            "a contact's help-center token does not work on the agents' API (use /help/graphql)"
        )
    digest = _digest(token)
    if cache is None or not cache.enabled:
        return (await _resolve(digest))[0]
    hit = cache.get(digest)
    if hit is not None:
        actor, expires_at = hit
        if expires_at is None or expires_at > datetime.now(UTC):
            return actor
        cache.forget(digest)
        raise NotAuthenticated("this token has expired; log in again")
    generation = cache.generation  # an invalidation from now on refuses what we read
    actor, expires_at = await _resolve(digest)
    cache.put(digest, actor, expires_at, generation)
    return actor


async def _resolve(digest: str) -> tuple[Actor, datetime | None]:
    """The Actor of a token digest and the token's expiry, from the database (only the
    columns needed: no agent row, no password hash)."""
    row = (
        await models.ApiToken.filter(token_hash=digest)
        .limit(1)
        .values_list(
            "id", "agent_id", "revoked_at", "expires_at", "agent__is_active", "agent__role"
        )
    )
    if not row:
        raise NotAuthenticated("invalid token")
    token_id, agent_id, revoked_at, expires_at, is_active, role = row[0]
    if revoked_at is not None:
        raise NotAuthenticated("this token has been revoked")
    if expires_at is not None:
        expires_at = _aware(expires_at)
        if expires_at <= datetime.now(UTC):
            raise NotAuthenticated("this token has expired; log in again")
    if not is_active:
        raise NotAuthenticated("this agent is deactivated")
    dept_ids = await models.DepartmentMembership.filter(agent_id=agent_id).values_list(
        "department_id", flat=True
    )
    return Actor(agent_id, Role(role), frozenset(dept_ids), token_id), expires_at


def _aware(value: datetime) -> datetime:
    # values_list gives SQLite's datetimes without a zone; they are stored in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def login_policy(settings: Settings) -> throttle.Policy:
    """How agent sign-in is throttled under these settings."""
    return throttle.Policy(
        name="agent-login",
        free_failures=settings.login_free_failures,
        address_free_failures=settings.login_address_free_failures,
        base_delay_seconds=settings.login_block_base_ms / 1000,
        max_delay_seconds=settings.login_block_max_ms / 1000,
        window_seconds=settings.login_window_seconds,
    )


_DEFAULT_POLICY = throttle.Policy(name="agent-login")


async def login(
    *,
    email: str,
    password: str,
    session_days: int,
    client_address: str | None = None,
    policy: throttle.Policy | None = None,
) -> tuple[models.Agent, str]:
    """Check an agent's email and password and issue a session token; throttled per email
    and per client address (RATE_LIMITED, the same for unknown emails)."""
    email = email.strip().lower()
    attempt = await throttle.begin(
        policy or _DEFAULT_POLICY, identifier=email, address=client_address
    )
    try:
        agent, plain = await _check_and_issue(email, password, session_days)
    except ValidationFailed:
        metrics.LOGIN_FAILURES.inc()
        await throttle.failed(attempt)
        raise
    await throttle.succeeded(attempt)
    return agent, plain


async def _check_and_issue(
    email: str, password: str, session_days: int
) -> tuple[models.Agent, str]:
    # No agent's email holds a NUL (PostgreSQL's text cannot even be compared with one).
    agent = await models.Agent.filter(email=email).first() if "\x00" not in email else None
    ok = agent is not None and agent.password_hash is not None
    if ok:
        assert agent is not None and agent.password_hash is not None
        ok = await verify_password(agent.password_hash, password)
    else:
        # Spend the same time on unknown emails so they cannot be told apart by timing.
        await hash_password(password)
    if not ok or agent is None:
        raise ValidationFailed.one(None, "wrong email or password", ErrorCode.INVALID_CREDENTIALS)
    if not agent.is_active:
        raise ValidationFailed.one(None, "this agent is deactivated", ErrorCode.INVALID_CREDENTIALS)
    _, plain = await issue_token(
        agent_id=agent.id, kind=TokenKind.SESSION, lifetime=timedelta(days=session_days)
    )
    return agent, plain


async def revoke_token(*, actor: Actor, token_id: int) -> models.ApiToken:
    """Revoke a token: an agent their own, an administrator anyone's."""
    row = await models.ApiToken.filter(id=token_id).first()
    if row is None or (not actor.is_admin and row.agent_id != actor.agent_id):
        raise ValidationFailed.one("id", "no such token", ErrorCode.NOT_FOUND)
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        await row.save(update_fields=["revoked_at"])
    # Cached Actors of the token stop at once here and within the broadcast's latency on
    # the other processes (services/auth_cache.py).
    auth_cache.invalidate(token_ids=[row.id])
    return row
