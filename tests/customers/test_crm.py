"""The CRM connector (CUS-6) against a local HTTP server playing HubSpot's CRM v3 API:
link, refresh, the ticket view's CRM fields, and a CRM that times out, fails, answers HTML,
answers another record, or has none."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from deskql import models
from deskql.server import create_app
from deskql.services import crm
from deskql.services.auth import load_actor
from deskql.services.crm import hubspot
from deskql.services.errors import ErrorCode, ValidationFailed
from deskql.settings import Settings
from tests.conftest import GQLClient, World, gid


class FakeCrm(BaseHTTPRequestHandler):
    """Answers GET /crm/v3/objects/{contacts|companies}/{id} by the id's name."""

    requests: list[dict[str, Any]] = []
    flaky_left = 0
    version = "lead"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        FakeCrm.requests.append(
            {
                "path": parts.path,
                "query": parse_qs(parts.query),
                "auth": self.headers.get("Authorization"),
            }
        )
        record_id = parts.path.rsplit("/", 1)[-1]
        if record_id == "slow":
            time.sleep(1.0)
        if record_id == "boom":
            return self._send(500, b'{"status": "error"}')
        if record_id == "flaky" and FakeCrm.flaky_left > 0:
            FakeCrm.flaky_left -= 1
            return self._send(503, b"busy", "text/plain")
        if record_id == "html":
            return self._send(200, b"<html><body>Login</body></html>", "text/html")
        if record_id == "garbage":
            return self._send(200, b"{not json", "application/json")
        if record_id == "missing":
            return self._send(404, b'{"status":"error","category":"OBJECT_NOT_FOUND"}')
        answered = "999" if record_id == "other" else record_id
        body = {
            "id": answered,
            "properties": {
                "firstname": "Melissa",
                "lastname": "Doe",
                "email": "melissa@example.com",
                "lifecyclestage": FakeCrm.version,
                "hs_object_id": answered,
            },
            "createdAt": "2026-01-01T10:00:00Z",
            "updatedAt": "2026-11-30T09:15:00.123Z",
            "archived": False,
        }
        self._send(200, json.dumps(body).encode())


@pytest.fixture(scope="module")
def crm_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeCrm)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def crm_settings(crm_server: str, settings: Settings) -> Settings:
    FakeCrm.requests.clear()
    FakeCrm.version = "lead"
    return replace(
        settings,
        crm_base_url=crm_server,
        crm_token="pat-test",
        crm_contact_properties="firstname,lastname,lifecyclestage",
        crm_record_url="https://app.example.com/{object}/{id}",
        crm_timeout_ms=300,
        crm_retries=1,
    )


async def test_fetch_parses_a_hubspot_record(crm_settings: Settings) -> None:
    record = await hubspot.fetch(crm_settings, kind="contact", external_id="101")
    assert record.external_id == "101"
    assert record.fields == {"firstname": "Melissa", "lastname": "Doe", "lifecyclestage": "lead"}
    assert record.url == "https://app.example.com/contacts/101"
    assert record.updated_at is not None and record.updated_at.isoformat().startswith(
        "2026-11-30T09:15:00.123"
    )
    (req,) = FakeCrm.requests
    assert req["path"] == "/crm/v3/objects/contacts/101"
    assert req["query"]["properties"] == ["firstname,lastname,lifecyclestage"]
    assert req["auth"] == "Bearer pat-test"


@pytest.mark.parametrize(
    ("record_id", "code", "attempts"),
    [
        ("slow", ErrorCode.CRM_UNAVAILABLE, 2),
        ("boom", ErrorCode.CRM_UNAVAILABLE, 2),
        ("html", ErrorCode.CRM_BAD_RESPONSE, 1),
        ("garbage", ErrorCode.CRM_BAD_RESPONSE, 1),
        ("other", ErrorCode.CRM_BAD_RESPONSE, 1),
        ("missing", ErrorCode.NOT_FOUND, 1),
    ],
)
async def test_fetch_failures(
    crm_settings: Settings, record_id: str, code: ErrorCode, attempts: int
) -> None:
    with pytest.raises(hubspot.CrmError) as caught:
        await hubspot.fetch(crm_settings, kind="contact", external_id=record_id)
    assert caught.value.code is code
    assert len(FakeCrm.requests) == attempts  # retried only what may pass on a retry


