"""realtime.batch: the per-event token re-check of many subscribers in one query gives the
same answer as services.auth.authenticate gives for each token alone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import models
from realtime import batch
from services import auth
from services.errors import NotAuthenticated
from tests.conftest import World


async def _alone(token: str) -> auth.Actor | str:
    try:
        return await auth.authenticate(token)
    except NotAuthenticated as exc:
        return str(exc)


async def test_many_tokens_at_once_match_authenticate_one_by_one(world: World) -> None:
    kind = models.TokenKind.API
    expired_row, expired = await auth.issue_token(agent_id=world.alice.id, kind=kind)
    await models.ApiToken.filter(id=expired_row.id).update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    revoked_row, revoked = await auth.issue_token(agent_id=world.alice.id, kind=kind)
    await models.ApiToken.filter(id=revoked_row.id).update(revoked_at=datetime.now(UTC))
    _, later = await auth.issue_token(agent_id=world.bob.id, kind=kind, lifetime=timedelta(1))
    _, deactivated = await auth.issue_token(agent_id=world.bob.id, kind=kind)
    tokens = [world.admin_token, world.alice_token, later, expired, revoked, "dq_nonsense"]
    expected = [await _alone(t) for t in tokens]
    await models.Agent.filter(id=world.bob.id).update(is_active=False)
    tokens.append(deactivated)
    expected.append(await _alone(deactivated))
    expected[2] = await _alone(later)

    got = await asyncio.gather(*(batch.actor(t) for t in tokens))

    assert list(got) == expected
    assert got[1] == auth.Actor(
        world.alice.id, models.Role.AGENT, frozenset({world.support.id}), got[1].token_id
    )
    assert got[0].is_admin and got[0].department_ids == frozenset()
    assert got[3:] == [
        "this token has expired; log in again",
        "this token has been revoked",
        "invalid token",
        "this agent is deactivated",
    ]
    assert got[2] == "this agent is deactivated"
