"""The token cache (services/auth_cache.py): a revoked token, a deactivated or deleted agent, a
changed department set stop at once on the process that made the change, within the
broadcast's latency on another process sharing the broadcast, and within auth_cache_ms
otherwise; a lookup racing an invalidation stores nothing; a hub reconnect clears the cache."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import os
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from deskql import models
from deskql.models.enums import TokenKind
from deskql.realtime.hub import Hub
from deskql.server import create_app
from deskql.services import auth, auth_cache, organisation, tickets
from deskql.services.auth_cache import AuthCache
from deskql.services.errors import NotAuthenticated
from deskql.settings import Settings
from tests.conftest import GQLClient, World, gid
from tests.realtime.conftest import wait_until

ME = "{ me { email } }"
TICKETS = "{ tickets(first: 20) { nodes { subject } } }"
REVOKE = """mutation($id: ID!) { apiTokenRevoke(input: {id: $id}) { errors { code } } }"""
LOGOUT = "mutation { logout { errors { code } } }"
AGENT_UPDATE = """mutation($input: AgentUpdateInput!) {
  agentUpdate(input: $input) { errors { code } agent { email } } }"""
AGENT_DELETE = """mutation($id: ID!) { agentDelete(input: {id: $id}) { errors { code } } }"""
DEPARTMENT_DELETE = """mutation($id: ID!) {
  departmentDelete(input: {id: $id}) { errors { code } } }"""


def digest(token: str) -> str:
    """The key a token is cached under (its stored sha256)."""
    return hashlib.sha256(token.encode()).hexdigest()


def cache_of(app: Starlette) -> AuthCache:
    """The app's token cache."""
    return app.state.auth_cache  # type: ignore[no-any-return]


def client(app: Starlette) -> GQLClient:
    """A GraphQL client of an in-process app (no token yet)."""
    transport = httpx.ASGITransport(app=app)
    return GQLClient(httpx.AsyncClient(transport=transport, base_url="http://test"))


def refusal(result: Any) -> str | None:
    """The authentication error of a response, or None when it was answered."""
    if result.status == 200 and not result.errors:
        return None
    assert result.error_codes() == ["UNAUTHENTICATED"], result.body
    return str(result.errors[0]["message"])


def app_settings(base: Settings, **changes: Any) -> Settings:
    """The test database's settings for an app of our own (no workers, no SMTP)."""
    values: dict[str, Any] = {
        "smtp_enabled": False,
        "outbox_enabled": False,
        "reminders_enabled": False,
        "webhook_worker_enabled": False,
        **changes,
    }
    return dataclasses.replace(base, **values)


@contextlib.asynccontextmanager
async def running(app: Starlette) -> AsyncIterator[GQLClient]:
    """The app with its lifespan (hub connected, token cache listening) and a client."""
    async with app.router.lifespan_context(app):
        gql = client(app)
        try:
            yield gql
        finally:
            await gql.http.aclose()


# --- the process that made the change: at once ------------------------------------------


async def test_a_revoked_token_stops_at_once_though_its_entry_is_fresh(
    clean_db: Settings, world: World
) -> None:
    app = create_app(app_settings(clean_db, auth_cache_ms=60_000), manage_db=False)
    gql, cache = client(app), cache_of(app)
    bob = gql.as_(world.bob_token)
    assert (await bob(ME)).data == {"me": {"email": "bob@zylker.com"}}
    assert cache.get(digest(world.bob_token)) is not None  # fresh for another minute
    row = await models.ApiToken.get(token_hash=digest(world.bob_token))
    res = await gql.as_(world.admin_token)(REVOKE, {"id": gid("ApiToken", row.id)})
    assert res.data["apiTokenRevoke"]["errors"] == []
    assert cache.get(digest(world.bob_token)) is None
    assert refusal(await bob(ME)) == "this token has been revoked"

    # logout revokes the token it was sent with, just as promptly.
    alice = gql.as_(world.alice_token)
    assert refusal(await alice(ME)) is None
    assert (await alice(LOGOUT)).data["logout"]["errors"] == []
    assert refusal(await alice(ME)) == "this token has been revoked"
    # The admin's own entry was left alone.
    assert cache.get(digest(world.admin_token)) is not None
    await gql.http.aclose()


