"""/metrics in Prometheus format (issue 11, point 4), protected or off by settings."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import replace

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from deskql import models
from deskql.channels.email.server import SMTPService
from deskql.models.outbound import OutboxStatus
from deskql.serving import metrics
from deskql.settings import Settings
from tests.channels.conftest import deliver
from tests.conftest import World, gid
from tests.serving.conftest import app_client

ME = "query Me { me { email } }"


def value(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


async def test_requests_latency_and_error_codes(world: World, clean_db: Settings):
    ok_before = value("deskql_http_requests_total", route="/graphql", operation="Me", outcome="ok")
    err_before = value(
        "deskql_http_requests_total", route="/graphql", operation="Me", outcome="graphql_error"
    )
    code_before = value("deskql_graphql_errors_total", code="UNAUTHENTICATED")
    hist_before = value(
        "deskql_http_request_duration_seconds_count", route="/graphql", operation="Me"
    )
    headers = {"Authorization": f"Bearer {world.alice_token}"}
    async with app_client(clean_db, lifespan=True) as http:
        await http.post("/graphql", json={"query": ME}, headers=headers)
        await http.post("/graphql", json={"query": ME}, headers=headers)
        await http.post("/graphql", json={"query": ME})  # no token
        resp = await http.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    found = samples(resp.text)
    key = (
        "deskql_http_requests_total",
        (("operation", "Me"), ("outcome", "ok"), ("route", "/graphql")),
    )
    assert found[key] == ok_before + 2
    assert (
        value(
            "deskql_http_requests_total", route="/graphql", operation="Me", outcome="graphql_error"
        )
        == err_before + 1
    )
    assert value("deskql_graphql_errors_total", code="UNAUTHENTICATED") == code_before + 1
    assert (
        value("deskql_http_request_duration_seconds_count", route="/graphql", operation="Me")
        == hist_before + 3
    )
    assert any(name == "deskql_http_request_duration_seconds_bucket" for name, _ in found)
    for name in (
        "deskql_websocket_connections",
        "deskql_subscriptions",
        "deskql_outbox_depth",
        "deskql_outbox_oldest_age_seconds",
        "deskql_login_failures_total",
    ):
        assert (name, ()) in found, name


async def test_operation_names_are_bounded(clean_db: Settings):
    async with app_client(clean_db) as http:
        await http.post(
            "/graphql",
            json={"query": "query Q { __typename }", "operationName": "Q" + "x" * 100},
        )
    assert metrics.operation_label("Q" + "x" * 100) == "other"
    assert metrics.operation_label("TicketList") == "TicketList"
    assert metrics.operation_label(None) == ""


async def test_outbox_depth_and_oldest_due_age(clean_db: Settings):
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    row = await models.OutboxMessage.create(
        message_id="<m1@x>",
        mail_from="a@b.c",
        to_addresses="d@e.f",
        raw_bytes=b"x",
        status=OutboxStatus.QUEUED,
        next_attempt_at=old,
    )
    await models.OutboxMessage.filter(id=row.id).update(created_at=old)
    async with app_client(clean_db) as http:
        text = (await http.get("/metrics")).text
    found = samples(text)
    assert found[("deskql_outbox_depth", ())] == 1
    assert 290 < found[("deskql_outbox_oldest_age_seconds", ())] < 400


async def test_websockets_and_subscriptions_are_counted(
    world: World, clean_db: Settings, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="deskql.request")
    from tests.realtime.conftest import live_server, wait_until, ws_client

    settings = replace(clean_db, smtp_enabled=False, outbox_enabled=False)
    before = value("deskql_websocket_connections")
    async with live_server(settings) as live:
        async with httpx.AsyncClient(base_url=live.http_url) as http:

            async def scrape() -> dict:
                return samples((await http.get("/metrics")).text)

            async with ws_client(live, world.alice_token) as ws:
                await ws.subscribe("subscription { notificationCreated { __typename } }")
                await wait_until(lambda: live.app.state.hub.count() >= 1)
                inside = await scrape()
                assert inside[("deskql_websocket_connections", ())] == before + 1
                assert inside[("deskql_subscriptions", ())] >= 1
            # An event fanned out by the hub is counted as delivered.
            delivered = value("deskql_realtime_events_total", result="delivered")
            async with ws_client(live, world.alice_token) as ws:
                support = gid("Department", world.support.id)
                await ws.subscribe(
                    "subscription($d: ID!) { dashboardUpdates(departmentId: $d) { open } }",
                    {"d": support},
                )
                first = await ws.data()
                await live.gql(
                    world.alice_token,
                    'mutation($d: ID!) { ticketCreate(input: {subject: "M", departmentId: $d, '
                    'contactEmail: "m@example.com"}) { errors { code } } }',
                    {"d": support},
                )
                second = await ws.data()
                assert second["dashboardUpdates"]["open"] == first["dashboardUpdates"]["open"] + 1
                counted = await scrape()
            key = ("deskql_realtime_events_total", (("result", "delivered"),))
            assert counted[key] >= delivered + 1
            await wait_until(lambda: value("deskql_websocket_connections") == before)
            after = await scrape()
    assert after[("deskql_websocket_connections", ())] == before
    assert after[("deskql_subscriptions", ())] == 0
    closed = [r for r in caplog.records if getattr(r, "method", None) == "WEBSOCKET"]
    assert len(closed) == 2  # one line per connection, when it closes
    assert all(r.actor_id == world.alice.id for r in closed)  # type: ignore[attr-defined]
    assert closed[0].getMessage().startswith("WEBSOCKET /graphql closed after ")


async def test_inbound_mail_replies_are_counted_by_code(world: World, clean_db: Settings):
    accepted = value("deskql_inbound_mail_replies_total", stage="DATA", code="250")
    refused = value("deskql_inbound_mail_replies_total", stage="RCPT", code="550")
    service = SMTPService(replace(clean_db, smtp_port=0))
    await service.start()
    try:
        raw = (
            b"From: melissa@example.com\r\nSubject: Help\r\n"
            b"Message-ID: <m-1@example.com>\r\n\r\nHi\r\n"
        )
        ok = await asyncio.to_thread(deliver, service.port, raw)
        bad = await asyncio.to_thread(deliver, service.port, raw, rcpt=["nobody@nowhere.test"])
    finally:
        await service.stop()
    assert ok.code == 250 and bad.code == 550
    assert value("deskql_inbound_mail_replies_total", stage="DATA", code="250") == accepted + 1
    assert value("deskql_inbound_mail_replies_total", stage="RCPT", code="550") == refused + 1


async def test_metrics_protected_by_a_token(clean_db: Settings):
    async with app_client(clean_db, metrics_token="s3cret-scrape") as http:
        none = await http.get("/metrics")
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        basic = await http.get("/metrics", headers={"Authorization": "Basic czNjcmV0LXNjcmFwZQ=="})
        right = await http.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
    for resp in (none, wrong, basic):
        assert resp.status_code == 401
        assert "deskql_" not in resp.text
        assert resp.headers["www-authenticate"].startswith("Bearer")
    assert right.status_code == 200 and "deskql_http_requests_total" in right.text


async def test_metrics_off(clean_db: Settings):
    async with app_client(clean_db, metrics_enabled=False) as http:
        assert (await http.get("/metrics")).status_code == 404


async def test_login_failures_are_counted(world: World, clean_db: Settings):
    login = (
        'mutation($p: String!) { login(input: {email: "alice@zylker.com", password: $p}) '
        "{ token errors { code } } }"
    )
    before = value("deskql_login_failures_total")
    async with app_client(clean_db) as http:
        wrong = await http.post("/graphql", json={"query": login, "variables": {"p": "nope"}})
        right = await http.post(
            "/graphql", json={"query": login, "variables": {"p": "correct horse"}}
        )
        text = (await http.get("/metrics")).text
    assert wrong.json()["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    assert right.json()["data"]["login"]["token"]
    assert value("deskql_login_failures_total") == before + 1
    assert samples(text)[("deskql_login_failures_total", ())] == before + 1
