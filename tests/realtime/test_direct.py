"""Direct delivery (realtime/direct.py): idle subscribers get the group's result written to
their connection without waking, byte for byte what the normal path sends (compared with
subscribers whose compressed connections always take the normal path), per access scope;
ORG-5 still applies per subscriber (an agent moved out, a ticket moved to another
department, a revoked token) and everything that cannot be written directly is queued."""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import AsyncExitStack
from types import SimpleNamespace
from typing import Any

import pytest
from websockets.frames import Frame, Opcode

from deskql import models
from deskql.models.enums import Role
from deskql.realtime import batch, direct, shared, sink, topics
from deskql.realtime.hub import LocalSubscription
from deskql.realtime.streams import actors
from deskql.services import auth, tickets
from tests.conftest import World, gid, make_agent
from tests.realtime import conftest as live
from tests.realtime.conftest import LiveServer, WSClient, wait_until, ws_client
from tests.realtime.test_shared import _ticket

TICKET = """subscription($id: ID!) { ticketUpdates(ticketId: $id) {
  kind changes activity { kind actor { id name } }
  ticket { id status version department { id } } } }"""


@pytest.fixture(autouse=True)
def _direct(monkeypatch: pytest.MonkeyPatch) -> None:
    # The realtime tests turn the actor cache off (ACTOR_TTL 0), and with it direct delivery
    # (a subscriber's access is only known without waiting while it is cached).
    monkeypatch.setattr(actors, "ACTOR_TTL", 60.0)
    actors._actors.clear()
    shared.results.clear()
    shared.results.executions = shared.results.shared = shared.results.direct = 0
    direct.stats.written = direct.stats.queued = direct.stats.unanswered = 0


async def _comment(world: World, ticket: models.Ticket, body: str) -> None:
    await tickets.add_comment(await auth.load_actor(world.admin.id), ticket_id=ticket.id, body=body)


async def _subscribers(
    stack: AsyncExitStack,
    server: LiveServer,
    token: str,
    ticket: models.Ticket,
    count: int,
    *,
    plain: bool = True,
    protocol: str = live.TRANSPORT_WS,
) -> list[WSClient]:
    # plain: no permessage-deflate, so the server may write frames directly; otherwise the
    # connection is compressed and every frame goes the normal way (the reference).
    clients = []
    for _ in range(count):
        compression = None if plain else "deflate"
        client = await stack.enter_async_context(
            ws_client(server, token, protocol, compression=compression)
        )
        await client.subscribe(TICKET, {"id": gid("Ticket", ticket.id)})
        clients.append(client)
    return clients


async def _maria(world: World) -> str:
    # An agent of both departments: another access scope than Alice's (Support) or Bob's.
    _, token = await make_agent(
        "maria@zylker.com", "Maria", depts=[world.support.id, world.sales.id]
    )
    return token


async def _frame(client: WSClient) -> str:
    """The next message's exact text (legacy keep-alives skipped)."""
    while True:
        text = await asyncio.wait_for(client.ws.recv(), 10)
        assert isinstance(text, str)
        if json.loads(text).get("type") != "ka":
            return text


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 70000])
def test_frames_are_what_websockets_would_send(size: int) -> None:
    payload = b"x" * size
    assert sink.text_frame(payload) == Frame(Opcode.TEXT, payload).serialize(
        mask=False, extensions=[]
    )


@pytest.mark.parametrize("protocol", [live.TRANSPORT_WS, live.LEGACY_WS])
async def test_the_same_bytes_as_the_normal_path_for_each_access_scope(
    server: LiveServer, world: World, protocol: str
) -> None:
    ticket = await _ticket(world)
    maria_token = await _maria(world)
    async with AsyncExitStack() as stack:
        # Three plain connections per scope (one executes for its group, the others are
        # written directly) and one compressed (always the normal path) as the reference.
        alice, maria = world.alice_token, maria_token
        support = await _subscribers(stack, server, alice, ticket, 3, protocol=protocol)
        [support_ref] = await _subscribers(
            stack, server, alice, ticket, 1, plain=False, protocol=protocol
        )
        both = await _subscribers(stack, server, maria, ticket, 3, protocol=protocol)
        [both_ref] = await _subscribers(
            stack, server, maria, ticket, 1, plain=False, protocol=protocol
        )
        channel = topics.ticket(ticket.id)
        await wait_until(lambda: server.app.state.hub.count(channel) == 8)
        for i in range(3):
            await _comment(world, ticket, f"comment {i}")
            expected = await _frame(support_ref)
            assert [await _frame(c) for c in support] == [expected] * 3
            reference = await _frame(both_ref)
            assert [await _frame(c) for c in both] == [reference] * 3
            frame = json.loads(expected)
            assert frame["type"] == ("next" if protocol == live.TRANSPORT_WS else "data")
            event = frame["payload"]["data"]["ticketUpdates"]
            assert event["activity"]["kind"] == "ticket.comment_added"
            assert event["ticket"]["department"] == {"id": gid("Department", world.support.id)}
        # Two of each three plain ones per event at least (one per group executes).
        assert direct.stats.written >= 3 * 2 * 2
        assert shared.results.executions <= 3 * 2


