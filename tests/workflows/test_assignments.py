"""ticketAssign (one or many tickets), ticketTake and topTags over the GraphQL HTTP API (TIC-2,
TIC-6): per-ticket results, the assignee's notification, bad input writing nothing."""

from __future__ import annotations

from typing import Any

from deskql import models
from deskql.models.enums import NotificationReason, Role
from deskql.services import assignments, tickets
from deskql.services.auth import load_actor
from tests.conftest import GQLClient, World, gid, make_agent

ASSIGN = """
mutation($input: TicketAssignInput!) {
  ticketAssign(input: $input) {
    errors { field message code }
    results {
      ticketId errors { field message code }
      ticket { id version assignee { __typename ... on Agent { email } ... on Team { name } } }
    }
  }
}
"""
TAKE = """
mutation($id: ID!) {
  ticketTake(input: {ticketId: $id}) {
    errors { field message code }
    ticket { id assignee { __typename ... on Agent { email } } }
  }
}
"""
TOP_TAGS = """
query($dept: ID, $first: Int) { topTags(departmentId: $dept, first: $first) { name count } }
"""


async def _ticket(world: World, department: models.Department, **extra: Any) -> models.Ticket:
    actor = await load_actor(world.admin.id)
    return await tickets.create_ticket(
        actor,
        subject="Help",
        department_id=department.id,
        contact_id=world.contact.id,
        **extra,
    )


async def _assign(gql: GQLClient, token: str, **fields: Any) -> dict[str, Any]:
    res = await gql.as_(token)(ASSIGN, {"input": fields})
    return res.data["ticketAssign"]


async def _assignee(ticket: models.Ticket) -> tuple[int | None, int | None]:
    row = await models.Ticket.get(id=ticket.id)
    return row.assignee_agent_id, row.assignee_team_id  # type: ignore[attr-defined]


async def test_bulk_assign_to_an_agent_notifies_and_follows(gql: GQLClient, world: World) -> None:
    carol, carol_token = await make_agent("carol@zylker.com", "Carol", depts=[world.support.id])
    one = await _ticket(world, world.support)
    two = await _ticket(world, world.support)
    payload = await _assign(
        gql,
        world.alice_token,
        ticketIds=[gid("Ticket", one.id), gid("Ticket", two.id)],
        agentId=gid("Agent", carol.id),
    )
    assert payload["errors"] == []
    assert [r["ticketId"] for r in payload["results"]] == [
        gid("Ticket", one.id),
        gid("Ticket", two.id),
    ]
    for result in payload["results"]:
        assert result["errors"] == []
        assert result["ticket"]["assignee"] == {"__typename": "Agent", "email": "carol@zylker.com"}
        assert result["ticket"]["version"] == 2
    # The same Activity row as ticketUpdate writes, one per ticket ...
    rows = await models.Activity.filter(kind="ticket.updated").order_by("ticket_id")
    assert [(r.ticket_id, r.changes) for r in rows] == [
        (t.id, {"assignee_agent_id": {"old": None, "new": carol.id}}) for t in (one, two)
    ]
    # ... which notifies the assignee (not the actor) and makes her follow.
    notes = await models.Notification.filter(agent_id=carol.id).order_by("ticket_id")
    assert [(n.ticket_id, n.reason) for n in notes] == [
        (one.id, NotificationReason.ASSIGNED),
        (two.id, NotificationReason.ASSIGNED),
    ]
    assert await models.Notification.filter(agent_id=world.alice.id).count() == 0
    followed = await models.Follow.filter(agent_id=carol.id).values_list("ticket_id", flat=True)
    assert sorted(followed) == [one.id, two.id]
    # carol sees the notifications through the API too.
    res = await gql.as_(carol_token)("{ me { notifications { totalCount nodes { reason } } } }")
    assert res.data["me"]["notifications"]["totalCount"] == 2


