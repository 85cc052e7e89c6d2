"""Races that only show on PostgreSQL (they pass trivially on SQLite's single connection):
lost updates, duplicate ticket numbers, the 10-tag limit under concurrent adds."""

from __future__ import annotations

import asyncio

from deskql import models
from deskql.services import tickets
from deskql.services.auth import load_actor
from deskql.services.errors import ErrorCode, ValidationFailed
from tests.conftest import World


async def _ticket(world: World) -> models.Ticket:
    actor = await load_actor(world.alice.id)
    return await tickets.create_ticket(
        actor, subject="Race", department_id=world.support.id, contact_id=world.contact.id
    )


async def test_concurrent_updates_with_one_version_lose_nothing(world: World) -> None:
    ticket = await _ticket(world)
    actor = await load_actor(world.alice.id)
    subjects = [f"writer {i}" for i in range(10)]

    async def write(subject: str) -> str:
        try:
            await tickets.update_ticket(
                actor, ticket_id=ticket.id, version=1, changes={"subject": subject}
            )
            return subject
        except ValidationFailed as exc:
            assert exc.errors[0].code is ErrorCode.CONFLICT
            return "conflict"

    results = await asyncio.gather(*(write(s) for s in subjects))
    winners = [r for r in results if r != "conflict"]
    assert len(winners) == 1
    row = await models.Ticket.get(id=ticket.id)
    assert row.subject == winners[0] and row.version == 2
    assert await models.Activity.filter(kind="ticket.updated").count() == 1


async def test_concurrent_creates_get_distinct_sequential_numbers(world: World) -> None:
    made = await asyncio.gather(*(_ticket(world) for _ in range(20)))
    assert sorted(t.number for t in made) == list(range(1, 21))


async def test_concurrent_tag_adds_never_pass_ten(world: World) -> None:
    ticket = await _ticket(world)
    actor = await load_actor(world.alice.id)

    async def add(prefix: str) -> bool:
        try:
            await tickets.add_tags(
                actor, ticket_id=ticket.id, names=[f"{prefix}{i}" for i in range(6)]
            )
            return True
        except ValidationFailed as exc:
            assert exc.errors[0].code is ErrorCode.LIMIT_EXCEEDED
            return False

    results = await asyncio.gather(add("a"), add("b"), add("c"))
    assert results.count(True) == 1
    assert await models.TicketTag.filter(ticket_id=ticket.id).count() == 6


async def test_concurrent_adds_of_one_new_tag(world: World) -> None:
    first = await _ticket(world)
    second = await _ticket(world)
    actor = await load_actor(world.alice.id)
    await asyncio.gather(
        tickets.add_tags(actor, ticket_id=first.id, names=["shared"]),
        tickets.add_tags(actor, ticket_id=second.id, names=["shared"]),
    )
    assert await models.Tag.filter(name="shared").count() == 1
    assert await models.TicketTag.filter(tag__name="shared").count() == 2


async def test_numbers_taken_ahead_keep_creates_outside_the_group_waiting_and_in_order(
    world: World,
) -> None:
    from deskql.services import uow

    await _ticket(world)  # number 1
    group_has_numbers = asyncio.Event()

    async def group() -> list[int]:
        async with uow.transaction(savepoints=False):
            tickets.take_numbers_ahead(5)
            numbers = [(await _ticket(world)).number for _ in range(2)]
            group_has_numbers.set()
            await asyncio.sleep(0.2)  # another request tries to create a ticket meanwhile
            await tickets.give_back_numbers()
        return numbers

    async def meanwhile() -> int:
        await group_has_numbers.wait()
        return (await _ticket(world)).number

    numbers, other = await asyncio.gather(group(), meanwhile())
    assert numbers == [2, 3]
    assert other == 4  # waited for the group (one connection or the row lock): no gap
    assert (await models.Organisation.get()).ticket_seq == 4


async def test_numbers_are_not_taken_ahead_where_a_savepoint_could_undo_them(
    world: World,
) -> None:
    from deskql.services import uow

    async with uow.transaction():
        tickets.take_numbers_ahead(5)
        assert tickets.NUMBERS_MEMO not in (uow.memo() or {})
        try:
            async with uow.transaction():
                await _ticket(world)
                raise RuntimeError("undone")
        except RuntimeError:
            pass
        kept = await _ticket(world)
    assert kept.number == 1
    assert (await models.Organisation.get()).ticket_seq == 1
