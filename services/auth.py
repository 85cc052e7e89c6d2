"""Authentication: password hashing, bearer tokens and the Actor every service is given."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

import models
from models.enums import Role, TokenKind
from services.errors import ErrorCode, NotAuthenticated, ValidationFailed

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


def configure_hasher(time_cost: int, memory_kib: int) -> None:
    """Set the argon2id cost used for new password hashes."""
    global _hasher
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)


def _get_hasher() -> PasswordHasher:
    global _hasher
    if _hasher is None:
        _hasher = PasswordHasher()
    return _hasher


async def hash_password(password: str) -> str:
    """Hash a password with argon2id, off the event loop (it is slow on purpose)."""
    return await asyncio.to_thread(_get_hasher().hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches the stored argon2id hash."""

    def _verify() -> bool:
        try:
            return _get_hasher().verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(_verify)


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
    agent = await models.Agent.get(id=agent_id)
    dept_ids = await models.DepartmentMembership.filter(agent_id=agent_id).values_list(
        "department_id", flat=True
    )
    return Actor(agent.id, agent.role, frozenset(dept_ids), token_id)


async def authenticate(token: str | None) -> Actor:
    """Resolve a bearer token to an Actor, or raise NotAuthenticated saying why."""
    if not token:
        raise NotAuthenticated("authentication required: send 'Authorization: Bearer <token>'")
    if token.startswith(CONTACT_TOKEN_PREFIX):
        raise NotAuthenticated(
            "a contact's help-center token does not work on the agents' API (use /help/graphql)"
        )
    row = await models.ApiToken.filter(token_hash=_digest(token)).select_related("agent").first()
    if row is None:
        raise NotAuthenticated("invalid token")
    if row.revoked_at is not None:
        raise NotAuthenticated("this token has been revoked")
    if row.expires_at is not None and row.expires_at <= datetime.now(UTC):
        raise NotAuthenticated("this token has expired; log in again")
    if not row.agent.is_active:
        raise NotAuthenticated("this agent is deactivated")
    dept_ids = await models.DepartmentMembership.filter(agent_id=row.agent_id).values_list(
        "department_id", flat=True
    )
    return Actor(row.agent_id, row.agent.role, frozenset(dept_ids), row.id)


async def login(*, email: str, password: str, session_days: int) -> tuple[models.Agent, str]:
    """Check an agent's email and password and issue a session token."""
    agent = await models.Agent.filter(email=email.strip().lower()).first()
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
    return row
