"""Shared execution of subscription events (realtime/shared.py): one GraphQL execution per
group of subscribers with the same document, variables and access, over real WebSockets;
per-agent fields split the groups; lost access still stops one subscriber of a group."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
import pytest_asyncio

from deskql import models
from deskql.realtime import personal, shared, topics
from deskql.realtime.shared import cache as shared_cache
from deskql.realtime.streams import dashboard
from deskql.schema.root import build_schema
from deskql.services import auth, follows, tickets
from tests.conftest import World, gid, make_agent
from tests.realtime.conftest import (
    LEGACY_WS,
    TRANSPORT_WS,
    LiveServer,
    WSClient,
    wait_until,
    ws_client,
)

TICKET = """subscription($id: ID!) { ticketUpdates(ticketId: $id) {
  kind changes activity { kind actor { id name } } ticket { id status version } } }"""
# `followers` lists the asker too (even outside shared departments): a per-agent field.
PER_AGENT = """subscription($id: ID!) { ticketUpdates(ticketId: $id) {
  kind ticket { id followers { edges { node { id } } } } } }"""
UPDATE = """mutation($id: ID!, $v: Int!, $status: TicketStatus) {
  ticketUpdate(input: {id: $id, version: $v, status: $status}) {
    errors { code } ticket { version } } }"""


@pytest_asyncio.fixture
async def counts() -> AsyncIterator[shared._Results]:
    shared.results.clear()
    shared.results.executions = shared.results.shared = shared.results.direct = 0
    yield shared.results
    shared.results.clear()


async def _ticket(world: World) -> models.Ticket:
    return await tickets.create_ticket(
        await auth.load_actor(world.admin.id),
        subject="Printer on fire",
        department_id=world.support.id,
        contact_id=world.contact.id,
    )


async def _clients(
    stack: AsyncExitStack, server: LiveServer, specs: list[tuple[str, str]]
) -> list[WSClient]:
    return [await stack.enter_async_context(ws_client(server, t, p)) for t, p in specs]


async def test_one_execution_per_group_for_both_protocols(
    server: LiveServer, world: World, counts: shared._Results
) -> None:
    carol, carol_token = await make_agent("carol@zylker.com", "Carol", depts=[world.support.id])
    ticket = await _ticket(world)
    variables = {"id": gid("Ticket", ticket.id)}
    async with AsyncExitStack() as stack:
        # Alice and Carol: same role and departments, one of them on the legacy protocol.
        # The administrator sees more, so gets his own group.
        clients = await _clients(
            stack,
            server,
            [
                (world.alice_token, TRANSPORT_WS),
                (carol_token, LEGACY_WS),
                (world.alice_token, LEGACY_WS),
                (world.admin_token, TRANSPORT_WS),
            ],
        )
        for client in clients:
            await client.subscribe(TICKET, variables)
        hub = server.app.state.hub
        await wait_until(lambda: hub.count(topics.ticket(ticket.id)) == 4)
        before = counts.executions
        result = await server.gql(
            world.admin_token, UPDATE, {**variables, "v": ticket.version, "status": "ON_HOLD"}
        )
        assert result["ticketUpdate"]["errors"] == []
        frames = [await client.ws.recv() for client in clients]
        # Text frames (browsers' graphql-ws clients parse text), the same event for everyone.
        assert all(isinstance(frame, str) for frame in frames)
        events = [json.loads(frame)["payload"]["data"]["ticketUpdates"] for frame in frames]
        assert all(event == events[0] for event in events)
        assert events[0]["changes"] == {"status": {"old": "OPEN", "new": "ON_HOLD"}}
        assert events[0]["ticket"] == {
            "id": gid("Ticket", ticket.id),
            "status": "ON_HOLD",
            "version": ticket.version + 1,
        }
        assert events[0]["activity"]["actor"] == {
            "id": gid("Agent", world.admin.id),
            "name": "A Admin",
        }
        # Two groups (agents of Support; the administrator): two executions; the other two
        # subscribers got the group's result pre-encoded, without executing.
        assert counts.executions - before == 2
        assert counts.direct == 2
        assert {json.loads(frame)["type"] for frame in frames} == {"next", "data"}


async def test_per_agent_fields_are_executed_for_each_agent(
    server: LiveServer, world: World, counts: shared._Results
) -> None:
    carol, carol_token = await make_agent("carol@zylker.com", "Carol", depts=[world.support.id])
    ticket = await _ticket(world)
    variables = {"id": gid("Ticket", ticket.id)}
    async with AsyncExitStack() as stack:
        clients = await _clients(
            stack, server, [(world.alice_token, TRANSPORT_WS), (carol_token, TRANSPORT_WS)]
        )
        for client in clients:
            await client.subscribe(PER_AGENT, variables)
        await wait_until(lambda: server.app.state.hub.count(topics.ticket(ticket.id)) == 2)
        before = counts.executions
        await tickets.add_comment(
            await auth.load_actor(world.admin.id), ticket_id=ticket.id, body="hello"
        )
        events = [(await client.data())["ticketUpdates"] for client in clients]
        assert [e["kind"] for e in events] == ["ticket.comment_added"] * 2
        assert counts.executions - before == 2 and counts.direct == 0


async def test_losing_access_stops_one_member_of_a_group_only(
    server: LiveServer, world: World, counts: shared._Results
) -> None:
    carol, carol_token = await make_agent("carol@zylker.com", "Carol", depts=[world.support.id])
    ticket = await _ticket(world)
    variables = {"id": gid("Ticket", ticket.id)}
    admin = await auth.load_actor(world.admin.id)
    async with AsyncExitStack() as stack:
        alice, carol_client = await _clients(
            stack, server, [(world.alice_token, TRANSPORT_WS), (carol_token, TRANSPORT_WS)]
        )
        for client in (alice, carol_client):
            await client.subscribe(TICKET, variables)
        hub = server.app.state.hub
        await wait_until(lambda: hub.count(topics.ticket(ticket.id)) == 2)
        await tickets.add_comment(admin, ticket_id=ticket.id, body="one")
        assert (await alice.data())["ticketUpdates"]["kind"] == "ticket.comment_added"
        assert (await carol_client.data())["ticketUpdates"]["kind"] == "ticket.comment_added"
        assert counts.executions == 1 and counts.direct == 1
        await models.DepartmentMembership.filter(agent_id=world.alice.id).delete()
        await tickets.add_comment(admin, ticket_id=ticket.id, body="secret")
        kind, errors = await alice.next()
        assert kind == "error" and errors[0]["extensions"]["code"] == "FORBIDDEN"
        assert (await carol_client.data())["ticketUpdates"]["kind"] == "ticket.comment_added"
        await wait_until(lambda: hub.count(topics.ticket(ticket.id)) == 1)


async def test_a_departed_subscriber_does_not_cancel_its_groups_execution(
    server: LiveServer, world: World, counts: shared._Results
) -> None:
    carol, carol_token = await make_agent("carol@zylker.com", "Carol", depts=[world.support.id])
    ticket = await _ticket(world)
    variables = {"id": gid("Ticket", ticket.id)}
    admin = await auth.load_actor(world.admin.id)
    hub = server.app.state.hub
    async with ws_client(server, carol_token) as carol_client:
        await carol_client.subscribe(TICKET, variables)
        async with ws_client(server, world.alice_token) as alice:
            await alice.subscribe(TICKET, variables)
            await wait_until(lambda: hub.count(topics.ticket(ticket.id)) == 2)
            await tickets.add_comment(admin, ticket_id=ticket.id, body="one")
            # Alice vanishes while the event is on its way.
            alice.ws.transport.abort()  # type: ignore[attr-defined]
        event = (await carol_client.data())["ticketUpdates"]
        assert event["kind"] == "ticket.comment_added"
        await wait_until(lambda: hub.count(topics.ticket(ticket.id)) == 1)
        await tickets.add_comment(admin, ticket_id=ticket.id, body="two")
        assert (await carol_client.data())["ticketUpdates"]["kind"] == "ticket.comment_added"


DASHBOARD = """subscription($id: ID!) { dashboardUpdates(departmentId: $id) {
  open unassigned createdToday } }"""


async def test_dashboards_of_a_department_count_once_per_event(
    server: LiveServer, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    carol, carol_token = await make_agent("carol@zylker.com", "Carol", depts=[world.support.id])
    calls: list[int] = []
    count = dashboard.dashboard_counts

    async def counted(department_id: int) -> dict[str, int]:
        calls.append(department_id)
        return await count(department_id)

    monkeypatch.setattr(dashboard, "dashboard_counts", counted)
    variables = {"id": gid("Department", world.support.id)}
    async with AsyncExitStack() as stack:
        clients = await _clients(
            stack,
            server,
            [
                (world.alice_token, TRANSPORT_WS),
                (carol_token, LEGACY_WS),
                (world.admin_token, TRANSPORT_WS),
            ],
        )
        for client in clients:
            await client.subscribe(DASHBOARD, variables)
        for client in clients:
            assert (await client.data())["dashboardUpdates"]["open"] == 0
        assert len(calls) == 3  # each dashboard's first counts are its own
        await _ticket(world)
        for client in clients:
            counts = (await client.data())["dashboardUpdates"]
            assert counts == {"open": 1, "unassigned": 1, "createdToday": 1}
        assert calls == [world.support.id] * 4
        # The next change counts afresh (once), never reusing the previous counts.
        await _ticket(world)
        for client in clients:
            assert (await client.data())["dashboardUpdates"]["open"] == 2
        assert len(calls) == 5


@pytest.mark.parametrize(
    ("document", "per_agent"),
    [
        (TICKET, False),
        (PER_AGENT, True),
        # Each agent's own values are filled in per member (personal_plan), not per agent.
        ("subscription { notificationCreated { cursor unreadCount } }", False),
        ("subscription { notificationCreated { notification { contact { name } } } }", True),
        (
            "subscription($id: ID!) { dashboardUpdates(departmentId: $id) { open "
            "department { name } } }",
            False,
        ),
        (
            "subscription($id: ID!) { ticketUpdates(ticketId: $id) { ...T } } "
            "fragment T on TicketUpdateEvent { ticket { assignee { ... on Agent { "
            "notifications { edges { node { id } } } } } } }",
            True,
        ),
        (
            "subscription($id: ID!) { ticketUpdates(ticketId: $id) { __typename ticket { "
            "tags department { name } activities { nodes { kind actor { departments { name } } } "
            "} } } }",
            False,
        ),
    ],
)
def test_which_documents_depend_on_the_agent(document: str, per_agent: bool) -> None:
    from graphql import parse

    schema = build_schema()._schema
    assert shared.document_is_per_agent(schema, parse(document)) is per_agent


async def test_group_results_are_bounded_by_age_and_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    results = shared._Results()
    monkeypatch.setattr(shared_cache, "MAX_RESULTS", 3)  # read there, by _Results
    entries = [results.new(("k", i)) for i in range(5)]
    assert len(results) == 3
    assert results.get(("k", 0)) is None and results.get(("k", 4)) is entries[4]
    # The first to claim an event is told so; the others get the same entry.
    entry, first = results.claim(("k", 4))
    assert entry is entries[4] and not first
    now = shared_cache.time.monotonic()
    monkeypatch.setattr(shared_cache.time, "monotonic", lambda: now + shared.RESULT_TTL + 1)
    assert results.get(("k", 4)) is None
    results.new(("k", 9))
    assert len(results) == 1


async def test_an_abandoned_claim_is_claimed_again() -> None:
    results = shared._Results()
    entry, first = results.claim("e")
    assert first
    waiting = asyncio.ensure_future(asyncio.shield(entry.future))
    entry.abandon()
    with pytest.raises(shared.Abandoned):
        await waiting
    again, first = results.claim("e")
    assert first and again is not entry

    # A started execution is not abandoned by its claimer leaving.
    async def execution() -> Any:
        return "result"

    again.start(execution())
    again.abandon()
    assert await again.future == "result"


# Every field of the two personal types, with aliases, a named and an inline fragment and
# __typename: what each member gets filled in must be what its own execution gives.
NOTIFICATIONS = """subscription { created: notificationCreated { __typename cursor
  unread: unreadCount notification { ...N ... on Notification { again: id isRead }
  activity { kind actor { id name } } ticket { id number status version } } } }
