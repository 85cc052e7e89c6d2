"""Detail views: Ticket.conversation and Ticket.threads (TIC-4), Contact.timeline (TIC-5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from deskql import models
from deskql.db import count_statements as count_sql
from deskql.models.enums import ThreadDirection, TicketStatus
from deskql.services import auth
from deskql.services import views as svc
from tests.conftest import GQLClient, World, gid

CONVERSATION = """
query($id: ID!, $first: Int, $after: String) { ticket(id: $id) {
  threads { nodes { id direction isPublic } }
  conversation(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node {
      __typename
      ... on Thread { id isPublic direction bodyText createdAt }
      ... on Comment { id isPublic body createdAt author { email } }
    } } } } }
"""
TIMELINE = """
query($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on Contact {
  timeline(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { number subject status createdAt closedAt
            department { name } tags assignee { __typename ... on Agent { email } } } } } } }
"""
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


async def _ticket(world: World, number: int, **kw: Any) -> models.Ticket:
    kw.setdefault("department", world.support)
    return await models.Ticket.create(
        number=number, subject=f"Ticket {number}", contact=world.contact, **kw
    )


async def _thread(ticket: models.Ticket, minute: int, **kw: Any) -> models.Thread:
    row = await models.Thread.create(
        ticket=ticket,
        direction=kw.pop("direction", ThreadDirection.INCOMING),
        body_text=kw.pop("body", f"message at {minute}"),
        **kw,
    )
    # auto_now_add stamps the insert time; set the time the test needs.
    await models.Thread.filter(id=row.id).update(created_at=T0 + timedelta(minutes=minute))
    return row


async def _comment(ticket: models.Ticket, minute: int, author: models.Agent, **kw: Any) -> Any:
    row = await models.Comment.create(
        ticket=ticket, author=author, body=kw.pop("body", f"note at {minute}"), **kw
    )
    await models.Comment.filter(id=row.id).update(created_at=T0 + timedelta(minutes=minute))
    return row


async def test_conversation_interleaves_threads_and_comments(gql: GQLClient, world: World) -> None:
    ticket = await _ticket(world, 1)
    # Written out of time order on purpose: the order comes from the times, not the ids.
    reply = await _thread(ticket, 30, direction=ThreadDirection.OUTGOING, body="We are on it")
    first = await _thread(ticket, 0, body="Printer on fire")
    private = await _comment(ticket, 10, world.alice, body="Call facilities", is_public=False)
    public = await _comment(ticket, 40, world.alice, body="Fixed", is_public=True)
    same_time = await _comment(ticket, 30, world.admin, body="Reply sent")
    hidden = await _thread(ticket, 50, body="internal forward", is_public=False)

    res = await gql.as_(world.alice_token)(CONVERSATION, {"id": gid("Ticket", ticket.id)})
    data = res.data["ticket"]
    conv = data["conversation"]
    assert conv["totalCount"] == 6
    assert conv["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "endCursor": conv["edges"][-1]["cursor"],
    }
    nodes = [edge["node"] for edge in conv["edges"]]
    assert [(n["__typename"], n["id"], n["isPublic"]) for n in nodes] == [
        ("Thread", gid("Thread", first.id), True),
        ("Comment", gid("Comment", private.id), False),
        # At the same moment the message comes before the comment.
        ("Thread", gid("Thread", reply.id), True),
        ("Comment", gid("Comment", same_time.id), False),
        ("Comment", gid("Comment", public.id), True),
        ("Thread", gid("Thread", hidden.id), False),
    ]
    assert nodes[1]["body"] == "Call facilities"
    assert nodes[1]["author"] == {"email": "alice@zylker.com"}
    # The administrator shares no department with Alice: she sees only the public profile.
    assert nodes[3]["author"] == {"email": None}
    assert nodes[2]["direction"] == "OUTGOING" and nodes[2]["bodyText"] == "We are on it"
    times = [n["createdAt"] for n in nodes]
    assert times == sorted(times)
    # `threads` is the messages alone, in order of arrival (ids).
    assert [t["id"] for t in data["threads"]["nodes"]] == [
        gid("Thread", reply.id),
        gid("Thread", first.id),
        gid("Thread", hidden.id),
    ]


async def test_conversation_pages(gql: GQLClient, world: World) -> None:
    ticket = await _ticket(world, 1)
    for minute in range(0, 10, 2):
        await _thread(ticket, minute)
        await _comment(ticket, minute + 1, world.alice)
    alice = gql.as_(world.alice_token)
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        res = await alice(
            CONVERSATION, {"id": gid("Ticket", ticket.id), "first": 4, "after": after}
        )
        conv = res.data["ticket"]["conversation"]
        assert conv["totalCount"] == 10
        seen += [e["node"].get("bodyText") or e["node"]["body"] for e in conv["edges"]]
        pages += 1
        assert conv["pageInfo"]["hasPreviousPage"] is (pages > 1)
        if not conv["pageInfo"]["hasNextPage"]:
            break
        after = conv["pageInfo"]["endCursor"]
    assert pages == 3
    assert seen == [f"{'message' if m % 2 == 0 else 'note'} at {m}" for m in range(10)]
    res = await alice(CONVERSATION, {"id": gid("Ticket", ticket.id), "first": 101})
    assert res.error_codes() == ["BAD_PAGINATION"]


async def test_conversation_statements_do_not_grow_with_page_size(
    gql: GQLClient, world: World
) -> None:
    ticket = await _ticket(world, 1)
    authors = [world.alice, world.admin]
    for minute in range(0, 80, 2):
        await _thread(ticket, minute)
        await _comment(ticket, minute + 1, authors[minute % 4 // 2])
    alice = gql.as_(world.alice_token)
    # The token's Actor cached first (services/auth_cache.py): both counts are of the data
    # statements alone (otherwise the first would include authentication, the second not).
    assert (await alice("{ __typename }")).data == {"__typename": "Query"}

    async def statements(first: int) -> list[str]:
        with count_sql() as stmts:
            res = await alice(CONVERSATION, {"id": gid("Ticket", ticket.id), "first": first})
            assert len(res.data["ticket"]["conversation"]["edges"]) == first
        return stmts.sql

    small = await statements(4)
    large = await statements(80)
    assert len(small) == len(large), "\n".join(large)


async def test_conversation_of_a_ticket_out_of_reach_is_empty(world: World) -> None:
    ticket = await _ticket(world, 1, department=world.sales)
    await _thread(ticket, 0)
    await _comment(ticket, 1, world.bob)
    alice = await auth.load_actor(world.alice.id)
    assert await svc.conversation_keys(alice, ticket_id=ticket.id) == []
    bob = await auth.load_actor(world.bob.id)
    items = await svc.conversation_items(await svc.conversation_keys(bob, ticket_id=ticket.id))
    assert [type(i) for i in items] == [models.Thread, models.Comment]


async def test_timeline_lists_the_contacts_tickets_newest_first(
    gql: GQLClient, world: World
) -> None:
    other = await models.Contact.create(
        email="someone@example.com", first_name="Some", last_name="One"
    )
    old = await _ticket(
        world, 1, status=TicketStatus.CLOSED, closed_at=T0, assignee_agent=world.alice
    )
    await _ticket(world, 2, department=world.sales)  # Alice may not see it
    recent = await _ticket(world, 3)
    await models.Ticket.create(
        number=4, subject="Not hers", contact=other, department=world.support
    )
    # Creation times decide the order, not numbers.
    await models.Ticket.filter(id=old.id).update(created_at=T0 - timedelta(days=30))
    await models.Ticket.filter(id=recent.id).update(created_at=T0 - timedelta(days=60))
    newest = await _ticket(world, 5)

    res = await gql.as_(world.alice_token)(TIMELINE, {"id": gid("Contact", world.contact.id)})
    line = res.data["node"]["timeline"]
    assert line["totalCount"] == 3
    assert [t["number"] for t in line["nodes"]] == [newest.number, 1, 3]
    closed = line["nodes"][1]
    assert closed["status"] == "CLOSED" and closed["closedAt"].startswith("2026-03-01T09:00")
    assert closed["assignee"] == {"__typename": "Agent", "email": "alice@zylker.com"}
    assert line["nodes"][0]["closedAt"] is None
    assert {t["department"]["name"] for t in line["nodes"]} == {"Support"}
    # The administrator sees the Sales ticket too.
    res = await gql.as_(world.admin_token)(TIMELINE, {"id": gid("Contact", world.contact.id)})
    assert [t["number"] for t in res.data["node"]["timeline"]["nodes"]] == [5, 2, 1, 3]


async def test_timeline_statements_do_not_grow_with_page_size(gql: GQLClient, world: World) -> None:
    agents = [world.alice, world.admin]
    for number in range(1, 41):
        ticket = await _ticket(world, number, assignee_agent=agents[number % 2])
        tag, _ = await models.Tag.get_or_create(name=f"tag{number % 3}")
        await models.TicketTag.create(ticket=ticket, tag=tag)
    alice = gql.as_(world.alice_token)
    # The token's Actor cached first (services/auth_cache.py): both counts are of the data
    # statements alone (otherwise the first would include authentication, the second not).
    assert (await alice("{ __typename }")).data == {"__typename": "Query"}

    async def statements(first: int) -> list[str]:
        with count_sql() as stmts:
            res = await alice(TIMELINE, {"id": gid("Contact", world.contact.id), "first": first})
            nodes = res.data["node"]["timeline"]["nodes"]
            assert len(nodes) == first
            assert all(len(n["tags"]) == 1 and n["assignee"] for n in nodes)
        return stmts.sql

    small = await statements(5)
    large = await statements(39)
    assert len(small) == len(large), "\n".join(large)
