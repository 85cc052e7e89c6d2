"""/health and /ready (issue 11, point 3): each dependency checked, with its latency; 503 when
one fails."""

from __future__ import annotations

import datetime as dt

from deskql import models
from deskql.models.outbound import OutboxStatus
from deskql.settings import Settings
from tests.serving.conftest import app_client, free_port


async def test_health_is_the_process_alone(clean_db: Settings):
    async with app_client(clean_db) as http:  # no lifespan: nothing else started
        resp = await http.get("/health")
    assert resp.status_code == 200 and resp.json() == {"status": "ok"}


async def test_ready_when_every_dependency_answers(clean_db: Settings):
    async with app_client(
        clean_db, lifespan=True, smtp_enabled=True, smtp_port=free_port()
    ) as http:
        resp = await http.get("/ready")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "broadcast", "smtp", "outbox"}
    for check in body["checks"].values():
        assert check["ok"] is True
        assert isinstance(check["latency_ms"], float | int) and check["latency_ms"] >= 0
    assert body["checks"]["outbox"]["depth"] == 0


async def test_smtp_is_checked_only_when_enabled(clean_db: Settings):
    async with app_client(clean_db, lifespan=True) as http:
        body = (await http.get("/ready")).json()
    assert "smtp" not in body["checks"] and body["status"] == "ready"


async def test_an_old_due_email_makes_it_unavailable(clean_db: Settings):
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    row = await models.OutboxMessage.create(
        message_id="<stuck@x>",
        mail_from="a@b.c",
        to_addresses="d@e.f",
        raw_bytes=b"x",
        status=OutboxStatus.QUEUED,
        next_attempt_at=old,
    )
    await models.OutboxMessage.filter(id=row.id).update(created_at=old)
    async with app_client(clean_db, lifespan=True, ready_outbox_max_age_seconds=3600) as http:
        resp = await http.get("/ready")
    assert resp.status_code == 503
    body = resp.json()
    assert body["status"] == "unavailable"
    outbox = body["checks"]["outbox"]
    assert outbox["ok"] is False and "waited" in outbox["error"]
    assert outbox["depth"] == 1 and outbox["oldest_due_age_seconds"] > 3600
    assert body["checks"]["database"]["ok"] is True


async def test_a_broadcast_backend_that_is_gone(clean_db: Settings, monkeypatch):
    async def refused(channel: str, message: object) -> None:
        raise ConnectionError("Connection refused (redis at 127.0.0.1:6379)")

    async with app_client(clean_db, lifespan=True) as http:
        hub = http.app.state.hub  # type: ignore[attr-defined]
        monkeypatch.setattr(hub.bus, "publish", refused)
        failing = await http.get("/ready")
        hub._connected.clear()  # what the hub's supervisor does when the backend died
        disconnected = await http.get("/ready")
        hub._connected.set()
    assert failing.status_code == 503 and disconnected.status_code == 503
    broadcast = failing.json()["checks"]["broadcast"]
    assert broadcast["ok"] is False and "Connection refused" in broadcast["error"]
    assert "not connected" in disconnected.json()["checks"]["broadcast"]["error"]


async def test_an_smtp_listener_that_stopped(clean_db: Settings):
    async with app_client(
        clean_db, lifespan=True, smtp_enabled=True, smtp_port=free_port()
    ) as http:
        service = http.app.state.smtp  # type: ignore[attr-defined]
        service.server.close()
        await service.server.wait_closed()
        resp = await http.get("/ready")
    assert resp.status_code == 503
    assert resp.json()["checks"]["smtp"]["ok"] is False


async def test_a_database_that_does_not_answer_in_time(clean_db: Settings, monkeypatch):
    import asyncio

    from deskql.serving import health

    async def stuck() -> dict:
        await asyncio.sleep(5)
        return {}

    monkeypatch.setattr(health, "check_database", stuck)
    async with app_client(clean_db, lifespan=True, ready_timeout_ms=200) as http:
        resp = await http.get("/ready")
    assert resp.status_code == 503
    database = resp.json()["checks"]["database"]
    assert database == {
        "ok": False,
        "error": "no answer within 0.2 s",
        "latency_ms": database["latency_ms"],
    }
    assert 150 <= database["latency_ms"] < 2000
