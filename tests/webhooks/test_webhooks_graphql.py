"""The webhook mutations and queries over GraphQL: administrators only, payload errors with
codes and nothing written for bad input, Activity rows, Nodes, the delivery log."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest_asyncio

from deskql import models
from deskql.server import create_app
from deskql.settings import Settings
from tests.conftest import GQLClient, World, gid
from tests.webhooks.conftest import Answer, Receiver

SECRET = "0123456789abcdef"  # exactly 16 bytes

FIELDS = """errors { field code message }
webhook { id url events active description consecutiveFailures }"""
CREATE = (
    f"""mutation($input: WebhookCreateInput!) {{ webhookCreate(input: $input) {{ {FIELDS} }} }}"""
)
UPDATE = (
    f"""mutation($input: WebhookUpdateInput!) {{ webhookUpdate(input: $input) {{ {FIELDS} }} }}"""
)
DELETE = (
    f"""mutation($input: WebhookDeleteInput!) {{ webhookDelete(input: $input) {{ {FIELDS} }} }}"""
)
DELIVERY = """errors { field code }
delivery { id event status responseCode responseBody error eventId attempts }"""
TEST = f"""mutation($id: ID!) {{ webhookTest(input: {{id: $id}}) {{ {DELIVERY} }} }}"""
REDELIVER = (
    f"""mutation($id: ID!) {{ webhookRedeliver(input: {{deliveryId: $id}}) {{ {DELIVERY} }} }}"""
)
LIST = """{ webhooks(first: 10) { totalCount nodes { id url
  deliveries(first: 10) { totalCount nodes { event status responseCode } } } } }"""


@pytest_asyncio.fixture
async def gqlw(clean_db: Settings) -> GQLClient:
    """A client of an app whose settings allow loopback webhook targets."""
    app = create_app(replace(clean_db, webhook_allow_private=True), manage_db=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield GQLClient(client)


@pytest_asyncio.fixture
async def strict(clean_db: Settings) -> GQLClient:
    """A client of an app with the default settings: private targets refused."""
    app = create_app(replace(clean_db, webhook_allow_private=False), manage_db=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield GQLClient(client)


def _input(url: str, **extra: object) -> dict[str, object]:
    return {"url": url, "events": ["TICKET_CREATED", "TICKET_ASSIGNED"], "secret": SECRET} | extra


async def test_lifecycle(world: World, gqlw: GQLClient, receiver: Receiver):
    admin = gqlw.as_(world.admin_token)
    res = await admin(CREATE, {"input": _input(receiver.url, description="CRM sync")})
    out = res.data["webhookCreate"]
    assert out["errors"] == []
    hook = out["webhook"]
    assert hook["url"] == receiver.url and hook["active"] is True
    assert hook["events"] == ["TICKET_CREATED", "TICKET_ASSIGNED"]
    assert await models.Activity.filter(kind="webhook.created").count() == 1

    res = await admin(TEST, {"id": hook["id"]})
    ping = res.data["webhookTest"]["delivery"]
    assert ping["event"] == "ping" and ping["status"] == "DELIVERED"
    assert ping["responseCode"] == 200 and ping["responseBody"] == "ok"
    assert receiver.requests[0].headers["x-deskql-event"] == "ping"

    receiver.answers = [Answer(status=500, body=b"down")]
    res = await admin(TEST, {"id": hook["id"]})
    failed = res.data["webhookTest"]["delivery"]
    assert failed["responseCode"] == 500 and failed["error"] == "answered 500"
    assert failed["status"] == "QUEUED" and failed["attempts"] == 1

    res = await admin(LIST)
    listed = res.data["webhooks"]
    assert listed["totalCount"] == 1
    log = listed["nodes"][0]["deliveries"]
    assert log["totalCount"] == 2
    assert [n["responseCode"] for n in log["nodes"]] == [500, 200]  # newest first

    only = """query($id: ID!) { node(id: $id) { ... on Webhook {
      deliveries(status: QUEUED) { totalCount nodes { responseCode error } } } } }"""
    res = await admin(only, {"id": hook["id"]})
    assert res.data["node"]["deliveries"] == {
        "totalCount": 1,
        "nodes": [{"responseCode": 500, "error": "answered 500"}],
    }

    res = await admin(REDELIVER, {"id": ping["id"]})
    again = res.data["webhookRedeliver"]
    assert again["errors"] == [] and again["delivery"]["status"] == "QUEUED"
    assert again["delivery"]["eventId"] == ping["eventId"]
    links = """query($id: ID!) { node(id: $id) { ... on WebhookDelivery {
      webhook { id } redeliveryOf { id event } } } }"""
    res = await admin(links, {"id": again["delivery"]["id"]})
    assert res.data["node"] == {
        "webhook": {"id": hook["id"]},
        "redeliveryOf": {"id": ping["id"], "event": "ping"},
    }

    res = await admin(
        UPDATE,
        {"input": {"id": hook["id"], "events": ["CONTACT_CREATED"], "active": False}},
    )
    changed = res.data["webhookUpdate"]["webhook"]
    assert changed["events"] == ["CONTACT_CREATED"] and changed["active"] is False
    act = await models.Activity.get(kind="webhook.updated")
    assert act.changes["is_active"] == {"old": True, "new": False}

    res = await admin(UPDATE, {"input": {"id": hook["id"], "secret": "another-secret-of-20b"}})
    assert res.data["webhookUpdate"]["errors"] == []
    secret_act = await models.Activity.filter(kind="webhook.updated").order_by("-id").first()
    assert secret_act.changes == {"secret": {"old": "(hidden)", "new": "(changed)"}}
    assert SECRET not in str(secret_act.changes)

    res = await admin(DELETE, {"input": {"id": hook["id"]}})
    assert res.data["webhookDelete"]["errors"] == []
    assert await models.Webhook.all().count() == 0
    assert await models.WebhookDelivery.all().count() == 0
    assert await models.Activity.filter(kind="webhook.deleted").count() == 1


async def test_bad_input_is_refused_with_codes_and_nothing_written(world: World, strict: GQLClient):
    admin = strict.as_(world.admin_token)
    cases = [
        (_input("ftp://example.com/hook"), "url", "INVALID"),
        (_input("javascript:alert(1)"), "url", "INVALID"),
        (_input("file:///etc/passwd"), "url", "INVALID"),
        (_input("http://user:pw@example.com/"), "url", "INVALID"),
        (_input("http://127.0.0.1:8080/hook"), "url", "PRIVATE_TARGET"),
        (_input("http://localhost/hook"), "url", "PRIVATE_TARGET"),
        (_input("http://10.1.2.3/hook"), "url", "PRIVATE_TARGET"),
        (_input("http://169.254.169.254/latest/meta-data"), "url", "PRIVATE_TARGET"),
        (_input("http://[::1]/hook"), "url", "PRIVATE_TARGET"),
        (_input("http://[::ffff:192.168.0.1]/hook"), "url", "PRIVATE_TARGET"),
        (_input("http://203.0.113.9/hook"), "url", "PRIVATE_TARGET"),  # documentation range
        (_input("https://93.184.215.14/hook", secret="short-secret-15"), "secret", "INVALID"),
        (_input("https://93.184.215.14/hook", events=[]), "events", "REQUIRED"),
    ]
    for data, field, code in cases:
        res = await admin(CREATE, {"input": data})
        errors = res.data["webhookCreate"]["errors"]
        assert [(e["field"], e["code"]) for e in errors] == [(field, code)], (data, errors)
        assert res.data["webhookCreate"]["webhook"] is None
    assert await models.Webhook.all().count() == 0
    assert not await models.Activity.filter(kind__startswith="webhook.").exists()


async def test_private_update_refused(world: World, strict: GQLClient):
    admin = strict.as_(world.admin_token)
    hook = (await admin(CREATE, {"input": _input("https://93.184.215.14/hook")})).data[
        "webhookCreate"
    ]["webhook"]
    res = await admin(UPDATE, {"input": {"id": hook["id"], "url": "http://192.168.1.1/"}})
    assert [e["code"] for e in res.data["webhookUpdate"]["errors"]] == ["PRIVATE_TARGET"]
    assert (await models.Webhook.get()).url == "https://93.184.215.14/hook"


async def test_administrators_only(world: World, gqlw: GQLClient, receiver: Receiver):
    admin = gqlw.as_(world.admin_token)
    hook = (await admin(CREATE, {"input": _input(receiver.url)})).data["webhookCreate"]["webhook"]
    ping = (await admin(TEST, {"id": hook["id"]})).data["webhookTest"]["delivery"]
    alice = gqlw.as_(world.alice_token)  # an agent of another department than nobody's
    for query, variables in [
        (CREATE, {"input": _input(receiver.url)}),
        (UPDATE, {"input": {"id": hook["id"], "active": False}}),
        (DELETE, {"input": {"id": hook["id"]}}),
        (TEST, {"id": hook["id"]}),
        (REDELIVER, {"id": ping["id"]}),
        (LIST, None),
    ]:
        res = await alice(query, variables)
        assert res.error_codes() == ["FORBIDDEN"], (query, res.body)
    nodes = "query($ids: [ID!]!) { nodes(ids: $ids) { id __typename } }"
    res = await alice(nodes, {"ids": [hook["id"], ping["id"]]})
    assert res.data["nodes"] == [None, None]
    res = await admin(nodes, {"ids": [hook["id"], ping["id"]]})
    assert [n["__typename"] for n in res.data["nodes"]] == ["Webhook", "WebhookDelivery"]
    assert await models.Webhook.all().count() == 1
    assert receiver.requests and len(receiver.requests) == 1


async def test_unknown_ids(world: World, gqlw: GQLClient):
    admin = gqlw.as_(world.admin_token)
    res = await admin(TEST, {"id": gid("Webhook", 999)})
    assert [e["code"] for e in res.data["webhookTest"]["errors"]] == ["NOT_FOUND"]
    res = await admin(REDELIVER, {"id": gid("Ticket", 1)})
    assert [e["code"] for e in res.data["webhookRedeliver"]["errors"]] == ["INVALID"]
