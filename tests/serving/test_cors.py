"""CORS over HTTP from the one origins setting the WebSocket check uses (issue 11, point 1)."""

from __future__ import annotations

from deskql.settings import Settings
from tests.serving.conftest import app_client

ALLOWED = "https://app.example.com"
QUERY = {"query": "{ __typename }"}


def cors_headers(resp: object) -> dict[str, str]:
    return {k: v for k, v in resp.headers.items() if k.lower().startswith("access-control-")}  # type: ignore[attr-defined]


def preflight(origin: str, headers: str = "authorization, content-type") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": headers,
    }


async def test_preflight_from_an_allowed_origin_is_answered_and_cached(clean_db: Settings):
    # Configured with a default port and capitals: compared the way browsers send origins.
    async with app_client(clean_db, allowed_origins=["https://App.Example.com:443/"]) as http:
        resp = await http.options("/graphql", headers=preflight(ALLOWED))
    assert resp.status_code == 200
    h = cors_headers(resp)
    assert h["access-control-allow-origin"] == ALLOWED
    assert "POST" in h["access-control-allow-methods"]
    allowed_headers = h["access-control-allow-headers"].lower()
    assert "authorization" in allowed_headers and "content-type" in allowed_headers
    assert h["access-control-max-age"] == "600"
    assert "access-control-allow-credentials" not in h  # off by default


async def test_preflight_from_an_origin_not_allowed_gets_no_cors_header(clean_db: Settings):
    async with app_client(clean_db, allowed_origins=[ALLOWED]) as http:
        resp = await http.options("/graphql", headers=preflight("https://evil.example"))
        unconfigured = await http.options(
            "/graphql", headers=preflight("https://app.example.com.evil.example")
        )
    for r in (resp, unconfigured):
        assert r.status_code == 400
        assert cors_headers(r) == {}
        assert r.text == "Disallowed CORS origin"


async def test_simple_requests(clean_db: Settings):
    async with app_client(clean_db, allowed_origins=[ALLOWED], cors_max_age_seconds=60) as http:
        allowed = await http.post("/graphql", json=QUERY, headers={"Origin": ALLOWED})
        other = await http.post("/graphql", json=QUERY, headers={"Origin": "https://evil.example"})
        no_origin = await http.post("/graphql", json=QUERY)
        same_origin = await http.post("/graphql", json=QUERY, headers={"Origin": "http://test"})
    assert cors_headers(allowed)["access-control-allow-origin"] == ALLOWED
    assert cors_headers(allowed)["access-control-expose-headers"] == "X-Request-ID"
    # The request itself is answered either way: browsers enforce CORS, not the server.
    for resp in (allowed, other, no_origin, same_origin):
        assert resp.status_code == 200
        assert resp.json() == {"data": {"__typename": "Query"}}
    for resp in (other, no_origin, same_origin):
        assert cors_headers(resp) == {}


async def test_credentials_when_configured(clean_db: Settings):
    async with app_client(
        clean_db, allowed_origins=[ALLOWED], cors_allow_credentials=True, cors_max_age_seconds=60
    ) as http:
        resp = await http.options("/graphql", headers=preflight(ALLOWED))
    h = cors_headers(resp)
    assert h["access-control-allow-credentials"] == "true"
    assert h["access-control-max-age"] == "60"


def test_credentials_with_any_origin_are_refused() -> None:
    import pytest

    with pytest.raises(ValueError, match="DESKQL_CORS_ALLOW_CREDENTIALS"):
        Settings.from_env({"DESKQL_ALLOWED_ORIGINS": "*", "DESKQL_CORS_ALLOW_CREDENTIALS": "1"})


async def test_the_same_setting_governs_websocket_handshakes(clean_db: Settings):
    from dataclasses import replace

    import pytest
    from starlette.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

    from deskql.server import create_app

    app = create_app(
        replace(clean_db, allowed_origins=[ALLOWED], smtp_enabled=False, outbox_enabled=False),
        manage_db=False,
    )
    client = TestClient(app)
    with client.websocket_connect(
        "/graphql", subprotocols=["graphql-transport-ws"], headers={"Origin": ALLOWED}
    ) as ws:
        assert ws.accepted_subprotocol == "graphql-transport-ws"
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect(
            "/graphql",
            subprotocols=["graphql-transport-ws"],
            headers={"Origin": "https://evil.example"},
        ):
            pass
