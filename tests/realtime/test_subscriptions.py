"""Subscriptions over real WebSockets (uvicorn on a free port), both protocols: delivery,
replay without gaps or doubles, access checks on subscribe and per event, bad input."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import websockets

from deskql import models
from deskql.realtime import topics
from deskql.services import auth, follows, tickets
from tests.conftest import World, gid
from tests.realtime.conftest import (
    LEGACY_WS,
    TRANSPORT_WS,
    LiveServer,
    WSClient,
    wait_until,
    ws_client,
)

NOTIFICATIONS = """subscription($after: String) { notificationCreated(after: $after) {
  cursor unreadCount
  notification { id reason activity { kind changes } ticket { id } contact { id } } } }"""
TICKET = """subscription($id: ID!) { ticketUpdates(ticketId: $id) {
  kind changes activity { kind actor { id } } ticket { id status version } } }"""
DASHBOARD = """subscription($id: ID!) { dashboardUpdates(departmentId: $id) {
  department { name } open onHold escalated unassigned overdue createdToday closedToday } }"""
COMMENT = """mutation($id: ID!, $body: String!) {
  commentAdd(input: {ticketId: $id, body: $body}) { errors { code } } }"""
UPDATE = """mutation($id: ID!, $v: Int!, $status: TicketStatus) {
  ticketUpdate(input: {id: $id, version: $v, status: $status}) { errors { code } } }"""


async def _ticket(world: World, **kwargs: Any) -> models.Ticket:
    return await tickets.create_ticket(
        await auth.load_actor(world.admin.id),
        subject="Printer on fire",
        department_id=world.support.id,
        contact_id=world.contact.id,
        **kwargs,
    )


async def _comment(world: World, ticket: models.Ticket, body: str = "hi") -> None:
    await tickets.add_comment(await auth.load_actor(world.admin.id), ticket_id=ticket.id, body=body)


async def _follow(agent: models.Agent, ticket: models.Ticket) -> None:
    await follows.follow_ticket(await auth.load_actor(agent.id), ticket_id=ticket.id)


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_notification_created_reaches_the_follower(
    server: LiveServer, world: World, protocol: str
) -> None:
    ticket = await _ticket(world)
    await _follow(world.alice, ticket)
    async with ws_client(server, world.alice_token, protocol) as client:
        await client.subscribe(NOTIFICATIONS)
        await wait_until(lambda: server.app.state.hub.count(topics.agent(world.alice.id)) == 1)
        # The change comes in over HTTP on the same server, as an agent's client would send it.
        result = await server.gql(
            world.admin_token, COMMENT, {"id": gid("Ticket", ticket.id), "body": "on it"}
        )
        assert result["commentAdd"]["errors"] == []
        event = (await client.data())["notificationCreated"]
        assert event["unreadCount"] == 1
        note = event["notification"]
        assert note["reason"] == "FOLLOWING"
        assert note["activity"]["kind"] == "ticket.comment_added"
        assert note["ticket"] == {"id": gid("Ticket", ticket.id)}
        assert note["contact"] == {"id": gid("Contact", world.contact.id)}
        row = await models.Notification.get(agent_id=world.alice.id)
        assert note["id"] == gid("Notification", row.id)


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_ticket_updates_carry_changes_and_new_state(
    server: LiveServer, world: World, protocol: str
) -> None:
    ticket = await _ticket(world)
    async with ws_client(server, world.alice_token, protocol) as client:
        await client.subscribe(TICKET, {"id": gid("Ticket", ticket.id)})
        await wait_until(lambda: server.app.state.hub.count(topics.ticket(ticket.id)) == 1)
        await server.gql(
            world.admin_token,
            UPDATE,
            {"id": gid("Ticket", ticket.id), "v": ticket.version, "status": "ON_HOLD"},
        )
        event = (await client.data())["ticketUpdates"]
        assert event["kind"] == "ticket.updated"
        assert event["changes"] == {"status": {"old": "OPEN", "new": "ON_HOLD"}}
        assert event["ticket"]["status"] == "ON_HOLD"
        assert event["ticket"]["version"] == ticket.version + 1
        assert event["activity"]["actor"] == {"id": gid("Agent", world.admin.id)}
        await _comment(world, ticket)
        assert (await client.data())["ticketUpdates"]["kind"] == "ticket.comment_added"


async def test_dashboard_pushes_counts_when_they_change(server: LiveServer, world: World) -> None:
    async with ws_client(server, world.alice_token) as client:
        await client.subscribe(DASHBOARD, {"id": gid("Department", world.support.id)})
        first = (await client.data())["dashboardUpdates"]
        assert first["department"] == {"name": "Support"}
        assert [first[k] for k in ("open", "unassigned", "createdToday", "closedToday")] == [
            0,
            0,
            0,
            0,
        ]
        ticket = await _ticket(world, due_at=datetime.now(UTC) - timedelta(hours=1))
        counts = (await client.data())["dashboardUpdates"]
        assert (counts["open"], counts["unassigned"], counts["overdue"]) == (1, 1, 1)
        assert counts["createdToday"] == 1
        # A change that leaves every count as it was pushes nothing.
        await _comment(world, ticket)
        await client.nothing_for(0.5)
        admin = await auth.load_actor(world.admin.id)
        await tickets.update_ticket(
            admin,
            ticket_id=ticket.id,
            version=ticket.version,
            changes={"status": models.TicketStatus.CLOSED},
        )
        counts = (await client.data())["dashboardUpdates"]
        assert (counts["open"], counts["overdue"], counts["closedToday"]) == (0, 0, 1)
        # Other departments' tickets do not move these counts.
        await tickets.create_ticket(
            admin, subject="x", department_id=world.sales.id, contact_id=world.contact.id
        )
        await client.nothing_for(0.5)


async def test_replay_after_a_cursor_then_live_without_gaps_or_doubles(
    server: LiveServer, world: World
) -> None:
    ticket = await _ticket(world)
    await _follow(world.alice, ticket)
    for i in range(3):
        await _comment(world, ticket, f"before {i}")
    rows = await models.Notification.filter(agent_id=world.alice.id).order_by("id")
    page = await server.gql(
        world.alice_token, "{ me { notifications(first: 1) { edges { cursor } } } }"
    )
    newest_cursor = page["me"]["notifications"]["edges"][0]["cursor"]
    oldest = await server.gql(
        world.alice_token,
        "{ me { notifications(first: 3) { edges { cursor node { id } } } } }",
    )
    cursor_of_first = oldest["me"]["notifications"]["edges"][-1]["cursor"]
    assert oldest["me"]["notifications"]["edges"][-1]["node"]["id"] == gid(
        "Notification", rows[0].id
    )
    assert newest_cursor != cursor_of_first

    async with ws_client(server, world.alice_token) as client:
        # Changes keep coming while the client subscribes: the seam must hold.
        writer = asyncio.create_task(_comments(world, ticket, 15))
        await client.subscribe(NOTIFICATIONS, {"after": cursor_of_first})
        await writer
        expected = [
            gid("Notification", pk)
            for pk in await models.Notification.filter(
                agent_id=world.alice.id, id__gt=rows[0].id
            ).values_list("id", flat=True)
        ]
        assert len(expected) == 2 + 15
        got = [(await client.data())["notificationCreated"]["notification"]["id"] for _ in expected]
        assert sorted(got) == sorted(expected) and len(set(got)) == len(got)
        await client.nothing_for(0.5)


async def _comments(world: World, ticket: models.Ticket, count: int) -> None:
    for i in range(count):
        await _comment(world, ticket, f"during {i}")
        await asyncio.sleep(0.005)


async def test_connection_refused_without_a_valid_token(server: LiveServer, world: World) -> None:
    revoked, plain = await auth.issue_token(
        agent_id=world.alice.id, kind=models.TokenKind.API, name="old"
    )
    await auth.revoke_token(actor=await auth.load_actor(world.admin.id), token_id=revoked.id)
    refused = [
        {},
        {"token": "dq_nonsense"},
        {"token": plain},
        {"Authorization": "Bearer dq_nonsense"},
        {"Authorization": world.alice_token},  # no "Bearer " scheme
    ]
    for payload in refused:
        async with websockets.connect(server.ws_url, subprotocols=[TRANSPORT_WS]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4403, "Forbidden")
        async with websockets.connect(server.ws_url, subprotocols=[LEGACY_WS]) as ws:
            message = await WSClient(ws, LEGACY_WS).init(payload)
            assert message["type"] == "connection_error", (payload, message)
            with pytest.raises(websockets.ConnectionClosed):
                await ws.recv()
    # Subscribing before connection_init is refused too (graphql-transport-ws: 4401).
    async with websockets.connect(server.ws_url, subprotocols=[TRANSPORT_WS]) as ws:
        client = WSClient(ws, TRANSPORT_WS)
        await client.subscribe(NOTIFICATIONS)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    # The Authorization form of the payload is accepted.
    async with websockets.connect(server.ws_url, subprotocols=[TRANSPORT_WS]) as ws:
        ack = await WSClient(ws, TRANSPORT_WS).init(
            {"Authorization": f"Bearer {world.alice_token}"}
        )
        assert ack["type"] == "connection_ack"
    assert server.app.state.hub.count() == 0


async def test_subscribe_to_what_one_may_not_see_or_wrong_ids(
    server: LiveServer, world: World
) -> None:
    ticket = await _ticket(world)
    async with ws_client(server, world.bob_token) as client:
        cases = [
            (TICKET, {"id": gid("Ticket", ticket.id)}, "NOT_FOUND"),
            (TICKET, {"id": gid("Contact", world.contact.id)}, "INVALID_ID"),
            (TICKET, {"id": "not-an-id"}, "INVALID_ID"),
            (DASHBOARD, {"id": gid("Department", world.support.id)}, "NOT_FOUND"),
            (DASHBOARD, {"id": gid("Ticket", ticket.id)}, "INVALID_ID"),
            (NOTIFICATIONS, {"after": "garbage"}, "BAD_PAGINATION"),
        ]
        for query, variables, code in cases:
            op = await client.subscribe(query, variables)
            kind, errors = await client.next(op=op)
            assert kind == "error", (variables, kind, errors)
            assert errors[0]["extensions"]["code"] == code, (variables, errors)
    assert server.app.state.hub.count() == 0


async def _expect_stream_ends(client: WSClient, code: str = "FORBIDDEN") -> None:
    kind, value = await client.next()
    if kind == "complete":
        return
    assert kind == "error", (kind, value)
    assert value[0]["extensions"]["code"] == code, value


async def test_moved_out_of_the_department_stops_ticket_updates(
    server: LiveServer, world: World
) -> None:
    ticket = await _ticket(world)
    async with ws_client(server, world.alice_token) as client:
        await client.subscribe(TICKET, {"id": gid("Ticket", ticket.id)})
        await wait_until(lambda: server.app.state.hub.count(topics.ticket(ticket.id)) == 1)
        await _comment(world, ticket, "one")
        assert (await client.data())["ticketUpdates"]["kind"] == "ticket.comment_added"
        await models.DepartmentMembership.filter(agent_id=world.alice.id).delete()
        await _comment(world, ticket, "secret")
        await _expect_stream_ends(client)
        await wait_until(lambda: server.app.state.hub.count() == 0)


async def test_revoked_token_stops_notifications(server: LiveServer, world: World) -> None:
    ticket = await _ticket(world)
    await _follow(world.alice, ticket)
    async with ws_client(server, world.alice_token) as client:
        await client.subscribe(NOTIFICATIONS)
        await wait_until(lambda: server.app.state.hub.count() == 1)
        await _comment(world, ticket, "one")
        await client.data()
        await models.ApiToken.filter(agent_id=world.alice.id).update(revoked_at=datetime.now(UTC))
        await _comment(world, ticket, "two")
        await _expect_stream_ends(client)
        await wait_until(lambda: server.app.state.hub.count() == 0)


async def test_deactivated_agent_stops_the_dashboard(server: LiveServer, world: World) -> None:
    async with ws_client(server, world.alice_token) as client:
        await client.subscribe(DASHBOARD, {"id": gid("Department", world.support.id)})
        await client.data()
        await models.Agent.filter(id=world.alice.id).update(is_active=False)
        await _ticket(world)
        await _expect_stream_ends(client)


async def test_disconnect_mid_stream_releases_the_subscription(
    server: LiveServer, world: World
) -> None:
    ticket = await _ticket(world)
    await _follow(world.alice, ticket)
    hub = server.app.state.hub
    async with ws_client(server, world.alice_token) as client:
        await client.subscribe(NOTIFICATIONS)
        await client.subscribe(TICKET, {"id": gid("Ticket", ticket.id)})
        await wait_until(lambda: hub.count() == 2)
        assert hub.backend_channels() == {topics.agent(world.alice.id), topics.ticket(ticket.id)}
        await _comment(world, ticket)
        await client.data()
        # Gone without a goodbye: no complete, no close frame.
        client.ws.transport.abort()  # type: ignore[attr-defined]
    await wait_until(lambda: hub.count() == 0)
    assert hub.backend_channels() == set()


async def test_a_client_that_never_reads_is_dropped(server: LiveServer, world: World) -> None:
    hub = server.app.state.hub
    hub.queue_size = 2
    ticket = await _ticket(world, description="x" * 90_000)
    admin = await auth.load_actor(world.admin.id)
    async with ws_client(
        server, world.alice_token, max_queue=1, max_size=2**24, compression=None
    ) as client:
        await client.subscribe(
            "subscription($id: ID!) { ticketUpdates(ticketId: $id) { ticket { description } } }",
            {"id": gid("Ticket", ticket.id)},
        )
        await wait_until(lambda: hub.count() == 1)
        # The client reads nothing while ~20 MB of events are produced.
        version = ticket.version
        for i in range(200):
            if hub.dropped:
                break
            fresh = await tickets.update_ticket(
                admin, ticket_id=ticket.id, version=version, changes={"subject": f"s{i}"}
            )
            version = fresh.version
            await asyncio.sleep(0.01)
        await wait_until(lambda: hub.dropped >= 1, within=20)
        assert hub.count() == 0
        # Reading now: what was buffered, then the close with the slow-consumer code.
        with pytest.raises(websockets.ConnectionClosed) as closed:
            for _ in range(10_000):
                await asyncio.wait_for(client.ws.recv(), 30)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4008