async def test_org5_still_filters_each_subscriber(server: LiveServer, world: World) -> None:
    ticket = await _ticket(world)
    maria_token = await _maria(world)
    async with AsyncExitStack() as stack:
        alice = await _subscribers(stack, server, world.alice_token, ticket, 3)
        marias = await _subscribers(stack, server, maria_token, ticket, 2)
        # Bob (Sales) may not see a Support ticket: refused at subscribe.
        bob = await stack.enter_async_context(ws_client(server, world.bob_token, compression=None))
        op = await bob.subscribe(TICKET, {"id": gid("Ticket", ticket.id)})
        kind, errors = await bob.next(op=op)
        assert kind == "error" and errors[0]["extensions"]["code"] == "NOT_FOUND"
        channel = topics.ticket(ticket.id)
        await wait_until(lambda: server.app.state.hub.count(channel) == 5)
        await _comment(world, ticket, "warm")
        for client in alice + marias:
            assert (await client.data())["ticketUpdates"]["kind"] == "ticket.comment_added"
        written = direct.stats.written
        assert written >= 2

        # The ticket moves to Sales: Alice (Support only) loses it, Maria (both) keeps it.
        await tickets.update_ticket(
            await auth.load_actor(world.admin.id),
            ticket_id=ticket.id,
            version=(await models.Ticket.get(id=ticket.id)).version,
            changes={"department_id": world.sales.id},
        )
        for client in alice:
            kind, errors = await client.next()
            assert kind == "error", (kind, errors)
            assert errors[0]["extensions"]["code"] == "FORBIDDEN"
            assert (await client.next())[0] == "complete"
        for client in marias:
            event = (await client.data())["ticketUpdates"]
            assert event["ticket"]["department"] == {"id": gid("Department", world.sales.id)}
        # Alice's subscribers were never offered a group result: each was woken at once (it
        # failed the access check), none waited for an execution that could not come.
        assert direct.stats.unanswered == 0
        await wait_until(lambda: server.app.state.hub.count(channel) == 2)

        # Now Bob (Sales) may: his group and Maria's are separate executions.
        op = await bob.subscribe(TICKET, {"id": gid("Ticket", ticket.id)})
        await wait_until(lambda: server.app.state.hub.count(channel) == 3)
        await _comment(world, ticket, "sales")
        kind, data = await bob.next(op=op)  # (after the refused operation's `complete`)
        assert kind == "next", (kind, data)
        bob_event = data["ticketUpdates"]
        maria_events = [(await c.data())["ticketUpdates"] for c in marias]
        assert maria_events[0] == maria_events[1] == bob_event
        assert bob_event["ticket"]["department"] == {"id": gid("Department", world.sales.id)}
        for client in alice:
            await client.nothing_for(0.3)