async def test_retry_recovers_and_config_is_checked(crm_settings: Settings) -> None:
    FakeCrm.flaky_left = 1
    record = await hubspot.fetch(crm_settings, kind="contact", external_id="flaky")
    assert record.external_id == "flaky" and len(FakeCrm.requests) == 2
    for base in ("", "http://crm.example.com"):
        with pytest.raises(hubspot.CrmError) as caught:
            await hubspot.fetch(
                replace(crm_settings, crm_base_url=base), kind="contact", external_id="1"
            )
        assert caught.value.code is ErrorCode.CRM_NOT_CONFIGURED


LINK = """
mutation($id: ID!, $crm: String!) {
  contactCrmLink(input: {contactId: $id, crmId: $crm}) {
    errors { field code message }
    contact { crm { id url updatedAt fields { name value } } }
  }
}
"""
REFRESH = """
mutation($id: ID!) {
  contactCrmRefresh(input: {contactId: $id}) {
    errors { field code message } contact { crm { fields { name value } } }
  }
}
"""


async def test_link_refresh_and_the_ticket_view(world: World, crm_settings: Settings) -> None:
    # An app of its own, whose GraphQL context carries the CRM settings.
    app = create_app(crm_settings, manage_db=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        await _link_refresh_and_view(world, GQLClient(http))


async def _link_refresh_and_view(world: World, gql: GQLClient) -> None:
    admin = gql.as_(world.admin_token)
    cid = gid("Contact", world.contact.id)
    data = (await admin(LINK, {"id": cid, "crm": "101"})).data["contactCrmLink"]
    assert data["errors"] == []
    rec = data["contact"]["crm"]
    assert rec["id"] == "101" and rec["url"] == "https://app.example.com/contacts/101"
    assert {f["name"]: f["value"] for f in rec["fields"]}["lifecyclestage"] == "lead"

    FakeCrm.version = "customer"
    data = (await admin(REFRESH, {"id": cid})).data["contactCrmRefresh"]
    assert {f["name"]: f["value"] for f in data["contact"]["crm"]["fields"]}[
        "lifecyclestage"
    ] == "customer"
    kinds = await models.Activity.filter(contact_id=world.contact.id).values_list("kind", flat=True)
    assert "contact.crm_linked" in kinds and "contact.crm_refreshed" in kinds
    refreshed = await models.Activity.filter(kind="contact.crm_refreshed").get()
    assert refreshed.changes["fields"] == [["lifecyclestage", "lead", "customer"]]

    # The ticket view shows the contact's CRM fields.
    from deskql.services import tickets

    ticket = await tickets.create_ticket(
        None, subject="x", department_id=world.support.id, contact_id=world.contact.id
    )
    view = await gql.as_(world.alice_token)(
        "query($id: ID!) { ticket(id: $id) { contact { crm { id fields { name value } } } } }",
        {"id": gid("Ticket", ticket.id)},
    )
    assert view.data["ticket"]["contact"]["crm"]["id"] == "101"


async def test_refresh_failures_keep_the_last_version(world: World, crm_settings: Settings) -> None:
    actor = await load_actor(world.admin.id)
    await crm.link(actor, crm_settings, kind="contact", pk=world.contact.id, external_id="101")
    before = await models.Activity.all().count()
    for bad in ("slow", "boom", "html", "other", "missing"):
        await models.CrmLink.filter(contact_id=world.contact.id).update(external_id=bad)
        with pytest.raises(ValidationFailed) as caught:
            await crm.refresh(actor, crm_settings, kind="contact", pk=world.contact.id)
        assert caught.value.errors[0].code in (
            ErrorCode.CRM_UNAVAILABLE,
            ErrorCode.CRM_BAD_RESPONSE,
            ErrorCode.NOT_FOUND,
        )
        link = await models.CrmLink.get(contact_id=world.contact.id)
        assert link.fields_json["lifecyclestage"] == "lead"  # unchanged
    assert await models.Activity.all().count() == before
    # Unmapped: nothing to refresh; a hidden contact: NOT_FOUND.
    other = await models.Contact.create(last_name="Other")
    with pytest.raises(ValidationFailed) as caught:
        await crm.refresh(actor, crm_settings, kind="contact", pk=other.id)
    assert caught.value.errors[0].code is ErrorCode.INVALID_STATE
