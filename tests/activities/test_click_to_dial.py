"""callDial (ACT-2) against a local HTTP server that plays Asterisk ARI (`POST
/ari/channels` with HTTP Basic auth): the agent's endpoint and the customer's number are
sent, the call is logged RINGING under the channel id and completed by the PBX's events; a
refusal (404 endpoint), a PBX failure (500) and a PBX that is down give clear payload errors
and write nothing; agentTelephonyUpdate sets extension and phone number."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pytest_asyncio
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from deskql import models
from deskql.channels.telephony import signature
from deskql.server import create_app
from deskql.settings import Settings
from tests.activities.conftest import CALL, ERR, ticket_in
from tests.conftest import GQLClient, World, gid

DIAL = f"mutation($input: CallDialInput!) {{ callDial(input: $input) {{ {ERR} {CALL} }} }}"
PROFILE = """mutation($input: AgentTelephonyUpdateInput!) {
  agentTelephonyUpdate(input: $input) { errors { field message code }
    agent { extension phoneNumber } } }"""
SECRET = "dial-secret"


@dataclass
class FakeAri:
    """What the fake Asterisk received, and what it answers next."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    url: str = ""


def _ari_app(state: FakeAri) -> Starlette:
    async def originate(request: Request) -> Response:
        body = await request.json()
        state.requests.append(
            {
                "params": dict(request.query_params),
                "auth": request.headers.get("authorization"),
                "body": body,
            }
        )
        if request.headers.get("authorization") != "Basic YXJpOnNlY3JldA==":  # ari:secret
            return JSONResponse({"message": "Authentication required"}, status_code=401)
        if state.status != 200:
            return JSONResponse({"message": "Endpoint not found"}, status_code=state.status)
        n = len(state.requests)
        return JSONResponse(
            {
                "id": f"1733328000.{n}",
                "name": request.query_params["endpoint"] + f"-{n:08x}",
                "state": "Down",
                "caller": {"name": "", "number": ""},
            }
        )

    return Starlette(routes=[Route("/ari/channels", originate, methods=["POST"])])