async def test_assign_to_a_team_then_unassign(gql: GQLClient, world: World) -> None:
    team = await models.Team.create(name="Tier 2", department_id=world.support.id)
    await models.TeamMembership.create(team_id=team.id, agent_id=world.alice.id)
    ticket = await _ticket(world, world.support)
    payload = await _assign(
        gql, world.admin_token, ticketIds=[gid("Ticket", ticket.id)], teamId=gid("Team", team.id)
    )
    assert payload["results"][0]["ticket"]["assignee"] == {"__typename": "Team", "name": "Tier 2"}
    assert await _assignee(ticket) == (None, team.id)
    notes = await models.Notification.filter(agent_id=world.alice.id)
    assert [n.reason for n in notes] == [NotificationReason.ASSIGNED]
    # Neither agentId nor teamId: unassign.
    payload = await _assign(gql, world.admin_token, ticketIds=[gid("Ticket", ticket.id)])
    assert payload["results"][0]["errors"] == []
    assert payload["results"][0]["ticket"]["assignee"] is None
    assert await _assignee(ticket) == (None, None)
    # Assigning to who already has it writes nothing.
    before = await models.Activity.all().count()
    payload = await _assign(gql, world.admin_token, ticketIds=[gid("Ticket", ticket.id)])
    assert payload["results"][0]["ticket"]["version"] == 3
    assert await models.Activity.all().count() == before


async def test_bad_assignees_fail_per_ticket_and_write_nothing(
    gql: GQLClient, world: World
) -> None:
    gone, _ = await make_agent("gone@zylker.com", "Gone", depts=[world.support.id])
    await models.Agent.filter(id=gone.id).update(is_active=False)
    sales_team = await models.Team.create(name="Closers", department_id=world.sales.id)
    ticket = await _ticket(world, world.support)
    cases = [
        ({"agentId": gid("Agent", world.bob.id)}, "agentId", "INVALID"),  # other department
        ({"agentId": gid("Agent", gone.id)}, "agentId", "INVALID"),  # deactivated
        ({"teamId": gid("Team", sales_team.id)}, "teamId", "INVALID"),  # other department
        ({"agentId": gid("Agent", 999)}, "agentId", "NOT_FOUND"),
        ({"teamId": gid("Team", 999)}, "teamId", "NOT_FOUND"),
    ]
    for assignee, field, code in cases:
        payload = await _assign(
            gql, world.alice_token, ticketIds=[gid("Ticket", ticket.id)], **assignee
        )
        assert payload["errors"] == [], assignee
        (result,) = payload["results"]
        assert result["ticket"] is None
        assert [(e["field"], e["code"]) for e in result["errors"]] == [(field, code)], assignee
    assert await _assignee(ticket) == (None, None)
    assert (await models.Ticket.get(id=ticket.id)).version == 1
    assert await models.Activity.filter(kind="ticket.updated").count() == 0
    assert await models.Notification.all().count() == 0
    assert await models.Follow.all().count() == 0


async def test_bad_whole_inputs_are_refused(gql: GQLClient, world: World) -> None:
    ticket = await _ticket(world, world.support)
    team = await models.Team.create(name="Tier 2", department_id=world.support.id)
    cases = [
        ({"ticketIds": []}, "ticketIds", "REQUIRED"),
        ({"ticketIds": [gid("Ticket", ticket.id)] * 101}, "ticketIds", "LIMIT_EXCEEDED"),
        ({"ticketIds": ["nonsense!"]}, "ticketIds", "INVALID"),
        ({"ticketIds": [gid("Contact", 1)]}, "ticketIds", "INVALID"),
        (
            {
                "ticketIds": [gid("Ticket", ticket.id)],
                "agentId": gid("Agent", world.alice.id),
                "teamId": gid("Team", team.id),
            },
            None,
            "INVALID",
        ),
        (
            {"ticketIds": [gid("Ticket", ticket.id)], "agentId": gid("Team", team.id)},
            "agentId",
            "INVALID",
        ),
    ]
    for fields, field, code in cases:
        payload = await _assign(gql, world.alice_token, **fields)
        assert payload["results"] == []
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)], fields
    assert await _assignee(ticket) == (None, None)
    assert await models.Activity.filter(kind="ticket.updated").count() == 0


