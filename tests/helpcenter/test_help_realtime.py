"""`ticketUpdates` on /help/graphql: both subprotocols, only public changes, another contact's
ticket is NOT_FOUND, and the stream ends when access is lost."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import websockets

from deskql import models
from deskql.realtime import help_stream, topics
from deskql.services import tickets
from deskql.services.auth import load_actor
from deskql.services.helpcenter import access
from deskql.services.helpcenter import tickets as help_tickets
from tests.conftest import World, gid
from tests.realtime.conftest import LEGACY_WS, TRANSPORT_WS, LiveServer, WSClient, wait_until
from tests.realtime.conftest import server as server  # noqa: F401  (the fixture)

UPDATES = """
subscription($id: ID!) {
  ticketUpdates(ticketId: $id) { kind ticket { status } message { body fromCustomer authorName } }
}
"""


@pytest.fixture(autouse=True)
def _no_contact_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(help_stream, "ACTOR_TTL", 0.0)


@contextlib.asynccontextmanager
async def help_ws(live: LiveServer, token: str, protocol: str) -> AsyncIterator[WSClient]:
    url = f"ws://127.0.0.1:{live.port}/help/graphql"
    async with websockets.connect(url, subprotocols=[protocol]) as ws:
        client = WSClient(ws, protocol)
        ack = await client.init({"token": token})
        assert ack["type"] == "connection_ack", ack
        yield client


async def _contact_with_ticket(email: str) -> tuple[models.Ticket, str, Any]:
    contact = await models.Contact.filter(email=email).first() or await models.Contact.create(
        email=email, last_name=email.split("@")[0]
    )
    await models.ContactLogin.get_or_create(contact_id=contact.id)
    token = await access.issue_token(contact.id, days=1)
    actor = await access.authenticate(token)
    ticket = await help_tickets.create_ticket(
        actor,
        root=None,
        max_bytes=0,
        subject="Zepsute 坏了",
        description="Pomocy",  # type: ignore[arg-type]
    )
    return ticket, token, actor


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_only_public_changes_arrive_live(
    server: LiveServer,  # noqa: F811
    world: World,
    protocol: str,
) -> None:
    ticket, token, _ = await _contact_with_ticket("melissa@example.com")
    bob = await load_actor(world.bob.id)
    async with help_ws(server, token, protocol) as client:
        await client.subscribe(UPDATES, {"id": gid("Ticket", ticket.id)})
        await wait_until(lambda: server.app.state.hub.count(topics.ticket(ticket.id)) == 1)
        # Private things first: nothing of them arrives.
        await tickets.add_comment(bob, ticket_id=ticket.id, body="SECRET note")
        await tickets.add_tags(bob, ticket_id=ticket.id, names=["secret"])
        await tickets.add_comment(bob, ticket_id=ticket.id, body="Wymieniamy część", is_public=True)
        event = (await client.data())["ticketUpdates"]
        assert event == {
            "kind": "MESSAGE",
            "ticket": {"status": "OPEN"},
            "message": {"body": "Wymieniamy część", "fromCustomer": False, "authorName": "B Bob"},
        }
        fresh = await models.Ticket.get(id=ticket.id)
        await tickets.update_ticket(
            bob, ticket_id=ticket.id, version=fresh.version, changes={"status": "ON_HOLD"}
        )
        event = (await client.data())["ticketUpdates"]
        assert (event["kind"], event["ticket"]["status"], event["message"]) == (
            "STATUS",
            "ON_HOLD",
            None,
        )
        await client.nothing_for(0.3)


async def test_another_contacts_ticket_is_not_found_and_lost_access_ends_the_stream(
    server: LiveServer,  # noqa: F811
    world: World,
) -> None:
    theirs, _, _ = await _contact_with_ticket("jan@example.com")
    mine, token, actor = await _contact_with_ticket("melissa@example.com")
    async with help_ws(server, token, TRANSPORT_WS) as client:
        await client.subscribe(UPDATES, {"id": gid("Ticket", theirs.id)})
        kind, errors = await client.next()
        assert kind == "error" and errors[0]["extensions"]["code"] == "NOT_FOUND"
        op = await client.subscribe(UPDATES, {"id": gid("Ticket", mine.id)})
        await wait_until(lambda: server.app.state.hub.count(topics.ticket(mine.id)) == 1)
        # Deactivated: the next event ends the stream instead of delivering it.
        await models.ContactLogin.filter(contact_id=actor.contact_id).update(is_active=False)
        bob = await load_actor(world.bob.id)
        await tickets.add_comment(bob, ticket_id=mine.id, body="public", is_public=True)
        kind, errors = await client.next(op=op)
        assert kind == "error" and errors[0]["extensions"]["code"] == "FORBIDDEN"
    async with websockets.connect(
        f"ws://127.0.0.1:{server.port}/help/graphql", subprotocols=[TRANSPORT_WS]
    ) as ws:
        client = WSClient(ws, TRANSPORT_WS)
        await ws.send(f'{{"type": "connection_init", "payload": {{"token": "{world.bob_token}"}}}}')
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await client.raw()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
