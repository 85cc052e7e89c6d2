"""Auth resolvers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import strawberry
from tortoise.expressions import Q

from deskql import models
from deskql.models.enums import TokenKind
from deskql.resolvers.common import mutate, page
from deskql.schema.connections import Connection
from deskql.schema.context import actor_of
from deskql.schema.errors import errors_of
from deskql.schema.ids import input_id
from deskql.schema.types import Agent, ApiToken
from deskql.services import auth, throttle, validation
from deskql.services.errors import ErrorCode, Errors, ValidationFailed

if TYPE_CHECKING:
    from deskql.schema.auth import ApiTokenCreateInput, ApiTokenRevokeInput, LoginInput


async def me(info: strawberry.Info) -> Agent:
    """`me`."""
    return Agent.from_row(await models.Agent.get(id=actor_of(info).agent_id))


async def api_tokens(
    info: strawberry.Info, *, include_revoked: bool, first: int | None, after: str | None
) -> Connection[ApiToken]:
    """`apiTokens`."""
    actor = actor_of(info)
    qs = models.ApiToken.all().order_by("id")
    if not actor.is_admin:
        qs = qs.filter(agent_id=actor.agent_id)
    if not include_revoked:
        qs = qs.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=datetime.now(UTC))
        )
    return await page(info, qs, first=first, after=after, convert=ApiToken.from_row)


async def login(info: strawberry.Info, input: LoginInput) -> Any:
    """`login`."""
    from deskql.schema.auth import LoginPayload

    async def run() -> dict[str, Any]:
        settings = info.context.settings
        agent, token = await auth.login(
            email=input.email,
            password=input.password,
            session_days=settings.session_token_days,
            client_address=client_address(info),
            policy=auth.login_policy(settings),
        )
        me = Agent.from_row(agent)
        me.is_self = True
        return {"token": token, "agent": me}

    try:
        fields = await run()
    except throttle.RateLimited as exc:
        return LoginPayload(errors=errors_of(exc), retry_after_seconds=exc.retry_after)
    except ValidationFailed as exc:
        return LoginPayload(errors=errors_of(exc))
    return LoginPayload(errors=[], **fields)


def client_address(info: strawberry.Info) -> str | None:
    """The client's address (uvicorn puts a trusted proxy's X-Forwarded-For there)."""
    request = info.context.request
    client = getattr(request, "client", None)
    return client.host if client is not None else None


async def logout(info: strawberry.Info) -> Any:
    """`logout`."""
    from deskql.schema.auth import ApiTokenRevokePayload

    async def run() -> dict[str, Any]:
        actor = actor_of(info)
        assert actor.token_id is not None
        row = await auth.revoke_token(actor=actor, token_id=actor.token_id)
        return {"api_token": ApiToken.from_row(row)}

    return await mutate(ApiTokenRevokePayload, run)


async def api_token_create(info: strawberry.Info, input: ApiTokenCreateInput) -> Any:
    """`apiTokenCreate`."""
    from deskql.schema.auth import ApiTokenCreatePayload

    async def run() -> dict[str, Any]:
        actor = actor_of(info)
        errors = Errors()
        name = validation.text(errors, "name", input.name, max_length=120, required=True)
        agent_pk = input_id(input.agent_id, "Agent", "agentId")
        errors.raise_if_any()
        agent = await models.Agent.filter(id=agent_pk).first()
        if agent is None:
            raise ValidationFailed.one("agentId", "no such agent", ErrorCode.NOT_FOUND)
        if not agent.is_active:
            raise ValidationFailed.one("agentId", "the agent is deactivated", ErrorCode.INVALID)
        row, token = await auth.issue_token(
            agent_id=agent.id, kind=TokenKind.API, name=name or "", created_by=actor.agent_id
        )
        return {"token": token, "api_token": ApiToken.from_row(row)}

    return await mutate(ApiTokenCreatePayload, run)


async def api_token_revoke(info: strawberry.Info, input: ApiTokenRevokeInput) -> Any:
    """`apiTokenRevoke`."""
    from deskql.schema.auth import ApiTokenRevokePayload

    async def run() -> dict[str, Any]:
        row = await auth.revoke_token(
            actor=actor_of(info), token_id=input_id(input.id, "ApiToken", "id")
        )
        return {"api_token": ApiToken.from_row(row)}

    return await mutate(ApiTokenRevokePayload, run)