fragment N on Notification { id reason createdAt readAt isRead cursor }"""
FEED = """query { me { notifications(first: 5) { edges { cursor node { id reason createdAt
  readAt isRead cursor activity { kind actor { id name } } ticket { id number status version }
  } } } } unreadNotificationCount }"""


async def test_notifications_execute_once_per_group_with_each_agents_own_values(
    server: LiveServer, world: World, counts: shared._Results
) -> None:
    carol, carol_token = await make_agent("carol@zylker.com", "Carol", depts=[world.support.id])
    dave, dave_token = await make_agent("dave@zylker.com", "Dave", depts=[world.support.id])
    ticket = await _ticket(world)
    admin = await auth.load_actor(world.admin.id)
    for agent in (world.alice, carol, dave):
        await follows.follow_ticket(await auth.load_actor(agent.id), ticket_id=ticket.id)
    # Everyone has an unread notification of this comment; Alice then reads hers, so the
    # unread counts differ within the group.
    await tickets.add_comment(admin, ticket_id=ticket.id, body="first")
    await server.gql(
        world.alice_token, "mutation { notificationMarkAllRead(input: {}) { marked } }"
    )
    async with AsyncExitStack() as stack:
        specs = [(world.alice_token, TRANSPORT_WS), (carol_token, LEGACY_WS)]
        specs.append((dave_token, TRANSPORT_WS))
        clients = await _clients(stack, server, specs)
        for client in clients:
            await client.subscribe(NOTIFICATIONS)
        hub = server.app.state.hub
        await wait_until(lambda: hub.count() == 3)
        before = counts.executions
        # Dave is mentioned: his reason differs; all three are in one group.
        body = "@[Dave](" + gid("Agent", dave.id) + ") have a look"
        await tickets.add_comment(admin, ticket_id=ticket.id, body=body)
        events = [(await client.data())["created"] for client in clients]
        assert counts.executions - before == 1 and counts.direct == 2
        for event, token in zip(events, (world.alice_token, carol_token, dave_token), strict=True):
            feed = await server.gql(token, FEED)
            newest = feed["me"]["notifications"]["edges"][0]
            expected = {
                "__typename": "NotificationCreatedEvent",
                "cursor": newest["cursor"],
                "unread": feed["unreadNotificationCount"],
                "notification": {
                    **newest["node"],
                    "again": newest["node"]["id"],
                },
            }
            assert event == expected
        ids = {event["notification"]["id"] for event in events}
        assert len(ids) == 3
        assert [e["unread"] for e in events] == [1, 2, 2]
        assert [e["notification"]["reason"] for e in events] == [
            "FOLLOWING",
            "FOLLOWING",
            "MENTIONED",
        ]
        assert {e["notification"]["ticket"]["version"] for e in events} == {ticket.version}
        # A read notification: the next event has readAt/isRead of its own (null/false).
        await server.gql(
            carol_token,
            "mutation { notificationMarkAllRead(input: {}) { errors { code } marked } }",
        )
        await tickets.add_comment(admin, ticket_id=ticket.id, body="again")
        events = [(await client.data())["created"] for client in clients]
        assert [e["unread"] for e in events] == [2, 1, 3]
        assert all(e["notification"]["isRead"] is False for e in events)


async def test_a_document_without_a_plan_is_executed_by_each_member(
    server: LiveServer, world: World, counts: shared._Results
) -> None:
    carol, carol_token = await make_agent("carol@zylker.com", "Carol", depts=[world.support.id])
    ticket = await _ticket(world)
    admin = await auth.load_actor(world.admin.id)
    for agent in (world.alice, carol):
        await follows.follow_ticket(await auth.load_actor(agent.id), ticket_id=ticket.id)
    document = """subscription { notificationCreated { notification { id
      contact { name } } } }"""
    async with AsyncExitStack() as stack:
        clients = await _clients(
            stack, server, [(world.alice_token, TRANSPORT_WS), (carol_token, TRANSPORT_WS)]
        )
        for client in clients:
            await client.subscribe(document)
        await wait_until(lambda: server.app.state.hub.count() == 2)
        before = counts.executions
        await tickets.add_comment(admin, ticket_id=ticket.id, body="hello")
        events = [(await client.data())["notificationCreated"] for client in clients]
        # Not grouped at all: each executed its own event, none was shared or filled in.
        assert counts.executions - before == 0 and counts.shared == counts.direct == 0
        assert len({e["notification"]["id"] for e in events}) == 2
        assert all(e["notification"]["contact"]["name"] for e in events)


@pytest.mark.parametrize(
    ("document", "keys"),
    [
        (
            "subscription { notificationCreated { cursor n: notification { id activity { kind } "
            "} } }",
            {"notificationCreated": {"cursor": None, "n": {"id": None}}},
        ),
        (
            "subscription { e: notificationCreated { ...E } } fragment E on "
            "NotificationCreatedEvent { unreadCount notification { reason } notification { "
            "readAt ticket { id } } }",
            {"e": {"unreadCount": None, "notification": {"reason": None, "readAt": None}}},
        ),
        ("subscription { notificationCreated { cursor @include(if: true) } }", None),
        ("subscription { notificationCreated { notification { account { name } } } }", None),
        ("subscription($id: ID!) { ticketUpdates(ticketId: $id) { kind } }", None),
    ],
)
def test_personal_plans(document: str, keys: dict[str, Any] | None) -> None:
    from graphql import parse

    schema = build_schema()._schema
    parsed = parse(document)
    operation = parsed.definitions[0]
    fragments = {d.name.value: d for d in parsed.definitions[1:]}  # type: ignore[attr-defined]
    plan = personal.personal_plan(schema, operation, fragments)  # type: ignore[arg-type]

    def shape(plan: personal.Plan) -> dict[str, Any]:
        return {k: shape(f) if isinstance(f, dict) else None for k, (_, f) in plan.items()}

    assert (None if plan is None else shape(plan)) == keys


def test_personalise_refuses_a_result_of_another_shape() -> None:
    from graphql import parse

    schema = build_schema()._schema
    parsed = parse("subscription { notificationCreated { cursor unreadCount } }")
    plan = personal.personal_plan(schema, parsed.definitions[0], {})  # type: ignore[arg-type]
    assert plan is not None

    class Event:
        cursor = "bjo5"
        unread_count = 4

    data = {"notificationCreated": {"cursor": "bjo1", "unreadCount": 1}}
    out = personal.personalise(data, Event(), plan)
    assert out == {"notificationCreated": {"cursor": "bjo5", "unreadCount": 4}}
    assert data == {"notificationCreated": {"cursor": "bjo1", "unreadCount": 1}}
    with pytest.raises(personal.Mismatch):
        personal.personalise({"notificationCreated": None}, Event(), plan)
    Event.unread_count = None  # type: ignore[assignment]
    with pytest.raises(personal.Mismatch):
        personal.personalise(data, Event(), plan)
