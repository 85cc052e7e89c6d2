"""Timers and time entries over the GraphQL HTTP API (TIM-1, TIM-2): one running timer per
agent, elapsed time from stored times (across a re-created app), manual entries and cost,
ticket totals, rates, and bad input writing nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from deskql import models
from deskql.models.workflows import TimeEntrySource, TimerState
from deskql.server import create_app
from deskql.settings import Settings
from tests.conftest import GQLClient, World, gid, make_agent

ERR = "errors { field message code }"
TIMER = "timer { id state elapsedSeconds runningSince taskId ticket { id } }"
ENTRY = (
    "timeEntry { id seconds note isBillable hourlyRateCents costCents source taskId "
    "agent { email } ticket { id } }"
)
START = f"""
mutation($ticket: ID, $task: ID) {{
  timerStart(input: {{ticketId: $ticket, taskId: $task}}) {{ {ERR} {TIMER} }}
}}"""
PAUSE = f"mutation($id: ID!) {{ timerPause(input: {{timerId: $id}}) {{ {ERR} {TIMER} }} }}"
RESUME = f"mutation($id: ID!) {{ timerResume(input: {{timerId: $id}}) {{ {ERR} {TIMER} }} }}"
STOP = f"""
mutation($id: ID!, $note: String!, $billable: Boolean!) {{
  timerStop(input: {{timerId: $id, note: $note, isBillable: $billable}}) {{ {ERR} {ENTRY} }}
}}"""
CREATE = f"""
mutation($input: TimeEntryCreateInput!) {{ timeEntryCreate(input: $input) {{ {ERR} {ENTRY} }} }}
"""
UPDATE = f"""
mutation($input: TimeEntryUpdateInput!) {{ timeEntryUpdate(input: $input) {{ {ERR} {ENTRY} }} }}
"""
DELETE = f"""
mutation($id: ID!) {{ timeEntryDelete(input: {{id: $id}}) {{ {ERR} {ENTRY} }} }}
"""
MY_TIMERS = "{ me { timers { id state elapsedSeconds ticket { id } taskId } } }"
TICKET_TIME = """
query($id: ID!) {
  ticket(id: $id) {
    timeSummary { totalSeconds billableSeconds costCents }
    timeEntries { totalCount nodes { seconds costCents source agent { email } } }
  }
}
"""


async def _ticket(dept: models.Department, world: World) -> models.Ticket:
    from deskql.services import tickets
    from deskql.services.auth import load_actor

    return await tickets.create_ticket(
        await load_actor(world.admin.id),
        subject="Billable work",
        department_id=dept.id,
        contact_id=world.contact.id,
    )


async def _call(gql: GQLClient, token: str, query: str, name: str, **variables: Any) -> Any:
    res = await gql.as_(token)(query, variables)
    return res.data[name]


def _codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def _shift(timer_gid: str, seconds: int) -> None:
    """Move a running timer's stored start back, as if it had run `seconds` longer."""
    from deskql.schema.ids import decode_id

    pk = decode_id(timer_gid, "Timer")
    row = await models.Timer.get(id=pk)
    assert row.running_since is not None
    row.running_since = row.running_since - timedelta(seconds=seconds)
    await row.save(update_fields=["running_since"])


async def _writes() -> tuple[int, int, int]:
    return (
        await models.Timer.all().count(),
        await models.TimeEntry.all().count(),
        await models.Activity.all().count(),
    )