async def test_mixed_batch_assigns_only_the_good_tickets(gql: GQLClient, world: World) -> None:
    good = await _ticket(world, world.support)
    other_dept = await _ticket(world, world.sales)  # alice may not see it
    also_good = await _ticket(world, world.support)
    payload = await _assign(
        gql,
        world.alice_token,
        ticketIds=[
            gid("Ticket", good.id),
            gid("Ticket", other_dept.id),
            gid("Ticket", 999),
            gid("Ticket", good.id),  # a repeat counts once
            gid("Ticket", also_good.id),
        ],
        agentId=gid("Agent", world.alice.id),
    )
    assert payload["errors"] == []
    results = {r["ticketId"]: r for r in payload["results"]}
    assert list(results) == [
        gid("Ticket", good.id),
        gid("Ticket", other_dept.id),
        gid("Ticket", 999),
        gid("Ticket", also_good.id),
    ]
    for failed in (other_dept.id, 999):
        result = results[gid("Ticket", failed)]
        assert result["ticket"] is None
        assert [(e["field"], e["code"]) for e in result["errors"]] == [("ticketIds", "NOT_FOUND")]
    for ok in (good.id, also_good.id):
        assert results[gid("Ticket", ok)]["errors"] == []
        assert await _assignee(await models.Ticket.get(id=ok)) == (world.alice.id, None)
    assert await _assignee(other_dept) == (None, None)
    updated = await models.Activity.filter(kind="ticket.updated").values_list(
        "ticket_id", flat=True
    )
    assert sorted(updated) == [good.id, also_good.id]


async def test_mixed_batch_with_an_agent_outside_some_departments(world: World) -> None:
    # An administrator assigns bob (Sales) to a Sales and a Support ticket: only one fits.
    admin = await load_actor(world.admin.id)
    sales = await _ticket(world, world.sales)
    support = await _ticket(world, world.support)
    results = await assignments.assign_tickets(
        admin, ticket_ids=[sales.id, support.id], agent_id=world.bob.id, team_id=None
    )
    assert results[0].errors == [] and results[0].ticket is not None
    assert results[0].ticket.assignee_agent_id == world.bob.id  # type: ignore[attr-defined]
    assert results[1].ticket is None
    assert [(e.field, e.code.value) for e in results[1].errors] == [("agentId", "INVALID")]
    assert await _assignee(support) == (None, None)
    notes = await models.Notification.filter(agent_id=world.bob.id).values_list(
        "ticket_id", flat=True
    )
    assert list(notes) == [sales.id]


async def test_bulk_reads_the_assignee_and_tickets_once(world: World) -> None:
    """Statements grow by a constant per ticket; the batch reads (the assignee, their
    departments, the visible tickets) happen once, not once per ticket."""
    from deskql.db import count_statements as count_sql

    admin = await load_actor(world.admin.id)
    made = [await _ticket(world, world.support) for _ in range(7)]
    with count_sql() as one:
        await assignments.assign_tickets(
            admin, ticket_ids=[made[0].id], agent_id=world.alice.id, team_id=None
        )
    with count_sql() as six:
        await assignments.assign_tickets(
            admin, ticket_ids=[t.id for t in made[1:]], agent_id=world.alice.id, team_id=None
        )
    per_ticket, rest = divmod(len(six.sql) - len(one.sql), 5)
    assert rest == 0, (one.sql, six.sql)
    # The single-ticket run = batch reads + one ticket's statements: 3 batch reads.
    assert len(one.sql) - per_ticket == 3, one.sql
    assert await models.Ticket.filter(assignee_agent_id=world.alice.id).count() == 7


async def test_take_an_unassigned_ticket(gql: GQLClient, world: World) -> None:
    ticket = await _ticket(world, world.support)
    res = await gql.as_(world.alice_token)(TAKE, {"id": gid("Ticket", ticket.id)})
    payload = res.data["ticketTake"]
    assert payload["errors"] == []
    assert payload["ticket"]["assignee"] == {"__typename": "Agent", "email": "alice@zylker.com"}
    assert await _assignee(ticket) == (world.alice.id, None)
    activity = await models.Activity.get(kind="ticket.updated")
    assert activity.actor_id == world.alice.id  # type: ignore[attr-defined]
    assert await models.Follow.filter(agent_id=world.alice.id, ticket_id=ticket.id).exists()
    # Taking it again (or by anyone else) is refused.
    carol, carol_token = await make_agent("carol@zylker.com", "Carol", depts=[world.support.id])
    for token in (world.alice_token, carol_token):
        res = await gql.as_(token)(TAKE, {"id": gid("Ticket", ticket.id)})
        payload = res.data["ticketTake"]
        assert payload["ticket"] is None
        assert [e["code"] for e in payload["errors"]] == ["ALREADY_ASSIGNED"]
    assert await _assignee(ticket) == (world.alice.id, None)
    assert await models.Activity.filter(kind="ticket.updated").count() == 1


