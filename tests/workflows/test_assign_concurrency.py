"""Races of ticketTake and ticketAssign; they only show on PostgreSQL (SQLite serialises every
transaction on its one connection): run with DESKQL_DATABASE_URL pointing at PostgreSQL."""

from __future__ import annotations

import asyncio

from deskql import models
from deskql.models.enums import NotificationReason
from deskql.services import assignments, tickets
from deskql.services.auth import load_actor
from deskql.services.errors import ErrorCode, ValidationFailed
from tests.conftest import World, make_agent


async def _ticket(world: World) -> models.Ticket:
    actor = await load_actor(world.alice.id)
    return await tickets.create_ticket(
        actor, subject="Race", department_id=world.support.id, contact_id=world.contact.id
    )


async def test_two_agents_taking_one_ticket_exactly_one_wins(world: World) -> None:
    agents = [world.alice] + [
        (await make_agent(f"agent{i}@zylker.com", f"Agent{i}", depts=[world.support.id]))[0]
        for i in range(5)
    ]
    actors = [await load_actor(a.id) for a in agents]
    for _round in range(3):
        ticket = await _ticket(world)

        async def take(actor: object, ticket_id: int = ticket.id) -> int | None:
            try:
                row = await assignments.take_ticket(actor, ticket_id=ticket_id)  # type: ignore[arg-type]
                return row.assignee_agent_id  # type: ignore[attr-defined]
            except ValidationFailed as exc:
                assert [e.code for e in exc.errors] == [ErrorCode.ALREADY_ASSIGNED]
                return None

        results = await asyncio.gather(*(take(a) for a in actors))
        winners = [r for r in results if r is not None]
        assert len(winners) == 1, results
        row = await models.Ticket.get(id=ticket.id)
        assert row.assignee_agent_id == winners[0]  # type: ignore[attr-defined]
        assert row.version == 2
        assert await models.Activity.filter(kind="ticket.updated", ticket_id=ticket.id).count() == 1
        assert await models.Follow.filter(ticket_id=ticket.id).count() == 1


async def test_concurrent_bulk_assignments_both_apply_in_some_order(world: World) -> None:
    carol, _ = await make_agent("carol@zylker.com", "Carol", depts=[world.support.id])
    made = [await _ticket(world) for _ in range(5)]
    ids = [t.id for t in made]
    admin = await load_actor(world.admin.id)
    first, second = await asyncio.gather(
        assignments.assign_tickets(admin, ticket_ids=ids, agent_id=world.alice.id, team_id=None),
        assignments.assign_tickets(admin, ticket_ids=ids[::-1], agent_id=carol.id, team_id=None),
    )
    # Row locks queue the writers: no CONFLICT, no lost write, two history rows per ticket.
    assert all(r.errors == [] for r in first + second)
    for ticket in made:
        row = await models.Ticket.get(id=ticket.id)
        assert row.version == 3
        history = await models.Activity.filter(kind="ticket.updated", ticket_id=ticket.id).order_by(
            "id"
        )
        assert len(history) == 2
        assert (
            history[0].changes["assignee_agent_id"]["new"]
            == history[1].changes["assignee_agent_id"]["old"]
        )
        assert row.assignee_agent_id == history[1].changes["assignee_agent_id"]["new"]  # type: ignore[attr-defined]
    notes = await models.Notification.filter(reason=NotificationReason.ASSIGNED).count()
    assert notes == 10


async def test_concurrent_timer_starts_leave_one_running(world: World) -> None:
    from deskql.models.workflows import TimerState
    from deskql.services import time_tracking

    made = [await _ticket(world) for _ in range(4)]
    actor = await load_actor(world.alice.id)
    await asyncio.gather(*(time_tracking.start_timer(actor, ticket_id=t.id) for t in made))
    states = await models.Timer.filter(agent_id=world.alice.id).values_list("state", flat=True)
    assert len(states) == 4
    assert sorted(states) == sorted([TimerState.RUNNING] + [TimerState.PAUSED] * 3)
