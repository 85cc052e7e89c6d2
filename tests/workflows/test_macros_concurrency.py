"""Races of macroApply that only show on PostgreSQL (on SQLite's one connection they pass
trivially): two agents applying macros to the same tickets at the same moment both apply in
some order, never losing an update; the 10-tag limit holds across concurrent runs; a
ticketUpdate racing a run either lands before it or gets CONFLICT."""

from __future__ import annotations

import asyncio
from typing import Any

from deskql import models
from deskql.models.enums import TicketPriority, TicketStatus
from deskql.services import auth, macros, tickets
from deskql.services.errors import ErrorCode, ValidationFailed
from deskql.settings import Settings
from tests.conftest import World, make_agent


async def setup(world: World, n: int, tags: list[str] | None = None) -> list[models.Ticket]:
    admin = await auth.load_actor(world.admin.id)
    return [
        await tickets.create_ticket(
            admin,
            subject=f"Race {i}",
            department_id=world.support.id,
            contact_id=world.contact.id,
            tags=tags,
        )
        for i in range(n)
    ]


async def make_macro(world: World, name: str, actions: list[dict[str, Any]]) -> models.Macro:
    admin = await auth.load_actor(world.admin.id)
    return await macros.create_macro(
        admin, department_id=world.support.id, name=name, actions=actions
    )


async def test_two_agents_apply_to_same_tickets_at_once(world: World, settings: Settings):
    carol, _ = await make_agent("carol@zylker.com", "Carol", depts=[world.support.id])
    made = await setup(world, 5)
    ids = [t.id for t in made]
    first = await make_macro(
        world,
        "Escalate",
        [
            {"type": "SET_STATUS", "status": "ESCALATED"},
            {"type": "ADD_TAGS", "tags": ["escalated"]},
            {"type": "ADD_COMMENT", "body": "escalated"},
        ],
    )
    second = await make_macro(
        world,
        "Urgent",
        [
            {"type": "SET_PRIORITY", "priority": "URGENT"},
            {"type": "ADD_TAGS", "tags": ["urgent"]},
            {"type": "ADD_COMMENT", "body": "urgent"},
        ],
    )
    alice = await auth.load_actor(world.alice.id)
    carol_actor = await auth.load_actor(carol.id)
    for _ in range(3):
        await asyncio.gather(
            macros.apply_macro(alice, settings=settings, macro_id=first.id, ticket_ids=ids),
            # The other order: the lock order by id keeps the two from deadlocking.
            macros.apply_macro(
                carol_actor, settings=settings, macro_id=second.id, ticket_ids=ids[::-1]
            ),
        )
    for row in await models.Ticket.filter(id__in=ids):
        assert row.status is TicketStatus.ESCALATED
        assert row.priority is TicketPriority.URGENT
        # Every run bumped the version once: 1 + 3 rounds x 2 macros.
        assert row.version == 7
        names = await models.TicketTag.filter(ticket_id=row.id).values_list("tag__name", flat=True)
        assert sorted(names) == ["escalated", "urgent"]
        assert await models.Comment.filter(ticket_id=row.id).count() == 6
        assert (
            await models.Activity.filter(ticket_id=row.id, kind="ticket.macro_applied").count() == 6
        )


async def test_tag_limit_holds_across_concurrent_runs(world: World, settings: Settings) -> None:
    (ticket,) = await setup(world, 1, tags=["a1", "a2", "a3", "a4"])
    runs = [
        await make_macro(
            world, f"Tags {p}", [{"type": "ADD_TAGS", "tags": [f"{p}{i}" for i in range(4)]}]
        )
        for p in ("x", "y", "z")
    ]
    alice = await auth.load_actor(world.alice.id)
    outcomes = await asyncio.gather(
        *(
            macros.apply_macro(alice, settings=settings, macro_id=m.id, ticket_ids=[ticket.id])
            for m in runs
        )
    )
    applied = [o.results[0] for o in outcomes if o.results[0].applied]
    refused = [o.results[0] for o in outcomes if not o.results[0].applied]
    assert len(applied) == 1 and len(refused) == 2
    assert all(r.errors[0].code is ErrorCode.LIMIT_EXCEEDED for r in refused)
    assert await models.TicketTag.filter(ticket_id=ticket.id).count() == 8
    assert (await models.Ticket.get(id=ticket.id)).version == 2


async def test_ticket_update_racing_a_run_is_never_lost(world: World, settings: Settings):
    made = await setup(world, 10)
    run = await make_macro(world, "Hold", [{"type": "SET_STATUS", "status": "ON_HOLD"}])
    alice = await auth.load_actor(world.alice.id)

    async def edit(ticket_id: int) -> str:
        try:
            await tickets.update_ticket(
                alice, ticket_id=ticket_id, version=1, changes={"subject": "edited"}
            )
            return "edited"
        except ValidationFailed as exc:
            assert exc.errors[0].code is ErrorCode.CONFLICT
            return "conflict"

    results = await asyncio.gather(
        macros.apply_macro(
            alice, settings=settings, macro_id=run.id, ticket_ids=[t.id for t in made]
        ),
        *(edit(t.id) for t in made),
    )
    outcome = results[0]
    assert all(r.applied for r in outcome.results)
    for ticket, verdict in zip(made, results[1:], strict=True):
        row = await models.Ticket.get(id=ticket.id)
        # The run always lands; the edit either landed too (before it) or was told CONFLICT.
        assert row.status is TicketStatus.ON_HOLD
        if verdict == "edited":
            assert row.subject == "edited" and row.version == 3
        else:
            assert row.subject == ticket.subject and row.version == 2
