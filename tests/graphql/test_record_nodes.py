"""Every record with a global id is a Node: `node(id:)` and `nodes(ids:)` fetch macros, tasks,
time entries, timers, drafts, templates, support and From addresses, inbound and outgoing
emails and notifications by the ids the API hands out (also inside Activity `changes`), with
the same visibility as the lists that show them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from deskql import models
from deskql.models.enums import NotificationReason, ThreadDirection
from tests.conftest import GQLClient, World, gid

NODES = """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"""


async def _rows(world: World) -> dict[str, Any]:
    support = await models.Ticket.create(
        number=1, subject="Support", department_id=world.support.id, contact_id=world.contact.id
    )
    sales = await models.Ticket.create(
        number=2, subject="Sales", department_id=world.sales.id, contact_id=world.contact.id
    )
    task = await models.Task.create(department_id=world.support.id, title="Call", ticket=support)
    thread = await models.Thread.create(ticket=support, direction=ThreadDirection.OUTGOING)
    activity = await models.Activity.create(
        kind="ticket.updated",
        subject_type="Ticket",
        subject_id=support.id,
        ticket_id=support.id,
        department_id=world.support.id,
    )
    return {
        "support_address": await models.SupportAddress.create(email="help@zylker.example"),
        "inbound": await models.InboundMessage.create(raw_sha256="0" * 64, size=1),
        "outgoing": await models.OutboxMessage.create(
            message_id="<1@zylker.example>",
            mail_from="help@zylker.example",
            next_attempt_at=datetime.now(UTC),
            thread=thread,
        ),
        "from_address": await models.FromAddress.create(
            department_id=world.support.id, email="team@zylker.example", is_verified=True
        ),
        "notification": await models.Notification.create(
            agent_id=world.alice.id, activity=activity, reason=NotificationReason.FOLLOWING
        ),
        "macro": await models.Macro.create(department_id=world.support.id, name="Close"),
        "task": task,
        "lone_task": await models.Task.create(department_id=world.sales.id, title="Plan"),
        "entry": await models.TimeEntry.create(agent_id=world.bob.id, seconds=60, ticket=support),
        "task_entry": await models.TimeEntry.create(agent_id=world.bob.id, seconds=30, task=task),
        "sales_entry": await models.TimeEntry.create(
            agent_id=world.bob.id, seconds=90, ticket=sales
        ),
        "timer": await models.Timer.create(agent_id=world.alice.id, ticket=support),
        "draft": await models.Draft.create(ticket=support, author_id=world.alice.id),
        "shared_draft": await models.Draft.create(
            ticket=support, author_id=world.admin.id, is_shared=True
        ),
        "template": await models.EmailTemplate.create(
            name="Thanks", department_id=world.support.id
        ),
        "own_template": await models.EmailTemplate.create(name="Mine", owner_id=world.alice.id),
        "folder": await models.TemplateFolder.create(
            name="Replies", department_id=world.support.id
        ),
        "ticket_template": await models.TicketTemplate.create(
            name="RMA", department_id=world.support.id
        ),
    }


TYPES = {
    "support_address": "SupportAddress",
    "inbound": "InboundMessage",
    "outgoing": "OutgoingEmail",
    "from_address": "FromAddress",
    "notification": "Notification",
    "macro": "Macro",
    "task": "Task",
    "lone_task": "Task",
    "entry": "TimeEntry",
    "task_entry": "TimeEntry",
    "sales_entry": "TimeEntry",
    "timer": "Timer",
    "draft": "Draft",
    "shared_draft": "Draft",
    "template": "EmailTemplate",
    "own_template": "EmailTemplate",
    "folder": "TemplateFolder",
    "ticket_template": "TicketTemplate",
}


async def _visible(gql: GQLClient, token: str, rows: dict[str, Any]) -> set[str]:
    ids = {name: gid(TYPES[name], row.id) for name, row in rows.items()}
    result = await gql.as_(token)(NODES, {"ids": list(ids.values())})
    got = result.data["nodes"]
    seen = set()
    for (name, global_id), node in zip(ids.items(), got, strict=True):
        if node is not None:
            assert node == {"__typename": TYPES[name], "id": global_id}
            seen.add(name)
    return seen


async def test_records_are_nodes_seen_as_their_lists_show_them(
    gql: GQLClient, world: World
) -> None:
    rows = await _rows(world)
    # Alice (Support): her department's records, her own timer, draft, template and
    # notification; support addresses and inbound mail are for administrators.
    assert await _visible(gql, world.alice_token, rows) == set(TYPES) - {
        "lone_task",
        "sales_entry",
        "support_address",
        "inbound",
    }
    # Bob (Sales): the Sales ticket's entry and the Sales task; not Alice's own things.
    assert await _visible(gql, world.bob_token, rows) == {"lone_task", "sales_entry"}
    # The administrator: everything shared, but not Alice's timer, draft, template or
    # notification.
    assert await _visible(gql, world.admin_token, rows) == set(TYPES) - {
        "timer",
        "draft",
        "own_template",
        "notification",
    }


async def test_a_node_query_selects_the_type_fields(gql: GQLClient, world: World) -> None:
    rows = await _rows(world)
    query = """query($m: ID!, $t: ID!, $e: ID!, $n: ID!, $f: ID!) {
      m: node(id: $m) { ... on Macro { name department { name } } }
      t: node(id: $t) { ... on Task { title } }
      e: node(id: $e) { ... on TimeEntry { seconds agent { id } ticket { number } } }
      n: node(id: $n) { ... on Notification { reason isRead activity { kind } ticket { number } } }
      f: node(id: $f) { ... on FromAddress { email } } }"""
    variables = {
        "m": gid("Macro", rows["macro"].id),
        "t": gid("Task", rows["task"].id),
        "e": gid("TimeEntry", rows["entry"].id),
        "n": gid("Notification", rows["notification"].id),
        "f": gid("FromAddress", rows["from_address"].id),
    }
    data = (await gql.as_(world.alice_token)(query, variables)).data
    assert data["m"] == {"name": "Close", "department": {"name": world.support.name}}
    assert data["t"] == {"title": "Call"}
    assert data["e"] == {
        "seconds": 60,
        "agent": {"id": gid("Agent", world.bob.id)},
        "ticket": {"number": 1},
    }
