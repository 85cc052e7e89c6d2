"""realtime.batch: the per-event token re-check of many subscribers in one query gives the
same answer as services.auth.authenticate gives for each token alone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from deskql import models
from deskql.realtime import batch
from deskql.services import auth
from deskql.services.errors import NotAuthenticated
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


# --- the batcher itself: a caller that goes away never wedges the loader ----------------------


class _Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[list[int]] = []
        self.fail = fail

    async def __call__(self, keys: list[int]) -> list[int]:
        self.calls.append(list(keys))
        await asyncio.sleep(0)
        if self.fail:
            raise ValueError("database is gone")
        return [k * 10 for k in keys]


async def test_a_batch_whose_callers_all_left_before_it_started_does_not_wedge_the_loader() -> None:
    # strawberry's DataLoader hangs here: the cancelled future cancels its dispatch task before
    # the task first runs, the batch stays undispatched and every later load joins it forever.
    fn = _Recorder()
    loader = batch.Batcher(fn, asyncio.get_running_loop())
    loader.load(1).cancel()
    for _ in range(3):
        await asyncio.sleep(0)
    assert await asyncio.wait_for(loader.load(2), 2) == 20
    assert fn.calls == [[2]]  # nobody waited for key 1: it was not read


async def test_callers_still_waiting_get_their_values_when_others_in_the_batch_left() -> None:
    fn = _Recorder()
    loader = batch.Batcher(fn, asyncio.get_running_loop())
    gone = asyncio.ensure_future(loader.load(1))
    staying = [loader.load(k) for k in (2, 3, 2)]
    await asyncio.sleep(0)
    gone.cancel()
    assert await asyncio.wait_for(asyncio.gather(*staying), 2) == [20, 30, 20]
    # A read already under way finishes for whoever waits, then the loader batches anew.
    assert await asyncio.wait_for(asyncio.gather(loader.load(4), loader.load(5)), 2) == [40, 50]
    assert fn.calls[-1] == [4, 5]


async def test_a_failed_read_reaches_every_waiter_and_the_next_read_works() -> None:
    fn = _Recorder(fail=True)
    loader = batch.Batcher(fn, asyncio.get_running_loop())
    results = await asyncio.gather(loader.load(1), loader.load(2), return_exceptions=True)
    assert [str(r) for r in results] == ["database is gone", "database is gone"]
    assert fn.calls == [[1, 2]]
    fn.fail = False
    assert await asyncio.wait_for(loader.load(3), 2) == 30


async def test_large_batches_are_read_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "MAX_BATCH", 3)
    fn = _Recorder()
    loader = batch.Batcher(fn, asyncio.get_running_loop())
    assert await asyncio.gather(*(loader.load(k) for k in range(7))) == [k * 10 for k in range(7)]
    assert fn.calls == [[0, 1, 2], [3, 4, 5], [6]]


async def test_more_tokens_than_one_statement_takes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite reads the tokens and memberships in chunks of SQLITE_CHUNK values (PostgreSQL
    # in one statement with = ANY): every token is answered, in the order asked.
    monkeypatch.setattr(batch, "SQLITE_CHUNK", 2)
    tokens = [world.admin_token, world.alice_token, world.bob_token, "dq_nonsense"]
    tokens.append(world.alice_token)
    found = await batch.load_actors(tokens)
    assert found[3] == "invalid token"
    actors = [f for i, f in enumerate(found) if i != 3]
    assert all(isinstance(a, auth.Actor) for a in actors)
    assert [a.agent_id for a in actors] == [  # type: ignore[union-attr]
        world.admin.id,
        world.alice.id,
        world.bob.id,
        world.alice.id,
    ]
    assert found[1].department_ids == {world.support.id}  # type: ignore[union-attr]
    assert found[2].department_ids == {world.sales.id}  # type: ignore[union-attr]
    assert found == [await _alone(t) for t in tokens]
