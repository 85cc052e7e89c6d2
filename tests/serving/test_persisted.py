"""Automatic persisted queries over POST and GET, and the production allow-list (issue 11,
point 9); a subscription over HTTP is told to use a WebSocket (point 7)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest

from deskql.server import create_app
from deskql.settings import Settings
from tests.conftest import World
from tests.serving.conftest import app_client

ME = "query Me { me { email } }"
LOGOUT = "mutation Out { logout { errors { code } } }"


def sha(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def apq(query: str) -> dict:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha(query)}}


def codes(resp: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in resp.json().get("errors", [])]


async def test_apq_over_post(world: World, clean_db: Settings):
    auth = {"Authorization": f"Bearer {world.alice_token}"}
    async with app_client(clean_db) as http:
        first = await http.post("/graphql", json={"extensions": apq(ME)}, headers=auth)
        register = await http.post(
            "/graphql", json={"query": ME, "extensions": apq(ME)}, headers=auth
        )
        again = await http.post("/graphql", json={"extensions": apq(ME)}, headers=auth)
    assert first.status_code == 200
    assert codes(first) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert first.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert register.json() == {"data": {"me": {"email": "alice@zylker.com"}}}
    assert again.json() == {"data": {"me": {"email": "alice@zylker.com"}}}


async def test_apq_over_get_and_mutations_stay_refused_on_get(world: World, clean_db: Settings):
    auth = {"Authorization": f"Bearer {world.alice_token}"}

    def params(query: str | None, query_hash_of: str) -> dict:
        p = {"extensions": json.dumps(apq(query_hash_of))}
        if query is not None:
            p["query"] = query
        return p

    async with app_client(clean_db) as http:
        first = await http.get("/graphql", params=params(None, ME), headers=auth)
        register = await http.get("/graphql", params=params(ME, ME), headers=auth)
        again = await http.get("/graphql", params=params(None, ME), headers=auth)
        # A mutation registered over POST is still refused over GET by its hash alone.
        await http.post("/graphql", json={"query": LOGOUT, "extensions": apq(LOGOUT)})
        by_hash = await http.get("/graphql", params=params(None, LOGOUT), headers=auth)
        plain = await http.get("/graphql", params={"query": LOGOUT}, headers=auth)
        token_still_valid = await http.post("/graphql", json={"query": ME}, headers=auth)
    assert codes(first) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert register.json()["data"]["me"]["email"] == "alice@zylker.com"
    assert again.json()["data"]["me"]["email"] == "alice@zylker.com"
    for resp in (by_hash, plain):
        assert resp.status_code == 400
        assert "mutations are not allowed when using GET" in resp.text
    assert token_still_valid.json()["data"]["me"]["email"] == "alice@zylker.com"


async def test_a_hash_that_does_not_match_its_query_is_refused(world: World, clean_db: Settings):
    auth = {"Authorization": f"Bearer {world.alice_token}"}
    evil = "query Me { me { email role } }"
    lying = {"persistedQuery": {"version": 1, "sha256Hash": sha(ME)}}
    async with app_client(clean_db) as http:
        refused = await http.post(
            "/graphql", json={"query": evil, "extensions": lying}, headers=auth
        )
        # Nothing was remembered under the lying hash.
        after = await http.post("/graphql", json={"extensions": apq(ME)}, headers=auth)
        short = await http.post(
            "/graphql",
            json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}},
        )
        version = await http.post(
            "/graphql",
            json={
                "query": ME,
                "extensions": {"persistedQuery": {"version": 2, "sha256Hash": sha(ME)}},
            },
        )
    assert codes(refused) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    assert refused.json()["data"] is None
    assert codes(after) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert codes(short) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    assert codes(version) == ["PERSISTED_QUERY_NOT_SUPPORTED"]


async def test_apq_can_be_turned_off(clean_db: Settings):
    async with app_client(clean_db, persisted_queries_cache_size=0) as http:
        await http.post("/graphql", json={"query": ME, "extensions": apq(ME)})
        resp = await http.post("/graphql", json={"extensions": apq(ME)})
    assert codes(resp) == ["PERSISTED_QUERY_NOT_SUPPORTED"]


async def test_the_allow_list_accepts_only_registered_operations(
    world: World, clean_db: Settings, tmp_path: Path
):
    manifest = {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{"id": sha(ME), "name": "Me", "type": "query", "body": ME}],
    }
    path = tmp_path / "operations.json"
    path.write_text(json.dumps(manifest))
    auth = {"Authorization": f"Bearer {world.alice_token}"}
    other = "query Other { me { name } }"
    async with app_client(clean_db, persisted_queries_allowlist=str(path)) as http:
        by_hash = await http.post("/graphql", json={"extensions": apq(ME)}, headers=auth)
        in_full = await http.post("/graphql", json={"query": ME}, headers=auth)
        unlisted = await http.post("/graphql", json={"query": other}, headers=auth)
        unlisted_apq = await http.post(
            "/graphql", json={"query": other, "extensions": apq(other)}, headers=auth
        )
        unlisted_hash = await http.post("/graphql", json={"extensions": apq(other)}, headers=auth)
    for resp in (by_hash, in_full):
        assert resp.json() == {"data": {"me": {"email": "alice@zylker.com"}}}
    for resp in (unlisted, unlisted_apq, unlisted_hash):
        assert codes(resp) == ["PERSISTED_QUERY_NOT_ALLOWED"]
        assert resp.json()["data"] is None


def test_an_allow_list_with_a_wrong_hash_is_refused_at_start(tmp_path: Path) -> None:
    path = tmp_path / "operations.json"
    path.write_text(json.dumps({sha("query A { me { id } }"): ME}))
    with pytest.raises(ValueError, match="is not the SHA-256 of its query"):
        create_app(Settings(persisted_queries_allowlist=str(path)), manage_db=False)
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="expected a manifest"):
        create_app(Settings(persisted_queries_allowlist=str(path)), manage_db=False)


async def test_a_subscription_over_http_says_to_use_a_websocket(world: World, clean_db: Settings):
    auth = {"Authorization": f"Bearer {world.alice_token}"}
    query = "subscription { notificationCreated { __typename } }"
    async with app_client(clean_db) as http:
        resp = await http.post("/graphql", json={"query": query}, headers=auth)
        by_get = await http.get("/graphql", params={"query": query}, headers=auth)
    for r in (resp, by_get):
        assert codes(r) == ["SUBSCRIPTION_NEEDS_WEBSOCKET"]
        assert "WebSocket" in r.json()["errors"][0]["message"]
