"""The per-process hub on the memory backend: one backend subscription per channel,
reference counting, bounded queues, and publishing failures that never undo a commit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from deskql import models
from deskql.realtime.hub import PREPARED, Hub, SlowConsumer
from deskql.realtime.hub import channels as hub_channels
from deskql.services import auth, tickets, uow
from tests.conftest import World


@pytest_asyncio.fixture
async def hub() -> AsyncIterator[Hub]:
    h = Hub("memory://", queue_size=3, heartbeat_interval=0.1)
    await h.start()
    yield h
    await h.stop()


async def _get(sub: Any) -> dict[str, Any]:
    return await asyncio.wait_for(sub.get(), 2)


async def test_one_backend_subscription_per_channel_reference_counted(hub: Hub) -> None:
    broadcast = hub.bus.broadcast
    async with hub.subscribe("c") as one:
        async with hub.subscribe("c") as two:
            assert hub.count("c") == 2
            assert hub.backend_channels() == {"c"}
            assert len(broadcast._subscribers["c"]) == 1  # one broadcaster queue, not two
            await hub.publish("c", {"type": "activity", "id": 1})
            assert await _get(one) == {"type": "activity", "id": 1}
            assert await _get(two) == {"type": "activity", "id": 1}
        assert hub.count("c") == 1 and hub.backend_channels() == {"c"}
    assert hub.count() == 0 and hub.backend_channels() == set()
    await asyncio.sleep(0.05)
    assert "c" not in broadcast._subscribers


async def test_a_full_queue_drops_that_subscriber_only(hub: Hub) -> None:
    dropped: list[str] = []
    async with hub.subscribe("c") as slow, hub.subscribe("c") as fast:
        slow.on_drop = lambda: dropped.append("slow")
        for i in range(4):
            await hub.publish("c", {"type": "activity", "id": i})
            assert await _get(fast) == {"type": "activity", "id": i}
        assert dropped == ["slow"] and hub.dropped == 1
        assert hub.count("c") == 1
        with pytest.raises(SlowConsumer):
            await _get(slow)
        # Memory stayed bounded: the dropped queue never held more than its size.
        assert slow.queue.qsize() <= 3
    assert hub.count() == 0


async def test_a_channel_prepares_each_message_once_for_all_its_subscribers(hub: Hub) -> None:
    calls: list[int] = []

    async def prepare(message: dict[str, Any]) -> Any:
        calls.append(message["id"])
        await asyncio.sleep(0)
        if message["id"] == 2:
            raise RuntimeError("the database is away")
        return ("rows of", message["id"])

    async def other(message: dict[str, Any]) -> Any:
        raise AssertionError("only the channel's first subscriber sets its prepare")

    async with hub.subscribe("c", prepare) as one, hub.subscribe("c", other) as two:
        await hub.publish("c", {"type": "activity", "id": 1})
        first = await _get(one)
        assert first == {"type": "activity", "id": 1, PREPARED: ("rows of", 1)}
        assert await _get(two) is first  # the very same object: prepared once, read-only
        await hub.publish("c", {"type": "activity", "id": 2})
        # A failed prepare: the subscribers get the bare envelope and read for themselves.
        assert await _get(one) == {"type": "activity", "id": 2}
        assert await _get(two) == {"type": "activity", "id": 2}
        assert calls == [1, 2]
    # The channel's last subscriber left: its prepare goes with it.
    async with hub.subscribe("c") as plain:
        await hub.publish("c", {"type": "activity", "id": 3})
        assert await _get(plain) == {"type": "activity", "id": 3}
    assert calls == [1, 2]


async def test_a_stalled_prepare_is_given_up_and_the_messages_go_out_bare(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hub_channels, "PREPARE_TIMEOUT", 0.1)
    stalled = asyncio.Event()  # never set: the database does not answer
    started: list[int] = []

    async def prepare(message: dict[str, Any]) -> Any:
        started.append(message["id"])
        await stalled.wait()

    broadcast = hub.bus.broadcast
    async with hub.subscribe("c", prepare) as sub:
        for i in range(3):
            await hub.publish("c", {"type": "activity", "id": i})
        # Each message waited its time limit, then went out without PREPARED, in order;
        # nothing stayed behind in the backend's queue for the channel.
        assert [await _get(sub) for _ in range(3)] == [
            {"type": "activity", "id": i} for i in range(3)
        ]
        assert started == [0, 1, 2]
        queue = next(iter(broadcast._subscribers["c"]))
        assert queue.qsize() == 0


async def test_messages_that_are_not_envelopes_are_ignored(hub: Hub) -> None:
    async with hub.subscribe("c") as sub:
        await hub.bus.broadcast.publish("c", "not json")
        await hub.bus.broadcast.publish("c", '["a list"]')
        await hub.publish("c", {"type": "activity", "id": 7})
        assert await _get(sub) == {"type": "activity", "id": 7}


async def test_a_failing_publisher_never_undoes_the_commit(world: World) -> None:
    calls: list[int] = []

    async def broken(events: list[tuple[str, dict[str, Any]]]) -> None:
        calls.append(len(events))
        raise ConnectionError("backend down")

    uow.set_publisher(broken)
    try:
        ticket = await tickets.create_ticket(
            await auth.load_actor(world.admin.id),
            subject="Still saved",
            department_id=world.support.id,
            contact_id=world.contact.id,
        )
    finally:
        uow.clear_publisher(broken)
    assert calls and calls[0] >= 1
    assert await models.Ticket.exists(id=ticket.id)
    assert await models.Activity.filter(ticket_id=ticket.id).count() == 1


def test_per_event_executors_do_not_share_the_subfield_memo() -> None:
    # graphql-core 3.3.2 shares one memo across a subscription's events and it grows forever;
    # realtime.executor_fix (installed by schema.realtime) gives each event its own.
    from graphql import build_schema, parse
    from graphql.execution.executor import Executor

    import deskql.schema.realtime  # noqa: F401

    sdl = build_schema("type Query { a: String } type Subscription { g: String }")
    executor = Executor.build(sdl, parse("subscription { g }"))
    one = executor.build_per_event_executor({"g": "1"})
    two = executor.build_per_event_executor({"g": "2"})
    memos = [executor._relevant_sub_fields, one._relevant_sub_fields, two._relevant_sub_fields]
    assert len({id(m) for m in memos}) == 3
    assert one.root_value == {"g": "1"}