async def test_a_deactivated_agent_stops_at_once_and_a_reactivated_one_works_again(
    clean_db: Settings, world: World
) -> None:
    app = create_app(app_settings(clean_db, auth_cache_ms=60_000), manage_db=False)
    gql = client(app)
    bob, admin = gql.as_(world.bob_token), gql.as_(world.admin_token)
    assert refusal(await bob(ME)) is None
    bob_id = gid("Agent", world.bob.id)
    res = await admin(AGENT_UPDATE, {"input": {"id": bob_id, "isActive": False}})
    assert res.data["agentUpdate"]["errors"] == []
    assert refusal(await bob(ME)) == "this agent is deactivated"
    res = await admin(AGENT_UPDATE, {"input": {"id": bob_id, "isActive": True}})
    assert res.data["agentUpdate"]["errors"] == []
    assert refusal(await bob(ME)) is None
    # A change that does not touch what a token resolves to keeps the entry.
    cache = cache_of(app)
    res = await admin(AGENT_UPDATE, {"input": {"id": bob_id, "about": "Hi"}})
    assert res.data["agentUpdate"]["errors"] == []
    assert cache.get(digest(world.bob_token)) is not None
    await gql.http.aclose()


async def test_changed_departments_take_effect_at_once(clean_db: Settings, world: World) -> None:
    """ORG-5: what an agent sees follows their departments, cached Actor or not."""
    admin_actor = await auth.load_actor(world.admin.id)
    for dept, subject in [(world.support, "Support case"), (world.sales, "Sales lead")]:
        await tickets.create_ticket(
            admin_actor, subject=subject, department_id=dept.id, contact_id=world.contact.id
        )
    app = create_app(app_settings(clean_db, auth_cache_ms=60_000), manage_db=False)
    gql = client(app)
    alice = gql.as_(world.alice_token)

    async def subjects() -> list[str]:
        return [n["subject"] for n in (await alice(TICKETS)).data["tickets"]["nodes"]]

    assert await subjects() == ["Support case"]
    res = await gql.as_(world.admin_token)(
        AGENT_UPDATE,
        {
            "input": {
                "id": gid("Agent", world.alice.id),
                "departmentIds": [gid("Department", world.sales.id)],
            }
        },
    )
    assert res.data["agentUpdate"]["errors"] == []
    assert await subjects() == ["Sales lead"]
    await gql.http.aclose()


async def test_deleting_an_agent_or_a_department_drops_their_entries(
    clean_db: Settings, world: World
) -> None:
    temp = await organisation.create_department(None, name="Temporary")
    admin_actor = await auth.load_actor(world.admin.id)
    await organisation.update_agent(
        admin_actor, agent_id=world.alice.id, department_ids=[world.support.id, temp.id]
    )
    app = create_app(app_settings(clean_db, auth_cache_ms=60_000), manage_db=False)
    gql, cache = client(app), cache_of(app)
    admin = gql.as_(world.admin_token)
    for token in (world.alice_token, world.bob_token):
        assert refusal(await gql.as_(token)(ME)) is None
    hit = cache.get(digest(world.alice_token))
    assert hit is not None and hit[0].department_ids == {world.support.id, temp.id}

    res = await admin(DEPARTMENT_DELETE, {"id": gid("Department", temp.id)})
    assert res.data["departmentDelete"]["errors"] == []
    assert cache.get(digest(world.alice_token)) is None
    assert cache.get(digest(world.bob_token)) is not None  # not a member: kept
    assert refusal(await gql.as_(world.alice_token)(ME)) is None
    hit = cache.get(digest(world.alice_token))
    assert hit is not None and hit[0].department_ids == {world.support.id}

    res = await admin(AGENT_DELETE, {"id": gid("Agent", world.bob.id)})
    assert res.data["agentDelete"]["errors"] == []
    assert cache.get(digest(world.bob_token)) is None
    assert refusal(await gql.as_(world.bob_token)(ME)) == "invalid token"
    await gql.http.aclose()


# --- another process sharing the broadcast: within its latency ---------------------------


