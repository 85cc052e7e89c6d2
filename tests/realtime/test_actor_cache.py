"""realtime.streams.reload_actor: a subscriber's token is re-checked at most ACTOR_TTL seconds
apart; past half of that the cached Actor is served while every such token is re-read in one
background query, so steady events never wait for the check and a revocation still shows."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from deskql import models
from deskql.db import count_statements as count_sql
from deskql.realtime.streams import actors
from tests.conftest import World


def _age(token: str, seconds: float) -> None:
    at, actor, reason = actors._actors[token]
    actors._actors[token] = (time.monotonic() - seconds, actor, reason)


async def test_old_actors_are_served_and_re_read_together_in_the_background(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(actors, "ACTOR_TTL", 10.0)
    tokens = [world.alice_token, world.bob_token, world.admin_token]
    for token in tokens:
        actors.forget_actor(token)
    first = [await actors.reload_actor(t) for t in tokens]
    assert [a.agent_id for a in first] == [world.alice.id, world.bob.id, world.admin.id]

    # Fresh (under half the TTL): no query at all.
    with count_sql() as fresh:
        assert await actors.reload_actor(world.alice_token) is first[0]
    assert fresh.count == 0

    # Bob's token is revoked; alice's and bob's cached Actors get old (past half the TTL).
    await models.ApiToken.filter(agent_id=world.bob.id).update(revoked_at=datetime.now(UTC))
    _age(world.alice_token, 6.0)
    _age(world.bob_token, 6.0)
    with count_sql() as served:
        # Both served at once from the cache (no waiting for the database)...
        assert await actors.reload_actor(world.alice_token) is first[0]
        assert await actors.reload_actor(world.bob_token) is first[1]
        assert served.count == 0
        # ...and re-read together in the background.
        for _ in range(100):
            refresher = actors._refresher
            if not actors._stale and refresher is not None and refresher.done():
                break
            await asyncio.sleep(0.01)
    assert 1 <= served.count <= 3  # the tokens and the memberships: one read for both tokens
    assert actors._actors[world.alice_token][0] > time.monotonic() - 1
    with pytest.raises(actors.AccessLost, match="revoked"):
        await actors.reload_actor(world.bob_token)
    assert (await actors.reload_actor(world.alice_token)).agent_id == world.alice.id


async def test_an_actor_older_than_the_ttl_is_re_read_before_it_is_used(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(actors, "ACTOR_TTL", 10.0)
    actors.forget_actor(world.bob_token)
    await actors.reload_actor(world.bob_token)
    await models.Agent.filter(id=world.bob.id).update(is_active=False)
    _age(world.bob_token, 10.5)
    with pytest.raises(actors.AccessLost, match="deactivated"):
        await actors.reload_actor(world.bob_token)
