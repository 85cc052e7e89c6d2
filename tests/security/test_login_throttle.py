"""Sign-in throttling (issue 17, point 2): per account and per client address, shared through
the database, RATE_LIMITED with a retry time, the same for unknown emails; bounded hashing."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from deskql import models
from deskql.server import create_app
from deskql.services import auth, throttle
from deskql.settings import Settings
from tests.conftest import GQLClient, World

LOGIN = """
mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) {
    errors { code message } token retryAfterSeconds
  }
}
"""


async def _login(gql: GQLClient, email: str, password: str) -> dict:
    return (await gql(LOGIN, {"email": email, "password": password})).data["login"]


async def test_wrong_passwords_then_the_right_one_is_rate_limited(
    gql: GQLClient, world: World
) -> None:
    for _ in range(5):  # the free failures
        assert (await _login(gql, "alice@zylker.com", "wrong"))["errors"][0][
            "code"
        ] == "INVALID_CREDENTIALS"
    # The sixth is still checked (and blocks the account for a second) ...
    sixth = await _login(gql, "alice@zylker.com", "wrong")
    assert sixth["errors"][0]["code"] == "INVALID_CREDENTIALS"
    # ... so even the right password is refused now, unchecked, with a retry time.
    refused = await _login(gql, "alice@zylker.com", "correct horse")
    assert refused["token"] is None
    assert [e["code"] for e in refused["errors"]] == ["RATE_LIMITED"]
    assert refused["retryAfterSeconds"] == 1
    assert "try again in 1 s" in refused["errors"][0]["message"]


async def test_the_block_ends_and_doubles(gql: GQLClient, world: World) -> None:
    for _ in range(6):
        await _login(gql, "alice@zylker.com", "wrong")
    bucket = await models.ThrottleBucket.get(key__contains=":account:")
    assert bucket.failures == 6 and bucket.blocked_until is not None
    # Time passes (move the block into the past rather than sleeping).
    await models.ThrottleBucket.filter(id=bucket.id).update(
        blocked_until=datetime.now(UTC) - timedelta(seconds=1)
    )
    seventh = await _login(gql, "alice@zylker.com", "wrong")
    assert seventh["errors"][0]["code"] == "INVALID_CREDENTIALS"
    after = await _login(gql, "alice@zylker.com", "correct horse")
    assert after["errors"][0]["code"] == "RATE_LIMITED" and after["retryAfterSeconds"] == 2
    await models.ThrottleBucket.filter(key__contains=":account:").update(
        blocked_until=datetime.now(UTC) - timedelta(seconds=1)
    )
    ok = await _login(gql, "alice@zylker.com", "correct horse")
    assert ok["errors"] == [] and ok["token"]
    # A success forgets the account's failures.
    assert not await models.ThrottleBucket.filter(key__contains=":account:").exists()


async def test_unknown_email_is_throttled_exactly_like_a_real_one(
    gql: GQLClient, world: World
) -> None:
    answers = {}
    for email in ["alice@zylker.com", "nobody@zylker.com"]:
        seen = [await _login(gql, email, "wrong") for _ in range(7)]
        answers[email] = [(s["errors"][0]["code"], s["retryAfterSeconds"]) for s in seen]
    assert answers["alice@zylker.com"] == answers["nobody@zylker.com"]
    assert answers["nobody@zylker.com"][-1] == ("RATE_LIMITED", 1)


async def test_per_address_limit_across_accounts(
    gql: GQLClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth, "login_policy", lambda s: throttle.Policy("agent-login", 5, 3))
    for i in range(4):  # different accounts, one client address
        res = await _login(gql, f"guess{i}@zylker.com", "wrong")
        assert res["errors"][0]["code"] == "INVALID_CREDENTIALS"
    res = await _login(gql, "alice@zylker.com", "correct horse")
    assert res["errors"][0]["code"] == "RATE_LIMITED"


async def test_parallel_flood_is_mostly_refused_unchecked(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = 0
    verify = auth.verify_password

    async def counting(password_hash: str, password: str) -> bool:
        nonlocal checked
        checked += 1
        return await verify(password_hash, password)

    monkeypatch.setattr(auth, "verify_password", counting)

    async def attempt() -> str:
        try:
            await auth.login(email="alice@zylker.com", password="wrong", session_days=1)
        except throttle.RateLimited:
            return "RATE_LIMITED"
        except Exception as exc:  # noqa: BLE001
            return type(exc).__name__ if not hasattr(exc, "errors") else exc.errors[0].code
        return "OK"

    results = await asyncio.gather(*(attempt() for _ in range(60)))
    # 5 free failures and the one that sets the block are checked; the rest never hash.
    assert checked <= 6
    assert results.count("RATE_LIMITED") >= 54
    assert set(results) <= {"RATE_LIMITED", "INVALID_CREDENTIALS"}


async def test_two_processes_share_the_state(clean_db: Settings, world: World) -> None:
    """Two apps (as two processes would) on one database see one another's failures."""
    apps = [create_app(clean_db, manage_db=False) for _ in range(2)]
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://t") for a in apps
    ]
    try:
        for i in range(6):
            await _login(GQLClient(clients[i % 2]), "alice@zylker.com", "wrong")
        res = await _login(GQLClient(clients[1]), "alice@zylker.com", "correct horse")
        assert res["errors"][0]["code"] == "RATE_LIMITED"
    finally:
        for c in clients:
            await c.aclose()


