"""POST /telephony/events (ACT-2): HMAC-signed call events with a replay window; one call per
provider call id whatever the order or repetition; E.164 matching of the contact's phone or
mobile (the most recent of several; refused when their open tickets are in two departments);
unknown callers; the call logged on the contact and its open ticket with Activity rows; the
agent's live incoming-call notification and the contact's followers (COL-2); bad input
answered with a clear error and nothing written."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest_asyncio

from deskql import models
from deskql.channels.telephony import signature
from deskql.models.activities import CallOutcome, CallStatus
from deskql.models.enums import NotificationReason
from deskql.server import create_app
from deskql.settings import Settings
from tests.activities.conftest import ticket_in
from tests.conftest import World, gid

SECRET = "s3cret-for-tests"


@pytest_asyncio.fixture
async def phone(clean_db: Settings) -> AsyncIterator[httpx.AsyncClient]:
    settings = replace(clean_db, telephony_secret=SECRET, telephony_create_contacts=True)
    app = create_app(settings, manage_db=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        yield client


async def send(
    client: httpx.AsyncClient,
    event: dict[str, Any],
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    body = raw if raw is not None else orjson.dumps(event)
    signed = signature.headers(secret, body, timestamp)
    return await client.post(
        "/telephony/events",
        content=body,
        headers={"Content-Type": "application/json", **(signed if headers is None else headers)},
    )


def ev(call: str, kind: str, number: str = "+1 415 555 0100", **extra: Any) -> dict[str, Any]:
    return {"callId": call, "type": kind, "from": number, **extra}


async def _counts() -> tuple[int, int, int]:
    return (
        await models.Call.all().count(),
        await models.Activity.all().count(),
        await models.Contact.all().count(),
    )


async def test_wrong_missing_or_old_signatures_are_refused_and_log_nothing(
    phone: httpx.AsyncClient, world: World
) -> None:
    before = await _counts()
    event = ev("c1", "ringing")
    body = orjson.dumps(event)
    cases = [
        await send(phone, event, secret="wrong"),
        await send(phone, event, headers={}),
        await send(phone, event, timestamp=int(time.time()) - 3600),
        await send(phone, event, timestamp=int(time.time()) + 3600),
        # Signed for another body.
        await send(phone, event, headers=signature.headers(SECRET, body + b" ")),
    ]
    for resp in cases:
        assert resp.status_code == 401, resp.text
        assert resp.json()["errors"][0]["code"] == "UNAUTHENTICATED"
    assert await _counts() == before


async def test_ringing_call_matches_the_contact_logs_on_its_ticket_and_alerts_the_agent(
    phone: httpx.AsyncClient, world: World
) -> None:
    await models.Contact.filter(id=world.contact.id).update(mobile="(415) 555-0100")
    ticket = await ticket_in(world.support, world)
    await models.Agent.filter(id=world.alice.id).update(extension="201")
    follower = world.admin
    await models.Follow.create(agent_id=follower.id, contact_id=world.contact.id)
    resp = await send(phone, ev("c1", "ringing", agentExtension="201"))
    assert resp.status_code == 200, resp.text
    assert resp.json()["created"] is True and resp.json()["duplicate"] is False
    call = await models.Call.get(provider_call_id="c1")
    assert resp.json()["call"] == gid("Call", call.id)
    assert call.number == "+14155550100" and call.status is CallStatus.RINGING
    assert (call.contact_id, call.ticket_id, call.agent_id) == (  # type: ignore[attr-defined]
        world.contact.id,
        ticket.id,
        world.alice.id,
    )
    assert call.department_id == world.support.id  # type: ignore[attr-defined]
    logged = await models.Activity.get(kind="call.logged")
    assert (logged.ticket_id, logged.contact_id) == (ticket.id, world.contact.id)
    ring = await models.Notification.get(agent_id=world.alice.id, activity_id=logged.id)
    assert ring.reason is NotificationReason.INCOMING_CALL
    followed = await models.Notification.get(agent_id=follower.id, activity_id=logged.id)
    assert followed.reason is NotificationReason.FOLLOWING
    # answered, ended: one call, two more Activity rows.
    assert (await send(phone, ev("c1", "answered"))).status_code == 200
    resp = await send(phone, ev("c1", "ended", durationSeconds=75))
    assert resp.json()["created"] is False
    call = await models.Call.get(provider_call_id="c1")
    assert (call.status, call.outcome, call.duration_seconds) == (
        CallStatus.ENDED,
        CallOutcome.COMPLETED,
        75,
    )
    assert await models.Activity.filter(kind="call.updated").count() == 2
    assert await models.Call.all().count() == 1


async def test_the_same_event_twice_is_one_call(phone: httpx.AsyncClient, world: World) -> None:
    first = await send(phone, ev("dup", "ringing", eventId="e1"))
    before = await _counts()
    second = await send(phone, ev("dup", "ringing", eventId="e1"))
    assert second.status_code == 200
    assert second.json() == {**first.json(), "created": False, "duplicate": True}
    assert await _counts() == before


async def test_events_out_of_order_make_one_call(phone: httpx.AsyncClient, world: World) -> None:
    start = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
    stamps = {
        k: (start + timedelta(seconds=s)).isoformat()
        for k, s in (("ringing", 0), ("answered", 10), ("ended", 70))
    }
    for kind, extra in (("ended", {"durationSeconds": 60}), ("answered", {}), ("ringing", {})):
        resp = await send(phone, ev("ooo", kind, timestamp=stamps[kind], **extra))
        assert resp.status_code == 200, resp.text
    call = await models.Call.get(provider_call_id="ooo")
    assert await models.Call.all().count() == 1
    assert call.status is CallStatus.ENDED and call.outcome is CallOutcome.COMPLETED
    assert call.duration_seconds == 60 and call.started_at == start
    assert [e["type"] for e in call.provider_events] == ["ended", "answered", "ringing"]
    # Missed and voicemail calls say so.
    await send(phone, ev("m", "ringing"))
    await send(phone, ev("m", "missed"))
    assert (await models.Call.get(provider_call_id="m")).outcome is CallOutcome.MISSED
    await send(phone, ev("v", "voicemail", recordingUrl="https://pbx.example/v.wav"))
    voicemail = await models.Call.get(provider_call_id="v")
    assert voicemail.outcome is CallOutcome.VOICEMAIL
    assert voicemail.recording_url == "https://pbx.example/v.wav"


async def test_malformed_or_empty_numbers_and_bad_fields_are_refused(
    phone: httpx.AsyncClient, world: World
) -> None:
    before = await _counts()
    for event, field in (
        (ev("n1", "ringing", number=""), "from"),
        (ev("n2", "ringing", number="12"), "from"),
        (ev("n3", "ringing", number="not a number"), "from"),
        (ev("n4", "exploded"), "type"),
        ({"type": "ringing", "from": "+14155550100"}, "callId"),
        (ev("n5", "ended", durationSeconds=-5), "durationSeconds"),
    ):
        resp = await send(phone, event)
        assert resp.status_code == 422, (event, resp.text)
        assert field in [e["field"] for e in resp.json()["errors"]]
    resp = await send(phone, {}, raw=b"{not json")
    assert resp.status_code == 400
    assert await _counts() == before


async def test_a_number_of_contacts_in_two_departments_is_refused(
    phone: httpx.AsyncClient, world: World
) -> None:
    other = await models.Contact.create(last_name="Twin", phone="+1 415 555 0100")
    await models.Contact.filter(id=world.contact.id).update(phone="415-555-0100")
    await ticket_in(world.support, world)
    await ticket_in(world.sales, world, contact=other)
    before = await _counts()
    resp = await send(phone, ev("amb", "ringing"))
    assert resp.status_code == 409, resp.text
    assert resp.json()["errors"][0]["code"] == "CONFLICT"
    assert await _counts() == before
    # The agent's department decides: Bob (Sales) takes it, on the Sales contact.
    await models.Agent.filter(id=world.bob.id).update(extension="300")
    resp = await send(phone, ev("amb", "ringing", agentExtension="300"))
    assert resp.status_code == 200
    call = await models.Call.get(provider_call_id="amb")
    assert (call.department_id, call.contact_id) == (world.sales.id, other.id)  # type: ignore[attr-defined]


async def test_several_matches_in_one_department_take_the_most_recent(
    phone: httpx.AsyncClient, world: World
) -> None:
    first = await models.Contact.create(last_name="First", mobile="+14155550100")
    await models.Contact.create(last_name="Second", phone="+1 (415) 555-0100")
    first.description = "changed last"
    await first.save()  # now the most recently changed, though created first
    assert (await send(phone, ev("mr", "ringing"))).status_code == 200
    call = await models.Call.get(provider_call_id="mr")
    assert call.contact_id == first.id  # type: ignore[attr-defined]


async def test_an_unknown_caller_becomes_a_contact_and_optionally_a_ticket(
    clean_db: Settings, world: World
) -> None:
    settings = replace(
        clean_db,
        telephony_secret=SECRET,
        telephony_create_tickets=True,
        telephony_department="Sales",
    )
    app = create_app(settings, manage_db=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        resp = await send(client, ev("new", "ringing", number="+44 20 7946 0958"))
    assert resp.status_code == 200, resp.text
    call = await models.Call.get(provider_call_id="new")
    contact = await models.Contact.get(id=call.contact_id)  # type: ignore[attr-defined]
    assert contact.phone == "+442079460958"
    ticket = await models.Ticket.get(id=call.ticket_id)  # type: ignore[attr-defined]
    assert ticket.channel is models.Channel.PHONE and ticket.department_id == world.sales.id  # type: ignore[attr-defined]
    assert await models.Activity.filter(kind="contact.created", contact_id=contact.id).exists()


async def test_events_over_64_kb_are_refused(phone: httpx.AsyncClient, world: World) -> None:
    event = ev("big", "ringing", padding="x" * 70_000)
    resp = await send(phone, event)
    assert resp.status_code == 413
    assert await models.Call.all().count() == 0