def _broadcasts() -> list[str]:
    urls = ["memory://"]
    env = os.environ.get("DESKQL_BROADCAST_URL", "")
    if env.startswith("redis"):
        urls.append(env)
    return urls


@pytest.mark.parametrize("broadcast_url", _broadcasts())
async def test_a_revocation_reaches_another_app_through_the_broadcast(
    clean_db: Settings, world: World, broadcast_url: str
) -> None:
    # A minute of cache: whatever stops the token on the second app, it is not the TTL.
    settings = app_settings(clean_db, auth_cache_ms=60_000, broadcast_url=broadcast_url)
    first, second = create_app(settings, manage_db=False), create_app(settings, manage_db=False)
    if broadcast_url == "memory://":
        # memory:// lives in one Broadcast object: the second app's hub shares the first's.
        second.state.hub.bus = first.state.hub.bus
    async with running(first) as one, running(second) as two:
        for gql in (one, two):
            for token in (world.bob_token, world.alice_token):
                assert refusal(await gql.as_(token)(ME)) is None
        far = cache_of(second)
        assert far.get(digest(world.bob_token)) is not None
        # The internal channel is no subscription: not counted, not a subscribed channel.
        for app in (first, second):
            assert app.state.hub.count() == 0 and app.state.hub.backend_channels() == set()

        row = await models.ApiToken.get(token_hash=digest(world.bob_token))
        started = time.monotonic()
        res = await one.as_(world.admin_token)(REVOKE, {"id": gid("ApiToken", row.id)})
        assert res.data["apiTokenRevoke"]["errors"] == []
        assert refusal(await one.as_(world.bob_token)(ME)) == "this token has been revoked"
        # The second app learns it from the broadcast, not from its TTL (a minute).
        while refusal(await two.as_(world.bob_token)(ME)) is None:
            assert time.monotonic() - started < 5, "the invalidation never arrived"
            await asyncio.sleep(0.01)
        assert far.received >= 1
        assert far.get(digest(world.alice_token)) is not None  # only bob's token went

        # Deactivation and department changes travel the same way.
        res = await one.as_(world.admin_token)(
            AGENT_UPDATE, {"input": {"id": gid("Agent", world.alice.id), "isActive": False}}
        )
        assert res.data["agentUpdate"]["errors"] == []
        while refusal(await two.as_(world.alice_token)(ME)) is None:
            assert time.monotonic() - started < 5, "the invalidation never arrived"
            await asyncio.sleep(0.01)
        assert refusal(await two.as_(world.alice_token)(ME)) == "this agent is deactivated"


# --- the bound without a message, expiry, and the race ---------------------------------


async def test_a_change_nobody_announced_takes_effect_within_auth_cache_ms(
    clean_db: Settings, world: World
) -> None:
    now = [1000.0]
    app = create_app(app_settings(clean_db, auth_cache_ms=5000), manage_db=False)
    cache_of(app).clock = lambda: now[0]
    gql = client(app)
    bob = gql.as_(world.bob_token)
    assert refusal(await bob(ME)) is None
    # Written to the database directly: no invalidation is published.
    await models.Agent.filter(id=world.bob.id).update(is_active=False)
    now[0] += 4.9
    assert refusal(await bob(ME)) is None  # within the bound the cached Actor answers
    now[0] += 0.1
    assert refusal(await bob(ME)) == "this agent is deactivated"
    await gql.http.aclose()


async def test_auth_cache_ms_0_reads_the_database_every_time(
    clean_db: Settings, world: World
) -> None:
    app = create_app(app_settings(clean_db, auth_cache_ms=0), manage_db=False)
    gql = client(app)
    bob = gql.as_(world.bob_token)
    assert refusal(await bob(ME)) is None
    assert len(cache_of(app)) == 0 and not cache_of(app).enabled
    await models.Agent.filter(id=world.bob.id).update(is_active=False)
    assert refusal(await bob(ME)) == "this agent is deactivated"
    await gql.http.aclose()