async def test_prune_deletes_only_expired_buckets(clean_db: Settings) -> None:
    policy = throttle.Policy("agent-login", window_seconds=60)
    old = datetime.now(UTC) - timedelta(seconds=120)
    await models.ThrottleBucket.create(
        key="agent-login:account:old", failures=3, last_failure_at=old
    )
    await models.ThrottleBucket.create(
        key="agent-login:account:blocked",
        failures=9,
        last_failure_at=old,
        blocked_until=datetime.now(UTC) + timedelta(seconds=60),
    )
    await models.ThrottleBucket.create(
        key="agent-login:account:new", failures=1, last_failure_at=datetime.now(UTC)
    )
    await models.ThrottleBucket.create(key="other:account:old", failures=3, last_failure_at=old)
    assert await throttle.prune(policy) == 1
    keys = set(await models.ThrottleBucket.all().values_list("key", flat=True))
    assert keys == {"agent-login:account:blocked", "agent-login:account:new", "other:account:old"}


def test_delay_doubles_and_is_capped() -> None:
    policy = throttle.Policy("p", base_delay_seconds=1, max_delay_seconds=60)
    assert [policy.delay(n) for n in range(0, 9)] == [0, 1, 2, 4, 8, 16, 32, 60, 60]
    assert policy.delay(10_000) == 60


async def test_concurrent_hashes_are_bounded(
    clean_db: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth.configure_hasher(1, 8192, concurrency=2)
    running = peak = 0
    lock = threading.Lock()
    real = auth._get_hasher()

    class Spy:
        def hash(self, password: str) -> str:
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
            try:
                return real.hash(password)
            finally:
                with lock:
                    running -= 1

    monkeypatch.setattr(auth, "_get_hasher", lambda: Spy())
    try:
        await asyncio.gather(*(auth.hash_password(f"pw{i}") for i in range(12)))
    finally:
        auth.configure_hasher(clean_db.password_time_cost, clean_db.password_memory_kib, 2)
    assert peak == 2


def test_settings_refuse_zero_hash_concurrency() -> None:
    with pytest.raises(ValueError, match="PASSWORD_HASH_CONCURRENCY"):
        Settings.from_env({"DESKQL_PASSWORD_HASH_CONCURRENCY": "0"})
    assert replace(Settings(), login_free_failures=3).login_free_failures == 3


async def test_parallel_attempts_under_the_limit_are_not_refused(world: World) -> None:
    """Contention on one bucket (an office behind one address) is not a reason to refuse."""
    policy = throttle.Policy("agent-login", free_failures=100, address_free_failures=100)

    async def attempt(i: int) -> str:
        try:
            await auth.login(
                email=f"user{i}@zylker.com",
                password="wrong",
                session_days=1,
                client_address="10.0.0.1",
                policy=policy,
            )
        except throttle.RateLimited:
            return "RATE_LIMITED"
        except Exception:  # noqa: BLE001
            return "INVALID"
        return "OK"

    results = await asyncio.gather(*(attempt(i) for i in range(20)))
    assert results == ["INVALID"] * 20
    bucket = await models.ThrottleBucket.get(key="agent-login:address:10.0.0.1")
    assert bucket.failures == 20


async def test_guessing_the_current_password_is_throttled(world: World) -> None:
    """A sibling of sign-in: a stolen session token must not allow unlimited guesses of the
    current password (needed to set a new one)."""
    from deskql.services import organisation
    from deskql.services.errors import ErrorCode, ValidationFailed

    alice = await auth.load_actor(world.alice.id)
    codes = []
    for _ in range(7):
        try:
            await organisation.update_profile(
                alice, password="brand new secret", current_password="guess"
            )
        except ValidationFailed as exc:
            codes.append(exc.errors[0].code)
    assert codes[:6] == [ErrorCode.INVALID_CREDENTIALS] * 6
    assert codes[6] == ErrorCode.RATE_LIMITED
    # Blocked: even the right one waits.
    try:
        await organisation.update_profile(
            alice, password="brand new secret", current_password="correct horse"
        )
        raise AssertionError("not throttled")
    except throttle.RateLimited:
        pass


async def test_an_email_holding_control_characters_is_a_wrong_email(
    gql: GQLClient, world: World
) -> None:
    """NUL cannot even be compared with PostgreSQL's text: it answered "Unexpected error"."""
    for email in ("\x00", "admin@zylker.com\x00", "a\x01b@example.com"):
        payload = await _login(gql, email, "whatever-pass")
        assert [e["code"] for e in payload["errors"]] == ["INVALID_CREDENTIALS"], email
        assert payload["token"] is None