async def test_timer_start_pause_resume_stop(gql: GQLClient, world: World) -> None:
    await models.Agent.filter(id=world.alice.id).update(hourly_rate_cents=6000)
    ticket = await _ticket(world.support, world)
    started = await _call(
        gql, world.alice_token, START, "timerStart", ticket=gid("Ticket", ticket.id)
    )
    assert started["errors"] == []
    timer = started["timer"]
    assert timer["state"] == "RUNNING" and timer["elapsedSeconds"] == 0
    assert timer["ticket"] == {"id": gid("Ticket", ticket.id)} and timer["taskId"] is None

    await _shift(timer["id"], 600)
    mine = (await gql.as_(world.alice_token)(MY_TIMERS)).data["me"]["timers"]
    assert [t["id"] for t in mine] == [timer["id"]]
    assert 600 <= mine[0]["elapsedSeconds"] <= 605

    paused = await _call(gql, world.alice_token, PAUSE, "timerPause", id=timer["id"])
    assert paused["timer"]["state"] == "PAUSED" and paused["timer"]["runningSince"] is None
    kept = paused["timer"]["elapsedSeconds"]
    assert 600 <= kept <= 605
    # Paused: time does not move on.
    row = await models.Timer.get(agent_id=world.alice.id)
    assert row.state is TimerState.PAUSED and row.accumulated_seconds == kept

    resumed = await _call(gql, world.alice_token, RESUME, "timerResume", id=timer["id"])
    assert resumed["timer"]["state"] == "RUNNING"
    await _shift(timer["id"], 300)
    stopped = await _call(
        gql, world.alice_token, STOP, "timerStop", id=timer["id"], note="debugging", billable=True
    )
    assert stopped["errors"] == []
    entry = stopped["timeEntry"]
    assert kept + 300 <= entry["seconds"] <= kept + 305
    assert entry["source"] == "TIMER" and entry["note"] == "debugging"
    assert entry["hourlyRateCents"] == 6000
    assert entry["costCents"] == (entry["seconds"] * 6000 + 1800) // 3600
    assert entry["agent"] == {"email": "alice@zylker.com"}
    assert await models.Timer.all().count() == 0  # the timer row is removed

    kinds = (
        await models.Activity.filter(subject_type="Timer")
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert kinds == ["timer.started", "timer.paused", "timer.resumed", "timer.stopped"]
    logged = await models.Activity.get(kind="ticket.time_logged")
    assert logged.ticket_id == ticket.id  # type: ignore[attr-defined]
    assert logged.changes["seconds"] == entry["seconds"]
    assert logged.changes["source"] == "TIMER"

    res = await gql.as_(world.alice_token)(TICKET_TIME, {"id": gid("Ticket", ticket.id)})
    data = res.data["ticket"]
    assert data["timeSummary"] == {
        "totalSeconds": entry["seconds"],
        "billableSeconds": entry["seconds"],
        "costCents": entry["costCents"],
    }
    assert data["timeEntries"]["totalCount"] == 1


async def test_starting_a_second_timer_pauses_the_first(gql: GQLClient, world: World) -> None:
    one = await _ticket(world.support, world)
    two = await _ticket(world.support, world)
    first = await _call(gql, world.alice_token, START, "timerStart", ticket=gid("Ticket", one.id))
    await _shift(first["timer"]["id"], 120)
    second = await _call(gql, world.alice_token, START, "timerStart", ticket=gid("Ticket", two.id))
    assert second["errors"] == [] and second["timer"]["state"] == "RUNNING"
    rows = {r.ticket_id: r for r in await models.Timer.all()}  # type: ignore[attr-defined]
    assert rows[one.id].state is TimerState.PAUSED
    assert rows[one.id].running_since is None
    assert 120 <= rows[one.id].accumulated_seconds <= 125  # its time is kept
    assert rows[two.id].state is TimerState.RUNNING
    auto = await models.Activity.get(kind="timer.paused")
    assert auto.changes["reason"] == "another timer started"

    # Resuming the first pauses the second: never two running.
    resumed = await _call(gql, world.alice_token, RESUME, "timerResume", id=first["timer"]["id"])
    assert resumed["timer"]["state"] == "RUNNING"
    states = {r.ticket_id: r.state for r in await models.Timer.all()}  # type: ignore[attr-defined]
    assert states == {one.id: TimerState.RUNNING, two.id: TimerState.PAUSED}
    # Another agent's timers are their own business.
    carol, carol_token = await make_agent("carol@zylker.com", "Carol", depts=[world.support.id])
    await _call(gql, carol_token, START, "timerStart", ticket=gid("Ticket", two.id))
    assert await models.Timer.filter(state=TimerState.RUNNING).count() == 2
    assert await models.Timer.filter(agent_id=carol.id, state=TimerState.RUNNING).count() == 1


async def test_timer_state_survives_a_new_app(
    gql: GQLClient, world: World, clean_db: Settings
) -> None:
    ticket = await _ticket(world.support, world)
    started = await _call(
        gql, world.alice_token, START, "timerStart", ticket=gid("Ticket", ticket.id)
    )
    timer_id = started["timer"]["id"]
    await _shift(timer_id, 3600)
    # A new application (as after a restart): nothing in memory, the stored times decide.
    app = create_app(clean_db, manage_db=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as http:
        other = GQLClient(http, world.alice_token)
        mine = (await other(MY_TIMERS)).data["me"]["timers"]
        assert mine[0]["state"] == "RUNNING"
        assert 3600 <= mine[0]["elapsedSeconds"] <= 3610
        paused = (await other(PAUSE, {"id": timer_id})).data["timerPause"]
        assert 3600 <= paused["timer"]["elapsedSeconds"] <= 3610
    # And back in the first app, still paused with the same time.
    mine = (await gql.as_(world.alice_token)(MY_TIMERS)).data["me"]["timers"]
    assert mine[0]["state"] == "PAUSED"
    assert mine[0]["elapsedSeconds"] == paused["timer"]["elapsedSeconds"]


async def test_bad_timer_requests_write_nothing(gql: GQLClient, world: World) -> None:
    support = await _ticket(world.support, world)
    sales = await _ticket(world.sales, world)
    started = await _call(
        gql, world.alice_token, START, "timerStart", ticket=gid("Ticket", support.id)
    )
    timer_id = started["timer"]["id"]
    paused = await _call(gql, world.alice_token, PAUSE, "timerPause", id=timer_id)
    assert paused["errors"] == []
    before = await _writes()
    cases = [
        (START, "timerStart", {"ticket": gid("Ticket", sales.id)}, ("ticketId", "NOT_FOUND")),
        (START, "timerStart", {"ticket": gid("Ticket", 999)}, ("ticketId", "NOT_FOUND")),
        (START, "timerStart", {}, (None, "INVALID")),
        (
            START,
            "timerStart",
            {"ticket": gid("Ticket", support.id), "task": gid("Task", 1)},
            (None, "INVALID"),
        ),
        (START, "timerStart", {"ticket": gid("Ticket", support.id)}, ("ticketId", "DUPLICATE")),
        (PAUSE, "timerPause", {"id": timer_id}, ("timerId", "INVALID_STATE")),
        (PAUSE, "timerPause", {"id": gid("Ticket", 1)}, ("timerId", "INVALID")),
        (
            STOP,
            "timerStop",
            {"id": gid("Timer", 999), "note": "", "billable": True},
            ("timerId", "NOT_FOUND"),
        ),
    ]
    for query, name, variables, expected in cases:
        payload = await _call(gql, world.alice_token, query, name, **variables)
        assert _codes(payload) == [expected], (name, variables, payload)
    # Someone else's timer cannot be paused, resumed or stopped.
    for query, name, extra in (
        (RESUME, "timerResume", {}),
        (PAUSE, "timerPause", {}),
        (STOP, "timerStop", {"note": "", "billable": True}),
    ):
        payload = await _call(gql, world.admin_token, query, name, id=timer_id, **extra)
        assert _codes(payload) == [("timerId", "NOT_FOUND")]
    resumed = await _call(gql, world.alice_token, RESUME, "timerResume", id=timer_id)
    assert resumed["errors"] == []
    again = await _call(gql, world.alice_token, RESUME, "timerResume", id=timer_id)
    assert _codes(again) == [("timerId", "INVALID_STATE")]
    after = await _writes()
    assert after[:2] == before[:2]
    assert after[2] == before[2] + 1  # only the one good resume
    assert await models.Timer.filter(ticket_id=sales.id).count() == 0


async def test_timers_and_entries_on_tasks(gql: GQLClient, world: World) -> None:
    ticket = await _ticket(world.support, world)
    task = await models.Task.create(
        department_id=world.support.id, ticket_id=ticket.id, title="Call back"
    )
    loose = await models.Task.create(department_id=world.support.id, title="Tidy up")
    sales_task = await models.Task.create(department_id=world.sales.id, title="Quote")
    started = await _call(gql, world.alice_token, START, "timerStart", task=gid("Task", task.id))
    assert started["timer"]["taskId"] == gid("Task", task.id)
    assert started["timer"]["ticket"] is None
    refused = await _call(
        gql, world.alice_token, START, "timerStart", task=gid("Task", sales_task.id)
    )
    assert _codes(refused) == [("taskId", "NOT_FOUND")]
    stopped = await _call(
        gql,
        world.alice_token,
        STOP,
        "timerStop",
        id=started["timer"]["id"],
        note="",
        billable=False,
    )
    assert stopped["timeEntry"]["taskId"] == gid("Task", task.id)
    assert stopped["timeEntry"]["costCents"] == 0
    # The task's time counts on its ticket and is logged in the ticket's history.
    logged = await models.Activity.get(kind="ticket.time_logged")
    assert logged.ticket_id == ticket.id and logged.changes["taskId"] == task.id  # type: ignore[attr-defined]
    made = await _call(
        gql,
        world.alice_token,
        CREATE,
        "timeEntryCreate",
        input={"taskId": gid("Task", loose.id), "minutes": 5},
    )
    assert made["errors"] == [] and made["timeEntry"]["seconds"] == 300
    on_task = await models.Activity.get(kind="task.time_logged")
    assert on_task.subject_id == loose.id and on_task.ticket_id is None  # type: ignore[attr-defined]
    res = await gql.as_(world.alice_token)(TICKET_TIME, {"id": gid("Ticket", ticket.id)})
    summary = res.data["ticket"]["timeSummary"]
    assert summary["totalSeconds"] == stopped["timeEntry"]["seconds"]
    assert summary["billableSeconds"] == 0


async def test_manual_entries_cost_and_totals(gql: GQLClient, world: World) -> None:
    await models.Organisation.all().update(default_hourly_rate_cents=3000)
    carol, carol_token = await make_agent("carol@zylker.com", "Carol", depts=[world.support.id])
    await models.Agent.filter(id=carol.id).update(hourly_rate_cents=9000)
    ticket = await _ticket(world.support, world)
    tid = gid("Ticket", ticket.id)
    a = await _call(
        gql,
        world.alice_token,
        CREATE,
        "timeEntryCreate",
        input={
            "ticketId": tid,
            "minutes": 90,
            "note": "setup",
            "startedAt": "2026-01-05T09:00:00Z",
        },
    )
    assert a["errors"] == []
    # alice has no rate of her own: the organisation's default applies.
    assert a["timeEntry"]["hourlyRateCents"] == 3000 and a["timeEntry"]["costCents"] == 4500
    assert a["timeEntry"]["source"] == "MANUAL"
    b = await _call(
        gql,
        carol_token,
        CREATE,
        "timeEntryCreate",
        input={"ticketId": tid, "seconds": 1200},
    )
    assert b["timeEntry"]["hourlyRateCents"] == 9000 and b["timeEntry"]["costCents"] == 3000
    c = await _call(
        gql,
        carol_token,
        CREATE,
        "timeEntryCreate",
        input={"ticketId": tid, "seconds": 600, "isBillable": False},
    )
    assert c["timeEntry"]["costCents"] == 0
    res = await gql.as_(world.alice_token)(TICKET_TIME, {"id": tid})
    assert res.data["ticket"]["timeSummary"] == {
        "totalSeconds": 5400 + 1200 + 600,
        "billableSeconds": 5400 + 1200,
        "costCents": 4500 + 3000,
    }
    assert res.data["ticket"]["timeEntries"]["totalCount"] == 3
    assert await models.Activity.filter(kind="ticket.time_logged", ticket_id=ticket.id).count() == 3

    # Totals on a ticket list come from one grouped read for the page.
    other = await _ticket(world.support, world)
    await _call(
        gql,
        world.alice_token,
        CREATE,
        "timeEntryCreate",
        input={"ticketId": gid("Ticket", other.id), "seconds": 60},
    )
    res = await gql.as_(world.alice_token)(
        "{ tickets { nodes { number timeSummary { totalSeconds costCents } } } }"
    )
    by_number = {n["number"]: n["timeSummary"] for n in res.data["tickets"]["nodes"]}
    assert by_number == {
        ticket.number: {"totalSeconds": 7200, "costCents": 7500},
        other.number: {"totalSeconds": 60, "costCents": 50},
    }

    # Update: own entry, cost recomputed at the entry's rate; the change is in the history.
    entry_id = b["timeEntry"]["id"]
    changed = await _call(
        gql,
        carol_token,
        UPDATE,
        "timeEntryUpdate",
        input={"id": entry_id, "minutes": 40, "note": "longer call"},
    )
    assert changed["errors"] == []
    assert changed["timeEntry"]["seconds"] == 2400 and changed["timeEntry"]["costCents"] == 6000
    history = await models.Activity.get(kind="ticket.time_entry_updated")
    assert history.changes["changed"]["seconds"] == {"old": 1200, "new": 2400}
    # Someone else's entry: refused, nothing written; an administrator may change any.
    before = (await models.TimeEntry.all().order_by("id"))[1]
    refused = await _call(
        gql, world.alice_token, UPDATE, "timeEntryUpdate", input={"id": entry_id, "seconds": 1}
    )
    assert _codes(refused) == [("id", "NOT_OWNER")]
    refused = await _call(gql, world.alice_token, DELETE, "timeEntryDelete", id=entry_id)
    assert _codes(refused) == [("id", "NOT_OWNER")]
    # bob (Sales) may not even see it.
    refused = await _call(gql, world.bob_token, DELETE, "timeEntryDelete", id=entry_id)
    assert _codes(refused) == [("id", "NOT_FOUND")]
    same = await models.TimeEntry.get(id=before.id)
    assert (same.seconds, same.note) == (before.seconds, before.note)
    assert await models.Activity.filter(kind="ticket.time_entry_updated").count() == 1
    by_admin = await _call(
        gql,
        world.admin_token,
        UPDATE,
        "timeEntryUpdate",
        input={"id": entry_id, "isBillable": False},
    )
    assert by_admin["timeEntry"]["costCents"] == 0 and by_admin["timeEntry"]["isBillable"] is False
    gone = await _call(gql, carol_token, DELETE, "timeEntryDelete", id=entry_id)
    assert gone["errors"] == [] and gone["timeEntry"]["seconds"] == 2400
    assert not await models.TimeEntry.exists(id=before.id)
    assert await models.Activity.filter(kind="ticket.time_entry_deleted").count() == 1


async def test_bad_manual_entries_write_nothing(gql: GQLClient, world: World) -> None:
    ticket = await _ticket(world.support, world)
    sales = await _ticket(world.sales, world)
    tid = gid("Ticket", ticket.id)
    future = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    cases: list[tuple[dict[str, Any], tuple[str | None, str]]] = [
        ({"ticketId": tid, "seconds": 0}, ("seconds", "INVALID")),
        ({"ticketId": tid, "seconds": -60}, ("seconds", "INVALID")),
        ({"ticketId": tid, "minutes": 0}, ("minutes", "INVALID")),
        ({"ticketId": tid, "minutes": -5}, ("minutes", "INVALID")),
        ({"ticketId": tid, "seconds": 24 * 3600 + 1}, ("seconds", "LIMIT_EXCEEDED")),
        ({"ticketId": tid, "minutes": 24 * 60 + 1}, ("minutes", "LIMIT_EXCEEDED")),
        ({"ticketId": tid}, ("seconds", "INVALID")),
        ({"ticketId": tid, "seconds": 60, "minutes": 1}, ("seconds", "INVALID")),
        ({"ticketId": tid, "seconds": 60, "startedAt": future}, ("startedAt", "INVALID")),
        ({"ticketId": tid, "seconds": 60, "note": "x" * 5001}, ("note", "TOO_LONG")),
        ({"ticketId": gid("Ticket", sales.id), "seconds": 60}, ("ticketId", "NOT_FOUND")),
        ({"seconds": 60}, (None, "INVALID")),
        ({"ticketId": gid("Contact", 1), "seconds": 60}, ("ticketId", "INVALID")),
    ]
    for fields, expected in cases:
        payload = await _call(gql, world.alice_token, CREATE, "timeEntryCreate", input=fields)
        assert payload["timeEntry"] is None
        assert _codes(payload) == [expected], (fields, payload["errors"])
    # A full day is allowed.
    ok = await _call(
        gql, world.alice_token, CREATE, "timeEntryCreate", input={"ticketId": tid, "minutes": 1440}
    )
    assert ok["errors"] == []
    assert await models.TimeEntry.all().count() == 1
    assert await models.Activity.filter(kind="ticket.time_logged").count() == 1
    entry_id = ok["timeEntry"]["id"]
    for fields, expected in (
        ({"seconds": 0}, ("seconds", "INVALID")),
        ({"minutes": 2000}, ("minutes", "LIMIT_EXCEEDED")),
        ({"startedAt": future}, ("startedAt", "INVALID")),
    ):
        payload = await _call(
            gql, world.alice_token, UPDATE, "timeEntryUpdate", input={"id": entry_id, **fields}
        )
        assert _codes(payload) == [expected]
    row = await models.TimeEntry.get(agent_id=world.alice.id)
    assert row.seconds == 86400 and row.source is TimeEntrySource.MANUAL
    assert await models.Activity.filter(kind="ticket.time_entry_updated").count() == 0


async def test_rates_are_set_by_administrators(gql: GQLClient, world: World) -> None:
    agent_update = """
    mutation($input: AgentUpdateInput!) {
      agentUpdate(input: $input) { errors { field code } agent { hourlyRateCents } }
    }"""
    org_update = """
    mutation($rate: Int) {
      organisationUpdate(input: {defaultHourlyRateCents: $rate}) {
        errors { field code } organisation { defaultHourlyRateCents }
      }
    }"""
    res = await gql.as_(world.admin_token)(
        agent_update, {"input": {"id": gid("Agent", world.alice.id), "hourlyRateCents": 7500}}
    )
    assert res.data["agentUpdate"] == {"errors": [], "agent": {"hourlyRateCents": 7500}}
    assert (await models.Agent.get(id=world.alice.id)).hourly_rate_cents == 7500
    res = await gql.as_(world.admin_token)(
        agent_update, {"input": {"id": gid("Agent", world.alice.id), "hourlyRateCents": -1}}
    )
    assert res.data["agentUpdate"]["errors"] == [{"field": "hourlyRateCents", "code": "INVALID"}]
    assert (await models.Agent.get(id=world.alice.id)).hourly_rate_cents == 7500
    # Shown to the agent and administrators, not to colleagues.
    me = await gql.as_(world.alice_token)("{ me { hourlyRateCents } }")
    assert me.data["me"]["hourlyRateCents"] == 7500
    carol, carol_token = await make_agent("carol@zylker.com", "Carol", depts=[world.support.id])
    seen = await gql.as_(carol_token)(
        "query($id: ID!) { agent(id: $id) { hourlyRateCents } }",
        {"id": gid("Agent", world.alice.id)},
    )
    assert seen.data["agent"] == {"hourlyRateCents": None}
    # null: back to the organisation's default.
    res = await gql.as_(world.admin_token)(
        agent_update, {"input": {"id": gid("Agent", world.alice.id), "hourlyRateCents": None}}
    )
    assert res.data["agentUpdate"]["agent"] == {"hourlyRateCents": None}
    # Agents cannot set rates.
    res = await gql.as_(world.alice_token)(
        agent_update, {"input": {"id": gid("Agent", world.alice.id), "hourlyRateCents": 1}}
    )
    assert res.error_codes() == ["FORBIDDEN"]

    res = await gql.as_(world.admin_token)(org_update, {"rate": 4200})
    assert res.data["organisationUpdate"]["organisation"] == {"defaultHourlyRateCents": 4200}
    res = await gql.as_(world.admin_token)(org_update, {"rate": -5})
    assert res.data["organisationUpdate"]["errors"] == [
        {"field": "defaultHourlyRateCents", "code": "INVALID"}
    ]
    org = await models.Organisation.first()
    assert org is not None and org.default_hourly_rate_cents == 4200
    ticket = await _ticket(world.support, world)
    made = await _call(
        gql,
        world.alice_token,
        CREATE,
        "timeEntryCreate",
        input={"ticketId": gid("Ticket", ticket.id), "minutes": 30},
    )
    assert made["timeEntry"]["hourlyRateCents"] == 4200 and made["timeEntry"]["costCents"] == 2100


async def test_an_agent_with_time_entries_is_kept(gql: GQLClient, world: World) -> None:
    """Time entries are billing records: their agent cannot be deleted (deactivate instead)."""
    carol, carol_token = await make_agent("carol@zylker.com", "Carol", depts=[world.support.id])
    ticket = await _ticket(world.support, world)
    made = await _call(
        gql,
        carol_token,
        CREATE,
        "timeEntryCreate",
        input={"ticketId": gid("Ticket", ticket.id), "minutes": 10},
    )
    assert made["errors"] == []
    res = await gql.as_(world.admin_token)(
        "mutation($id: ID!) { agentDelete(input: {id: $id}) { errors { field code } } }",
        {"id": gid("Agent", carol.id)},
    )
    assert res.data["agentDelete"]["errors"] == [{"field": "id", "code": "IN_USE"}]
    assert await models.Agent.exists(id=carol.id)
    assert await models.TimeEntry.filter(agent_id=carol.id).count() == 1
    assert await models.Activity.filter(kind="agent.deleted").count() == 0