async def test_a_token_expiring_while_cached_stops_at_its_expiry(
    clean_db: Settings, world: World
) -> None:
    _, token = await auth.issue_token(
        agent_id=world.bob.id, kind=TokenKind.SESSION, lifetime=timedelta(seconds=1)
    )
    cache = AuthCache(ttl_ms=60_000, size=10)
    actor = await auth.authenticate(token, cache)
    assert actor.agent_id == world.bob.id and len(cache) == 1
    expires_at = await models.ApiToken.filter(token_hash=digest(token)).values_list(
        "expires_at", flat=True
    )
    await asyncio.sleep(max(0.0, (expires_at[0] - datetime.now(UTC)).total_seconds()) + 0.05)
    with pytest.raises(NotAuthenticated, match="expired"):
        await auth.authenticate(token, cache)
    assert len(cache) == 0


async def test_a_lookup_that_started_before_an_invalidation_stores_nothing(
    clean_db: Settings, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = AuthCache(ttl_ms=60_000, size=10)
    read, release = asyncio.Event(), asyncio.Event()
    resolve = auth._resolve

    async def slow(key: str) -> Any:
        found = await resolve(key)  # read before the revocation commits...
        read.set()
        await release.wait()  # ...and would be stored after it
        return found

    monkeypatch.setattr(auth, "_resolve", slow)
    lookup = asyncio.create_task(auth.authenticate(world.bob_token, cache))
    await read.wait()
    row = await models.ApiToken.get(token_hash=digest(world.bob_token))
    await auth.revoke_token(actor=await auth.load_actor(world.admin.id), token_id=row.id)
    release.set()
    # The request that started before the revocation is answered as it began...
    assert (await lookup).agent_id == world.bob.id
    assert len(cache) == 0  # ...but what it read is not kept
    monkeypatch.setattr(auth, "_resolve", resolve)
    with pytest.raises(NotAuthenticated, match="revoked"):
        await auth.authenticate(world.bob_token, cache)

    # Without an invalidation in between, the same lookup is stored.
    read.clear()
    release.clear()
    monkeypatch.setattr(auth, "_resolve", slow)
    lookup = asyncio.create_task(auth.authenticate(world.alice_token, cache))
    await read.wait()
    release.set()
    await lookup
    assert cache.get(digest(world.alice_token)) is not None


async def test_the_least_recently_used_entry_goes_first(clean_db: Settings, world: World) -> None:
    cache = AuthCache(ttl_ms=60_000, size=2)
    for token in (world.admin_token, world.alice_token):
        await auth.authenticate(token, cache)
    assert cache.get(digest(world.admin_token)) is not None  # admin now most recent
    await auth.authenticate(world.bob_token, cache)
    assert len(cache) == 2
    assert cache.get(digest(world.alice_token)) is None
    assert cache.get(digest(world.admin_token)) is not None


async def test_a_hub_reconnect_clears_the_cache(clean_db: Settings, world: World) -> None:
    """Invalidations published while the hub was away are lost: it forgets everything."""
    cache = AuthCache(ttl_ms=60_000, size=10)
    hub = Hub("memory://", heartbeat_interval=0.05, backoff_initial=0.01)
    await hub.start()
    try:
        await hub.listen(auth_cache.CHANNEL, cache.receive)
        hub.on_reconnect(cache.clear)
        await auth.authenticate(world.bob_token, cache)
        generation = cache.generation
        # A message on the channel reaches the cache (the same path other processes use).
        await hub.publish(auth_cache.CHANNEL, {"type": auth_cache.INVALIDATE, "agents": [999]})
        await wait_until(lambda: cache.received == 1, within=5)
        assert len(cache) == 1 and cache.generation == generation + 1

        hub._failed.set()  # the backend failed: the hub reconnects
        await wait_until(lambda: hub.reconnects == 1, within=5)
        assert len(cache) == 0 and cache.generation == generation + 2
        # The internal channel was subscribed again with the rest.
        await auth.authenticate(world.bob_token, cache)
        message = {"type": auth_cache.INVALIDATE, "agents": [world.bob.id]}
        await hub.publish(auth_cache.CHANNEL, message)
        await wait_until(lambda: len(cache) == 0, within=5)
        assert hub.count() == 0 and hub.backend_channels() == set()
    finally:
        await hub.stop()