async def test_take_refusals_write_nothing(gql: GQLClient, world: World) -> None:
    team = await models.Team.create(name="Tier 2", department_id=world.support.id)
    team_ticket = await _ticket(world, world.support, assignee_team_id=team.id)
    sales_ticket = await _ticket(world, world.sales)
    cases = [
        (world.alice_token, team_ticket.id, "ALREADY_ASSIGNED"),  # a team has it
        (world.alice_token, sales_ticket.id, "NOT_FOUND"),  # not her department
        (world.alice_token, 999, "NOT_FOUND"),
        # An administrator sees every ticket but is no member of Sales: not assignable.
        (world.admin_token, sales_ticket.id, "INVALID"),
    ]
    for token, ticket_id, code in cases:
        res = await gql.as_(token)(TAKE, {"id": gid("Ticket", ticket_id)})
        payload = res.data["ticketTake"]
        assert payload["ticket"] is None
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [("ticketId", code)]
    assert await _assignee(team_ticket) == (None, team.id)
    assert await _assignee(sales_ticket) == (None, None)
    assert await models.Activity.filter(kind="ticket.updated").count() == 0
    assert await models.Notification.all().count() == 0


async def test_top_tags_and_the_tag_filter(gql: GQLClient, world: World) -> None:
    admin = await load_actor(world.admin.id)
    for tags in (["vip", "login"], ["login"], ["login", "billing"], ["vip"]):
        await _ticket(world, world.support, tags=tags)
    await _ticket(world, world.sales, tags=["sales", "login"])
    spam = await _ticket(world, world.support, tags=["login"], is_spam=True)
    assert spam.is_spam

    res = await gql.as_(world.alice_token)(TOP_TAGS, {})
    assert res.data["topTags"] == [
        {"name": "login", "count": 3},
        {"name": "vip", "count": 2},
        {"name": "billing", "count": 1},
    ]
    res = await gql.as_(world.admin_token)(TOP_TAGS, {"first": 2})
    assert res.data["topTags"] == [{"name": "login", "count": 4}, {"name": "vip", "count": 2}]
    res = await gql.as_(world.admin_token)(TOP_TAGS, {"dept": gid("Department", world.sales.id)})
    assert res.data["topTags"] == [{"name": "login", "count": 1}, {"name": "sales", "count": 1}]
    # A department alice does not work in shows her nothing.
    res = await gql.as_(world.alice_token)(TOP_TAGS, {"dept": gid("Department", world.sales.id)})
    assert res.data["topTags"] == []
    res = await gql.as_(world.alice_token)(TOP_TAGS, {"first": 101})
    assert res.error_codes() == ["BAD_ARGUMENT"]

    # tickets(filter: {tag}) lists the tickets behind a count (case-insensitive, no spam).
    query = """
    query($tag: String, $spam: Boolean) {
      tickets(filter: {tag: $tag, isSpam: $spam}) { totalCount nodes { tags } }
    }
    """
    res = await gql.as_(world.alice_token)(query, {"tag": "LOGIN"})
    assert res.data["tickets"]["totalCount"] == 3
    assert all("login" in n["tags"] for n in res.data["tickets"]["nodes"])
    res = await gql.as_(world.alice_token)(query, {"tag": "login", "spam": None})
    assert res.data["tickets"]["totalCount"] == 4
    res = await gql.as_(world.admin_token)(query, {"tag": "nosuchtag"})
    assert res.data["tickets"]["totalCount"] == 0
    assert await assignments.top_tags(admin, first=0) == []


async def test_admin_not_in_department_cannot_be_assigned(world: World) -> None:
    admin = await load_actor(world.admin.id)
    ticket = await _ticket(world, world.support)
    other_admin, _ = await make_agent("root@zylker.com", "Root", Role.ADMINISTRATOR)
    results = await assignments.assign_tickets(
        admin, ticket_ids=[ticket.id], agent_id=other_admin.id, team_id=None
    )
    assert [(e.field, e.code.value) for e in results[0].errors] == [("agentId", "INVALID")]
    assert await _assignee(ticket) == (None, None)
