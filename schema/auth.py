"""Sign-in and tokens: login, me, API tokens for integrators (issue 2, point 6)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from deskql.resolvers import auth as r
from deskql.schema.connections import Connection
from deskql.schema.errors import MutationError
from deskql.schema.permissions import IsAdmin, IsAuthenticated
from deskql.schema.types import Agent, ApiToken


@strawberry.input(description="Credentials of an agent.")
class LoginInput:
    email: str = strawberry.field(description="The agent's email.")
    password: str = strawberry.field(description="The agent's password.")


@strawberry.type(description="Result of login.")
class LoginPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    token: str | None = strawberry.field(
        default=None, description="Bearer token: send 'Authorization: Bearer <token>'."
    )
    agent: Agent | None = strawberry.field(default=None, description="The signed-in agent.")
    retry_after_seconds: int | None = strawberry.field(
        default=None,
        description="With a RATE_LIMITED error: seconds to wait before the next attempt. "
        "Sign-in is throttled per email and per client address: after a few failures each "
        "further one blocks the next attempt for a time that doubles, up to 15 minutes by "
        "default (unknown emails alike).",
    )


@strawberry.input(description="An API token for an integrator, acting as an agent.")
class ApiTokenCreateInput:
    agent_id: strawberry.ID = strawberry.field(description="The agent the token acts as.")
    name: str = strawberry.field(description="What the token is for, e.g. 'CRM sync'.")


@strawberry.type(description="Result of apiTokenCreate: the secret is shown only here, once.")
class ApiTokenCreatePayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    token: str | None = strawberry.field(default=None, description="The secret bearer token.")
    api_token: ApiToken | None = strawberry.field(default=None, description="Its metadata.")


@strawberry.input(description="The token to revoke.")
class ApiTokenRevokeInput:
    id: strawberry.ID = strawberry.field(description="The token's id (ApiToken.id).")


@strawberry.type(description="Result of apiTokenRevoke.")
class ApiTokenRevokePayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    api_token: ApiToken | None = strawberry.field(default=None, description="The revoked token.")


@strawberry.type
class AuthQueries:
    @strawberry.field(description="The signed-in agent.", permission_classes=[IsAuthenticated])
    async def me(self, info: strawberry.Info) -> Agent:
        return await r.me(info)

    @strawberry.field(
        description="Tokens: your own; administrators see everyone's.",
        permission_classes=[IsAuthenticated],
    )
    async def api_tokens(
        self,
        info: strawberry.Info,
        include_revoked: Annotated[
            bool, strawberry.argument(description="Include revoked and expired tokens.")
        ] = False,
        first: Annotated[
            int | None, strawberry.argument(description="Page size, 0 to 100 (default 20).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(description="Cursor of the item after which the page starts."),
        ] = None,
    ) -> Connection[ApiToken]:
        return await r.api_tokens(info, include_revoked=include_revoked, first=first, after=after)


@strawberry.type
class AuthMutations:
    @strawberry.mutation(description="Sign in with email and password; returns a bearer token.")
    async def login(self, info: strawberry.Info, input: LoginInput) -> LoginPayload:
        return await r.login(info, input)

    @strawberry.mutation(
        description="Revoke the token this request was made with (sign out).",
        permission_classes=[IsAuthenticated],
    )
    async def logout(self, info: strawberry.Info) -> ApiTokenRevokePayload:
        return await r.logout(info)

    @strawberry.mutation(
        description="Issue an API token for an integrator (administrators).",
        permission_classes=[IsAdmin],
    )
    async def api_token_create(
        self, info: strawberry.Info, input: ApiTokenCreateInput
    ) -> ApiTokenCreatePayload:
        return await r.api_token_create(info, input)

    @strawberry.mutation(
        description="Revoke a token: your own, or anyone's for administrators.",
        permission_classes=[IsAuthenticated],
    )
    async def api_token_revoke(
        self, info: strawberry.Info, input: ApiTokenRevokeInput
    ) -> ApiTokenRevokePayload:
        return await r.api_token_revoke(info, input)
