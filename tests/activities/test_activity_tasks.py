"""Tasks over GraphQL (ACT-1): create, change, complete, delete; ORG-5 with an agent of
another department; filters and sorts; the lists on Ticket, Contact and Account; node(id:);
me.openActivities; Activity rows and the owner's notification; bad input writing nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from deskql import models
from tests.activities.conftest import ERR, EVENT, TASK, ticket_in
from tests.conftest import GQLClient, World, gid

CREATE = f"mutation($input: TaskCreateInput!) {{ taskCreate(input: $input) {{ {ERR} {TASK} }} }}"
UPDATE = f"mutation($input: TaskUpdateInput!) {{ taskUpdate(input: $input) {{ {ERR} {TASK} }} }}"
COMPLETE = f"mutation($id: ID!) {{ taskComplete(input: {{id: $id}}) {{ {ERR} {TASK} }} }}"
DELETE = f"mutation($id: ID!) {{ taskDelete(input: {{id: $id}}) {{ {ERR} {TASK} }} }}"
LIST = """
query($filter: TaskFilter, $sort: TaskSort, $first: Int, $after: String) {
  tasks(filter: $filter, sort: $sort, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { subject status isOverdue }
  }
}"""
EVENT_CREATE = (
    f"mutation($input: EventCreateInput!) {{ eventCreate(input: $input) {{ {ERR} {EVENT} }} }}"
)


def _iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


async def _create(gql: GQLClient, token: str, **fields: Any) -> dict[str, Any]:
    res = await gql.as_(token)(CREATE, {"input": fields})
    return res.data["taskCreate"]


async def test_create_task_on_a_ticket_takes_its_department_contact_and_notifies_the_owner(
    gql: GQLClient, world: World
) -> None:
    ticket = await ticket_in(world.support, world)
    out = await _create(
        gql,
        world.admin_token,
        subject="Call Melissa back",
        dueAt=_iso(timedelta(days=1)),
        priority="HIGH",
        ownerId=gid("Agent", world.alice.id),
        ticketId=gid("Ticket", ticket.id),
    )
    assert out["errors"] == []
    task = out["task"]
    assert task["subject"] == "Call Melissa back" and task["priority"] == "HIGH"
    assert task["status"] == "NOT_STARTED" and task["isOverdue"] is False
    assert task["owner"] == {"email": "alice@zylker.com"}
    assert task["department"] == {"name": "Support"}
    assert task["contact"] == {"id": gid("Contact", world.contact.id)}
    row = await models.Activity.filter(kind="task.created").get()
    assert (row.subject_type, row.ticket_id, row.contact_id) == (
        "Task",
        ticket.id,
        world.contact.id,
    )
    assert row.department_id == world.support.id
    note = await models.Notification.filter(agent_id=world.alice.id, activity_id=row.id).get()
    assert note.reason == models.NotificationReason.ASSIGNED
    # The node and the ticket's, contact's lists show it.
    res = await gql.as_(world.alice_token)(
        """query($t: ID!, $task: ID!, $c: ID!) {
          node(id: $task) { ... on Task { subject } }
          ticket(id: $t) { tasks { totalCount nodes { subject } } }
          contact(id: $c) { tasks { totalCount } }
        }""",
        {"t": gid("Ticket", ticket.id), "task": task["id"], "c": gid("Contact", world.contact.id)},
    )
    assert res.data["node"] == {"subject": "Call Melissa back"}
    assert res.data["ticket"]["tasks"] == {
        "totalCount": 1,
        "nodes": [{"subject": "Call Melissa back"}],
    }
    assert res.data["contact"]["tasks"] == {"totalCount": 1}


async def test_an_agent_of_another_department_sees_and_changes_nothing(
    gql: GQLClient, world: World
) -> None:
    out = await _create(
        gql, world.alice_token, subject="Support only", contactId=gid("Contact", world.contact.id)
    )
    assert out["errors"] == [] and out["task"]["department"] == {"name": "Support"}
    task_id = out["task"]["id"]
    bob = gql.as_(world.bob_token)
    res = await bob("query($id: ID!) { node(id: $id) { id } }", {"id": task_id})
    assert res.data["node"] is None
    assert (await bob(LIST)).data["tasks"]["totalCount"] == 0
    res = await bob(
        "query($c: ID!) { contact(id: $c) { tasks { totalCount } } }",
        {"c": gid("Contact", world.contact.id)},
    )
    assert res.data["contact"]["tasks"]["totalCount"] == 0
    before = await models.Activity.all().count()
    for query, variables in (
        (UPDATE, {"input": {"id": task_id, "subject": "Mine now"}}),
        (COMPLETE, {"id": task_id}),
        (DELETE, {"id": task_id}),
    ):
        res = await bob(query, variables)
        payload = next(iter(res.data.values()))
        assert [e["code"] for e in payload["errors"]] == ["NOT_FOUND"]
    assert await models.Activity.all().count() == before
    assert (await models.Task.get()).title == "Support only"
    # Nor may Bob put a task into Support.
    res = await bob(
        CREATE,
        {
            "input": {
                "subject": "x",
                "departmentId": gid("Department", world.support.id),
                "contactId": gid("Contact", world.contact.id),
            }
        },
    )
    assert [e["code"] for e in res.data["taskCreate"]["errors"]] == ["NOT_FOUND"]


async def test_due_in_the_past_is_overdue_at_once_and_counts_on_the_dashboard(
    gql: GQLClient, world: World
) -> None:
    from deskql.realtime.streams import dashboard_counts

    out = await _create(
        gql,
        world.alice_token,
        subject="Late already",
        dueAt=_iso(-timedelta(hours=2)),
        contactId=gid("Contact", world.contact.id),
    )
    assert out["errors"] == [] and out["task"]["isOverdue"] is True
    assert (await dashboard_counts(world.support.id))["overdue_tasks"] == 1
    res = await gql.as_(world.alice_token)(LIST, {"filter": {"overdue": True}})
    assert res.data["tasks"]["nodes"] == [
        {"subject": "Late already", "status": "NOT_STARTED", "isOverdue": True}
    ]
    done = await gql.as_(world.alice_token)(COMPLETE, {"id": out["task"]["id"]})
    assert done.data["taskComplete"]["task"]["status"] == "COMPLETED"
    assert done.data["taskComplete"]["task"]["isOverdue"] is False
    assert (await dashboard_counts(world.support.id))["overdue_tasks"] == 0
    assert await models.Activity.filter(kind="task.completed").count() == 1
    again = await gql.as_(world.alice_token)(COMPLETE, {"id": out["task"]["id"]})
    assert [e["code"] for e in again.data["taskComplete"]["errors"]] == ["INVALID_STATE"]


async def test_reminder_on_a_completed_task_is_refused(gql: GQLClient, world: World) -> None:
    contact = gid("Contact", world.contact.id)
    out = await _create(
        gql, world.alice_token, subject="Done", status="COMPLETED", contactId=contact
    )
    task_id = out["task"]["id"]
    before = await models.Activity.all().count()
    res = await gql.as_(world.alice_token)(
        UPDATE, {"input": {"id": task_id, "reminderAt": _iso(timedelta(hours=1))}}
    )
    assert [e["code"] for e in res.data["taskUpdate"]["errors"]] == ["INVALID_STATE"]
    assert await models.Activity.all().count() == before
    assert await models.Reminder.all().count() == 0
    res = await gql.as_(world.alice_token)(
        CREATE,
        {
            "input": {
                "subject": "x",
                "status": "COMPLETED",
                "contactId": contact,
                "reminderAt": _iso(timedelta(hours=1)),
            }
        },
    )
    assert [e["field"] for e in res.data["taskCreate"]["errors"]] == ["reminderAt"]
    assert await models.Task.all().count() == 1


async def test_bad_input_writes_nothing(gql: GQLClient, world: World) -> None:
    alice = gql.as_(world.alice_token)
    before = await models.Activity.all().count()
    cases = [
        ({"subject": "  "}, "REQUIRED"),  # and no link either
        ({"subject": "x" * 300, "contactId": gid("Contact", world.contact.id)}, "TOO_LONG"),
        ({"subject": "x", "ticketId": gid("Ticket", 999)}, "NOT_FOUND"),
        (
            {
                "subject": "x",
                "contactId": gid("Contact", world.contact.id),
                "ownerId": gid("Agent", world.bob.id),
            },
            "NOT_FOUND",
        ),
    ]
    for fields, code in cases:
        res = await alice(CREATE, {"input": fields})
        assert code in [e["code"] for e in res.data["taskCreate"]["errors"]], fields
    assert await models.Task.all().count() == 0
    assert await models.Activity.all().count() == before


async def test_filters_sorts_and_pages(gql: GQLClient, world: World) -> None:
    contact = gid("Contact", world.contact.id)
    for subject, days, priority in [("b", 3, "LOW"), ("a", 1, "URGENT"), ("c", 2, "MEDIUM")]:
        await _create(
            gql,
            world.alice_token,
            subject=subject,
            dueAt=_iso(timedelta(days=days)),
            priority=priority,
            contactId=contact,
        )
    await _create(
        gql,
        world.admin_token,
        subject="admin's",
        contactId=contact,
        departmentId=gid("Department", world.support.id),
    )
    alice = gql.as_(world.alice_token)
    res = await alice(LIST, {"filter": {"ownerId": gid("Agent", world.alice.id)}})
    assert [n["subject"] for n in res.data["tasks"]["nodes"]] == ["a", "c", "b"]
    res = await alice(
        LIST,
        {
            "sort": {"field": "PRIORITY", "direction": "DESC"},
            "filter": {"ownerId": gid("Agent", world.alice.id)},
        },
    )
    assert [n["subject"] for n in res.data["tasks"]["nodes"]] == ["a", "c", "b"]
    res = await alice(LIST, {"sort": {"field": "SUBJECT"}, "first": 2})
    page = res.data["tasks"]
    assert [n["subject"] for n in page["nodes"]] == ["a", "admin's"]
    assert page["pageInfo"]["hasNextPage"] is True and page["totalCount"] == 4
    res = await alice(LIST, {"filter": {"dueBefore": _iso(timedelta(days=2, hours=12))}})
    assert {n["subject"] for n in res.data["tasks"]["nodes"]} == {"a", "c"}
    res = await alice(LIST, {"filter": {"dueAfter": _iso(timedelta(days=2, hours=12))}})
    assert [n["subject"] for n in res.data["tasks"]["nodes"]] == ["b"]
    res = await alice(LIST, {"first": 101})
    assert res.errors and res.error_codes() == ["BAD_PAGINATION"]


async def test_update_changes_fields_and_moves_owner(gql: GQLClient, world: World) -> None:
    carol_dept = world.support.id
    from tests.conftest import make_agent

    carol, carol_token = await make_agent("carol@zylker.com", "Carol", depts=[carol_dept])
    out = await _create(
        gql, world.alice_token, subject="Old", contactId=gid("Contact", world.contact.id)
    )
    res = await gql.as_(world.alice_token)(
        UPDATE,
        {
            "input": {
                "id": out["task"]["id"],
                "subject": "New",
                "status": "IN_PROGRESS",
                "ownerId": gid("Agent", carol.id),
                "accountId": None,
            }
        },
    )
    task = res.data["taskUpdate"]["task"]
    assert (task["subject"], task["status"], task["owner"]) == (
        "New",
        "IN_PROGRESS",
        {"email": "carol@zylker.com"},
    )
    row = await models.Activity.filter(kind="task.updated").get()
    assert row.changes["title"] == {"old": "Old", "new": "New"}
    assert row.changes["owner_id"] == {"old": world.alice.id, "new": carol.id}
    assert await models.Notification.filter(agent_id=carol.id, activity_id=row.id).exists()
    res = await gql.as_(carol_token)(DELETE, {"id": out["task"]["id"]})
    assert res.data["taskDelete"]["errors"] == []
    assert await models.Task.all().count() == 0
    assert await models.Activity.filter(kind="task.deleted").count() == 1


async def test_me_open_activities_merges_tasks_and_events_by_time(
    gql: GQLClient, world: World
) -> None:
    contact = gid("Contact", world.contact.id)
    alice = gql.as_(world.alice_token)
    await _create(
        gql, world.alice_token, subject="later", dueAt=_iso(timedelta(days=3)), contactId=contact
    )
    await _create(gql, world.alice_token, subject="undated", contactId=contact)
    await _create(gql, world.alice_token, subject="done", status="COMPLETED", contactId=contact)
    await _create(
        gql, world.alice_token, subject="soon", dueAt=_iso(timedelta(hours=1)), contactId=contact
    )
    res = await gql.as_(world.admin_token)(
        EVENT_CREATE,
        {
            "input": {
                "title": "meeting",
                "startsAt": _iso(timedelta(days=1)),
                "endsAt": _iso(timedelta(days=1, hours=1)),
                "contactId": contact,
                "departmentId": gid("Department", world.support.id),
                "attendeeIds": [gid("Agent", world.alice.id)],
            }
        },
    )
    assert res.data["eventCreate"]["errors"] == []
    query = """query($first: Int, $after: String) {
      me { openActivities(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { __typename ... on Task { subject } ... on Event { title } } } } }"""
    res = await alice(query, {"first": 2})
    page = res.data["me"]["openActivities"]
    assert page["nodes"] == [
        {"__typename": "Task", "subject": "soon"},
        {"__typename": "Event", "title": "meeting"},
    ]
    assert page["totalCount"] == 4 and page["pageInfo"]["hasNextPage"] is True
    res = await alice(query, {"first": 5, "after": page["pageInfo"]["endCursor"]})
    assert [n.get("subject") for n in res.data["me"]["openActivities"]["nodes"]] == [
        "later",
        "undated",
    ]
    # Backward: the last three, then what precedes them (keyset cursors).
    back = """query($last: Int, $before: String) {
      me { openActivities(last: $last, before: $before) {
      pageInfo { hasPreviousPage startCursor }
      nodes { __typename ... on Task { subject } ... on Event { title } } } } }"""
    res = await alice(back, {"last": 3})
    tail = res.data["me"]["openActivities"]
    assert [n.get("subject") or n.get("title") for n in tail["nodes"]] == [
        "meeting",
        "later",
        "undated",
    ]
    assert tail["pageInfo"]["hasPreviousPage"] is True
    res = await alice(back, {"last": 3, "before": tail["pageInfo"]["startCursor"]})
    head = res.data["me"]["openActivities"]
    assert [n.get("subject") for n in head["nodes"]] == ["soon"]
    assert head["pageInfo"]["hasPreviousPage"] is False
    # Bob has none of them.
    res = await gql.as_(world.bob_token)(query, {"first": 5})
    assert res.data["me"]["openActivities"]["totalCount"] == 0