@pytest_asyncio.fixture
async def ari() -> AsyncIterator[FakeAri]:
    state = FakeAri()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(_ari_app(state), log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    state.url = f"http://127.0.0.1:{port}"
    yield state
    server.should_exit = True
    await task


def _client(settings: Settings) -> httpx.AsyncClient:
    app = create_app(settings, manage_db=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_dial_rings_the_extension_then_the_customer_and_events_complete_it(
    clean_db: Settings, world: World, ari: FakeAri
) -> None:
    settings = replace(
        clean_db, ari_url=ari.url, ari_user="ari", ari_password="secret", telephony_secret=SECRET
    )
    await models.Contact.filter(id=world.contact.id).update(phone="(415) 555-0100")
    ticket = await ticket_in(world.support, world)
    async with _client(settings) as http:
        gql = GQLClient(http, world.alice_token)
        res = await gql(PROFILE, {"input": {"extension": "201", "phoneNumber": "415 555 0199"}})
        assert res.data["agentTelephonyUpdate"]["agent"] == {
            "extension": "201",
            "phoneNumber": "+14155550199",
        }
        res = await gql(
            DIAL,
            {
                "input": {
                    "contactId": gid("Contact", world.contact.id),
                    "ticketId": gid("Ticket", ticket.id),
                }
            },
        )
        out = res.data["callDial"]
        assert out["errors"] == []
        call = out["call"]
        assert call["direction"] == "OUTBOUND" and call["status"] == "RINGING"
        assert call["number"] == "+14155550100" and call["providerCallId"] == "1733328000.1"
        assert call["ticket"] == {"id": gid("Ticket", ticket.id)}
        sent = ari.requests[0]["params"]
        assert sent["endpoint"] == "PJSIP/201" and sent["extension"] == "+14155550100"
        assert sent["context"] == "from-internal" and sent["priority"] == "1"
        # The PBX's events for that channel complete the same call.
        for kind, extra in (("answered", {}), ("ended", {"durationSeconds": 42})):
            body = (
                f'{{"callId": "1733328000.1", "type": "{kind}", "direction": "outbound", '
                f'"from": "+14155550100"' + "".join(f', "{k}": {v}' for k, v in extra.items()) + "}"
            ).encode()
            resp = await http.post(
                "/telephony/events", content=body, headers=signature.headers(SECRET, body)
            )
            assert resp.status_code == 200, resp.text
    rows = await models.Call.all()
    assert len(rows) == 1 and rows[0].duration_seconds == 42
    assert rows[0].outcome is models.CallOutcome.COMPLETED
    assert await models.Activity.filter(kind="call.dialled").count() == 1


async def test_refused_failed_or_unreachable_pbx_gives_clear_errors(
    clean_db: Settings, world: World, ari: FakeAri
) -> None:
    await models.Agent.filter(id=world.alice.id).update(extension="201")
    number = {
        "input": {"number": "+1 415 555 0100", "departmentId": gid("Department", world.support.id)}
    }
    before = await models.Activity.all().count()
    cases = [
        (replace(clean_db, ari_url=ari.url, ari_user="ari", ari_password="wrong"), "PBX_REFUSED"),
        (replace(clean_db, ari_url=ari.url, ari_user="ari", ari_password="secret"), "PBX_REFUSED"),
        (
            replace(clean_db, ari_url=ari.url, ari_user="ari", ari_password="secret"),
            "PBX_UNAVAILABLE",
        ),
        (replace(clean_db, ari_url="http://127.0.0.1:9", ari_timeout_seconds=2), "PBX_UNAVAILABLE"),
        (replace(clean_db, ari_url=""), "PBX_UNAVAILABLE"),
    ]
    statuses = [200, 404, 500, 200, 200]
    for (settings, code), status in zip(cases, statuses, strict=True):
        ari.status = status
        async with _client(settings) as http:
            res = await GQLClient(http, world.alice_token)(DIAL, number)
        errors = res.data["callDial"]["errors"]
        assert [e["code"] for e in errors] == [code], (status, errors)
        assert errors[0]["message"]
    assert await models.Call.all().count() == 0
    assert await models.Activity.all().count() == before


async def test_dial_needs_an_extension_and_a_number(
    clean_db: Settings, world: World, ari: FakeAri
) -> None:
    settings = replace(clean_db, ari_url=ari.url, ari_user="ari", ari_password="secret")
    async with _client(settings) as http:
        gql = GQLClient(http, world.alice_token)
        res = await gql(
            DIAL,
            {
                "input": {
                    "number": "+14155550100",
                    "departmentId": gid("Department", world.support.id),
                }
            },
        )
        assert [e["code"] for e in res.data["callDial"]["errors"]] == ["INVALID_STATE"]
        await models.Agent.filter(id=world.alice.id).update(extension="201")
        res = await gql(
            DIAL,
            {
                "input": {
                    "contactId": gid("Contact", world.contact.id),
                    "departmentId": gid("Department", world.support.id),
                }
            },
        )
        assert [e["field"] for e in res.data["callDial"]["errors"]] == ["contactId"]
        res = await gql(
            DIAL, {"input": {"number": "12", "departmentId": gid("Department", world.support.id)}}
        )
        assert [e["field"] for e in res.data["callDial"]["errors"]] == ["number"]
        # Extensions are unique; another agent's profile needs an administrator.
        res = await GQLClient(http, world.bob_token)(PROFILE, {"input": {"extension": "201"}})
        assert [e["code"] for e in res.data["agentTelephonyUpdate"]["errors"]] == ["DUPLICATE"]
        res = await GQLClient(http, world.bob_token)(
            PROFILE, {"input": {"agentId": gid("Agent", world.alice.id), "extension": "7"}}
        )
        assert [e["code"] for e in res.data["agentTelephonyUpdate"]["errors"]] == ["NOT_OWNER"]
    assert ari.requests == []
    assert await models.Call.all().count() == 0