async def test_a_stale_or_revoked_token_is_re_read_before_writing(
    server: LiveServer, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket = await _ticket(world)
    _, carol_token = await make_agent("carol@zylker.com", "Carol", depts=[world.support.id])
    monkeypatch.setattr(actors, "ACTOR_TTL", 0.4)
    async with AsyncExitStack() as stack:
        alice = await _subscribers(stack, server, world.alice_token, ticket, 2)
        carol = await _subscribers(stack, server, carol_token, ticket, 2)
        channel = topics.ticket(ticket.id)
        await wait_until(lambda: server.app.state.hub.count(channel) == 4)
        await asyncio.sleep(0.5)  # every cached actor is past ACTOR_TTL
        reads = 0
        load_actors = batch.load_actors

        async def counted(tokens: list[str]) -> list[Any]:
            nonlocal reads
            reads += 1
            return await load_actors(tokens)

        monkeypatch.setattr(batch, "load_actors", counted)
        await _comment(world, ticket, "after a pause")
        frames = [await _frame(c) for c in alice + carol]
        assert len(set(frames)) == 1
        assert reads == 1  # one query for every stale subscriber of the event
        assert direct.stats.written >= 2

        # Carol's token is revoked: once her cached actor is stale, her streams end.
        row = await models.ApiToken.get(token_hash=auth._digest(carol_token))
        await auth.revoke_token(actor=await auth.load_actor(world.admin.id), token_id=row.id)
        await asyncio.sleep(0.5)
        await _comment(world, ticket, "after the revocation")
        for client in carol:
            kind, errors = await client.next()
            assert kind == "error" and errors[0]["extensions"]["code"] == "FORBIDDEN"
        for client in alice:
            assert (await client.data())["ticketUpdates"]["kind"] == "ticket.comment_added"


async def test_a_re_read_slower_than_the_ttl_still_writes_directly(
    server: LiveServer, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Re-reading thousands of tokens on a busy machine can take longer than ACTOR_TTL: the
    # actors read for an event stay good for that event (they are younger than the event),
    # instead of all going stale again and every subscriber being woken the slow way.
    ticket = await _ticket(world)
    monkeypatch.setattr(actors, "ACTOR_TTL", 0.3)
    async with AsyncExitStack() as stack:
        alice = await _subscribers(stack, server, world.alice_token, ticket, 4)
        await wait_until(lambda: server.app.state.hub.count(topics.ticket(ticket.id)) == 4)
        await asyncio.sleep(0.4)  # every cached actor is past ACTOR_TTL
        load_actors = batch.load_actors

        async def slow(tokens: list[str]) -> list[Any]:
            found = await load_actors(tokens)
            await asyncio.sleep(0.4)  # longer than ACTOR_TTL
            return found

        monkeypatch.setattr(batch, "load_actors", slow)
        await _comment(world, ticket, "a slow re-read")
        frames = [await _frame(c) for c in alice]
        assert len(set(frames)) == 1
        # One member executes the event for the group; the other three are written.
        assert direct.stats.written == 3 and direct.stats.queued == 1


def test_an_actor_is_fresh_by_the_time_the_event_arrived(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(actors, "ACTOR_TTL", 10.0)
    monkeypatch.setattr(actors, "_refresh_ahead", lambda token: None)
    actor = auth.Actor(1, Role.AGENT, frozenset({1}), 1)
    now = time.monotonic()
    monkeypatch.setitem(actors._actors, "t", (now - 20.0, actor, ""))
    assert actors.cached_actor("t") is None  # older than the TTL
    assert actors.cached_actor("t", since=now - 15.0) is actor  # not when the event came
    assert actors.cached_actor("t", since=now - 5.0) is None  # read too long before it
    monkeypatch.setitem(actors._actors, "t", (now - 1.0, actor, ""))
    # Read after the event arrived: fresh for it, whenever it is delivered.
    assert actors.cached_actor("t", since=now - 30.0) is actor
    # A `since` in the future is no licence: judged by now.
    monkeypatch.setitem(actors._actors, "t", (now - 20.0, actor, ""))
    assert actors.cached_actor("t", since=now + 15.0) is None


async def test_a_reader_being_cancelled_is_not_idle() -> None:
    sub = LocalSubscription("c", 4)
    reader = asyncio.create_task(sub.get())
    await asyncio.sleep(0)
    assert sub.idle
    sub.offer({"type": "x"})
    assert not sub.idle  # something is queued: it must be read first
    assert await reader == {"type": "x"}
    reader = asyncio.create_task(sub.get())
    await asyncio.sleep(0)
    assert sub.idle
    reader.cancel()  # e.g. the client completed the operation: nothing may be written now
    assert not sub.idle
    with pytest.raises(asyncio.CancelledError):
        await reader
    assert not sub.idle


def _protocol(**changes: Any) -> Any:
    conn = SimpleNamespace(
        state=sink._OPEN, extensions=[], expect_continuation_frame=False, writes=[]
    )
    writable = asyncio.Event()
    writable.set()
    written: list[bytes] = []
    transport = SimpleNamespace(is_closing=lambda: False, write=written.append)
    protocol = SimpleNamespace(
        conn=conn,
        transport=transport,
        writable=writable,
        handshake_complete=True,
        close_sent=False,
        disconnected=False,
        initial_response=None,
        written=written,
    )
    for name, value in changes.items():
        target = conn if hasattr(conn, name) else protocol
        setattr(target, name, value)
    return protocol


@pytest.mark.parametrize(
    "changes",
    [
        {"close_sent": True},
        {"disconnected": True},
        {"handshake_complete": False},
        {"initial_response": (403, [], b"")},
        {"extensions": ["permessage-deflate"]},
        {"expect_continuation_frame": True},
        {"writes": [b"unflushed"]},
        {"state": "CLOSING"},
        {"writable": asyncio.Event()},  # paused: uvicorn's send would wait
        {"transport": SimpleNamespace(is_closing=lambda: True, write=None)},
    ],
)
def test_no_direct_write_unless_uvicorns_connection_allows_it(changes: dict[str, Any]) -> None:
    target = sink.Sink(SimpleNamespace(), "1", "next")
    assert target.protocol is None  # not uvicorn's: never written directly
    assert not target.write_now(b"frame")
    target.protocol = _protocol()
    assert target.write_now(b"frame") and target.protocol.written == [b"frame"]
    target.protocol = _protocol(**changes)
    assert not target.write_now(b"frame")
    assert target.protocol.written == []
