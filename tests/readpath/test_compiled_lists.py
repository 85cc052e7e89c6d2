"""A compiled ticket's threads, comments and activities: each list read for the whole page of
tickets by one statement of the selected columns (on the loader's own query), paged by the
resolver as always. The suite runs with readpath_verify, so each answer here is also compared
byte for byte with the full executor's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from deskql import models
from deskql.db import count_statements
from deskql.models.enums import ThreadDirection
from deskql.schema.ids import to_global_id
from tests.conftest import GQLClient, World
from tests.readpath.test_compiled import seed
from tests.readpath.test_lean import readpath_of

ODD = 'He said "hi" \\ back\n\t\u2028 — 你好 🎉 <b>&amp;</b>'

LISTS = """
query($first: Int, $after: String) {
  tickets(first: 4, sort: {field: NUMBER, direction: DESC}) {
    nodes {
      number
      threads(first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage endCursor }
        edges { cursor node { id direction channel isPublic subject to cc messageId createdAt } }
      }
      comments { totalCount nodes { id body isPublic author { name } ticket { number } } }
      activities { nodes { __typename id kind subjectType changes createdAt actor { name } } }
    }
  }
}
"""


async def _conversation(world: World) -> dict[int, models.Ticket]:
    """Threads, comments and activities on tickets 211, 210 and 208 (Sales)."""
    await seed(world)
    tickets = {t.number: t for t in await models.Ticket.filter(number__in=[211, 210, 208])}
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    for number, ticket in tickets.items():
        for i in range(3):
            await models.Thread.create(
                ticket_id=ticket.id,
                direction=ThreadDirection.INCOMING if i % 2 == 0 else ThreadDirection.OUTGOING,
                is_public=i != 2,
                from_address="melissa@example.com",
                to_addresses="support@example.com",
                cc_addresses="" if i else "boss@example.com",
                subject=f"{number}/{i} {ODD}",
                body_text=ODD,
                body_html=f"<p>{ODD}</p>",
                message_id=f"<{number}.{i}@example.com>" if i != 1 else None,
                created_at=at + timedelta(minutes=i, microseconds=0 if i else 250),
            )
        await models.Comment.create(
            ticket_id=ticket.id, author_id=world.alice.id, body=f"Note {ODD}", is_public=True
        )
        await models.Comment.create(ticket_id=ticket.id, author_id=None, body="gone author")
        await models.Activity.create(
            kind="ticket.updated",
            actor_id=world.alice.id,
            subject_type="Ticket",
            subject_id=ticket.id,
            ticket_id=ticket.id,
            department_id=ticket.department_id,  # type: ignore[attr-defined]
            changes={"department_id": {"old": world.sales.id, "new": world.support.id}},
        )
        await models.Activity.create(
            kind="ticket.created",
            actor_id=None,
            subject_type="Ticket",
            subject_id=ticket.id,
            ticket_id=ticket.id,
            changes={"subject": ODD},
        )
    return tickets


async def test_threads_comments_and_activities_of_a_page_are_read_as_rows(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    tickets = await _conversation(world)
    path = readpath_of(http)
    with count_statements() as stmts:
        res = await gql.as_(world.admin_token)(LISTS, {"first": 2})
    assert res.errors == [], res.errors
    assert path.compiled == 1, path.fallbacks
    nodes = {n["number"]: n for n in res.data["tickets"]["nodes"]}
    assert sorted(nodes) == [208, 209, 210, 211]
    assert nodes[209]["threads"] == {
        "totalCount": 0,
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "endCursor": None},
        "edges": [],
    }
    threads = nodes[211]["threads"]
    assert threads["totalCount"] == 3 and threads["pageInfo"]["hasNextPage"] is True
    first = threads["edges"][0]["node"]
    assert first["subject"] == f"211/0 {ODD}" and first["cc"] == "boss@example.com"
    assert first["direction"] == "INCOMING" and first["messageId"] == "<211.0@example.com>"
    assert threads["edges"][1]["node"]["messageId"] is None
    comments = nodes[210]["comments"]
    assert comments["totalCount"] == 2
    assert comments["nodes"][0]["author"] == {"name": "A Alice"}
    assert comments["nodes"][0]["ticket"] == {"number": 210}
    assert comments["nodes"][1]["author"] is None
    activities = nodes[208]["activities"]["nodes"]
    assert [a["kind"] for a in activities] == ["ticket.updated", "ticket.created"]
    assert activities[0]["changes"] == {
        "department_id": {
            "old": to_global_id("Department", world.sales.id),
            "new": to_global_id("Department", world.support.id),
        }
    }
    assert activities[0]["actor"] == {"name": "A Alice"} and activities[1]["actor"] is None
    # One statement per list for the whole page, of the selected columns (the loaders of the
    # verifying full run read whole rows: "body_html" and "body" are theirs).
    for table, unread in (("thread", '"body_html"'), ("comment", '"updated_at"')):
        mine = [s for s in stmts.sql if f'FROM "{table}"' in s and unread not in s]
        assert len(mine) == 1, (table, stmts.sql)
    # The next page of one ticket's threads by its cursor, as the full executor pages it.
    after = threads["pageInfo"]["endCursor"]
    res = await gql.as_(world.admin_token)(LISTS, {"first": 2, "after": after})
    assert res.errors == [], res.errors
    rest = {n["number"]: n for n in res.data["tickets"]["nodes"]}[211]["threads"]
    assert [e["node"]["subject"] for e in rest["edges"]] == [f"211/2 {ODD}"]
    assert rest["pageInfo"]["hasPreviousPage"] is True
    assert path.compiled == 2, path.fallbacks
    del tickets


async def test_another_departments_agent_gets_the_lists_of_its_tickets_only(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    tickets = await _conversation(world)
    path = readpath_of(http)
    res = await gql.as_(world.bob_token)(LISTS, {"first": 5})  # Bob: Sales (200, 204, 208)
    assert res.errors == [], res.errors
    assert path.compiled == 1, path.fallbacks
    nodes = res.data["tickets"]["nodes"]
    assert [n["number"] for n in nodes] == [208, 204, 200]
    assert nodes[0]["threads"]["totalCount"] == 3
    assert [n["threads"]["totalCount"] for n in nodes[1:]] == [0, 0]
    # A support ticket's thread by id: hidden from Bob, on the compiled `nodes` too.
    support_thread = await models.Thread.filter(ticket_id=tickets[211].id).first()
    sales_thread = await models.Thread.filter(ticket_id=tickets[208].id).first()
    assert support_thread is not None and sales_thread is not None
    res = await gql.as_(world.bob_token)(
        "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Thread { subject bodyText } } }",
        {"ids": [to_global_id("Thread", t.id) for t in (support_thread, sales_thread)]},
    )
    assert res.errors == [], res.errors
    assert res.data["nodes"][0] is None
    assert res.data["nodes"][1] == {"subject": f"208/0 {ODD}", "bodyText": ODD}
    assert path.compiled == 2, path.fallbacks


async def test_lean_fields_of_list_nodes_and_bad_paging_answer_as_before(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    await _conversation(world)
    path = readpath_of(http)
    # bodyHtml (sanitized by its resolver) and deliveryStatus build the threads' objects.
    res = await gql.as_(world.admin_token)(
        "{ tickets(first: 1, sort: {field: NUMBER, direction: DESC}) { nodes { "
        "threads { nodes { bodyHtml deliveryStatus { status } } } "
        "comments { nodes { subjectId subjectType } } activities { nodes { ticketStatus } } } } }"
    )
    assert res.errors == [], res.errors
    assert path.compiled == 1, path.fallbacks
    ticket = res.data["tickets"]["nodes"][0]
    assert ticket["threads"]["nodes"][0]["bodyHtml"].startswith("<p>He said")
    assert ticket["threads"]["nodes"][0]["deliveryStatus"] is None
    assert ticket["comments"]["nodes"][0]["subjectType"] == "Ticket"
    # A page size over the limit and a tampered cursor: the errors of before, no data.
    for variables in ({"first": 1000}, {"first": 1, "after": "bm90IGEgY3Vyc29y"}):
        bad = await gql.as_(world.admin_token)(LISTS, variables)
        assert bad.body["data"] is None or bad.body["data"]["tickets"] is None
        assert bad.errors and bad.errors[0]["extensions"]["code"] in {
            "BAD_PAGINATION",
            "INVALID_CURSOR",
        }, bad.errors


NOTIFICATIONS = """
query($first: Int, $after: String, $unread: Boolean) {
  me {
    notifications(first: $first, after: $after, unreadOnly: $unread) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node {
        __typename id reason createdAt readAt isRead cursor
        activity { kind changes actor { name } }
        contact { name }
        account { name }
      } }
    }
  }
}
"""


async def test_my_notifications_are_read_as_rows(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    tickets = await _conversation(world)
    ours = [tickets[211].id, tickets[210].id]
    activities = await models.Activity.filter(ticket_id__in=ours).order_by("id")
    account = await models.Account.get(name="Zylker Corp")
    reasons = ("MENTIONED", "ASSIGNED", "FOLLOWING")
    for i, activity in enumerate(activities):  # one per (agent, activity)
        await models.Notification.create(
            agent_id=world.alice.id,
            activity_id=activity.id,
            reason=reasons[i % 3],
            ticket_id=tickets[211].id,
            contact_id=world.contact.id if i % 2 else None,
            account_id=account.id if i == 3 else None,
            read_at=datetime(2026, 3, 2, tzinfo=UTC) if i == 1 else None,
        )
    sales = await models.Activity.filter(ticket_id=tickets[208].id).first()
    assert sales is not None
    await models.Notification.create(agent_id=world.bob.id, activity_id=sales.id, reason="ASSIGNED")
    path = readpath_of(http)
    with count_statements() as stmts:
        res = await gql.as_(world.alice_token)(NOTIFICATIONS, {"first": 3})
    assert res.errors == [], res.errors
    assert path.compiled == 1, path.fallbacks
    page = res.data["me"]["notifications"]
    assert page["totalCount"] == 4 and page["pageInfo"]["hasNextPage"] is True
    nodes = [e["node"] for e in page["edges"]]
    assert [n["reason"] for n in nodes] == ["MENTIONED", "FOLLOWING", "ASSIGNED"]  # newest first
    assert [e["cursor"] for e in page["edges"]] == [n["cursor"] for n in nodes]
    assert nodes[0]["account"] == {"name": "Zylker Corp"} and nodes[1]["account"] is None
    assert nodes[0]["contact"] == {"name": "Melissa Doe"} and nodes[1]["contact"] is None
    assert nodes[2]["isRead"] is True and nodes[2]["readAt"] == "2026-03-02T00:00:00+00:00"
    assert nodes[0]["activity"]["kind"] == "ticket.created"
    assert nodes[1]["activity"]["actor"] == {"name": "A Alice"}
    # The page's statement reads the selected columns (the loaders of the verifying full run
    # read whole rows, the agent and the ticket included).
    mine = [s for s in stmts.sql if s.startswith('SELECT "notification"."id" "id",')]
    assert len(mine) == 1, [s for s in stmts.sql if "notification" in s]
    assert '"notification"."agent_id" "' not in mine[0], mine[0]
    assert '"notification"."ticket_id" "' not in mine[0], mine[0]
    # The rest by cursor, and the unread ones: as the full executor answers them.
    res = await gql.as_(world.alice_token)(
        NOTIFICATIONS, {"first": 3, "after": page["pageInfo"]["endCursor"]}
    )
    assert [e["node"]["reason"] for e in res.data["me"]["notifications"]["edges"]] == ["MENTIONED"]
    res = await gql.as_(world.alice_token)(NOTIFICATIONS, {"first": 10, "unread": True})
    assert len(res.data["me"]["notifications"]["edges"]) == 3
    bob = await gql.as_(world.bob_token)(NOTIFICATIONS, {"first": 10})
    assert [e["node"]["reason"] for e in bob.data["me"]["notifications"]["edges"]] == ["ASSIGNED"]
    assert path.compiled == 4, path.fallbacks


async def test_a_notifications_ticket_is_checked_as_before(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    """`ticket` is null while the agent may not see it: that selection is not compiled (the
    resolvers check it, the lean executor answers), and other agents' notifications stay
    FORBIDDEN."""
    tickets = await _conversation(world)
    for number in (211, 208):  # Support's, then Sales' (Alice may not see it)
        activity = await models.Activity.filter(ticket_id=tickets[number].id).first()
        assert activity is not None
        await models.Notification.create(
            agent_id=world.alice.id,
            activity_id=activity.id,
            reason="FOLLOWING",
            ticket_id=tickets[number].id,
        )
    path = readpath_of(http)
    res = await gql.as_(world.alice_token)(
        "{ me { notifications { nodes { reason ticket { number } } } } }"
    )
    assert res.errors == [], res.errors
    # The Sales ticket's notification is not listed for Alice at all (list_notifications).
    assert res.data["me"]["notifications"]["nodes"] == [
        {"reason": "FOLLOWING", "ticket": {"number": 211}},
    ]
    assert (path.answered, path.compiled) == (1, 0), path.fallbacks
    res = await gql.as_(world.admin_token)("{ agents { nodes { notifications { totalCount } } } }")
    assert res.errors[0]["extensions"]["code"] == "FORBIDDEN", res.errors


async def test_a_contacts_and_an_accounts_comments_and_activities_are_read_as_rows(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    tickets = await _conversation(world)
    account = await models.Account.get(name="Zylker Corp")
    for subject_type, record in (("Contact", world.contact), ("Account", account)):
        for i in range(3):
            await models.Comment.create(
                subject_type=subject_type,
                subject_id=record.id,
                author_id=world.alice.id if i else None,
                body=f"{subject_type} note {i} {ODD}",
            )
    # Activities of the contact (one on a Sales ticket: Alice may not see it) and the account.
    for ticket, dept in ((tickets[211], world.support), (tickets[208], world.sales)):
        await models.Activity.create(
            kind="ticket.updated",
            actor_id=world.alice.id,
            subject_type="Ticket",
            subject_id=ticket.id,
            ticket_id=ticket.id,
            contact_id=world.contact.id,
            account_id=account.id,
            department_id=dept.id,
            changes={"contact_id": {"old": None, "new": world.contact.id}},
        )
    query = """
    { contacts(first: 5) { nodes { name
        comments(first: 2) { totalCount pageInfo { hasNextPage endCursor }
          edges { cursor node { id body author { name } subjectId } } }
        activities { totalCount nodes { id kind changes createdAt actor { name } } }
        account { name comments { nodes { body } } activities(first: 1) { nodes { kind } } }
    } } }
    """
    path = readpath_of(http)
    for token in (world.admin_token, world.alice_token, world.bob_token):
        res = await gql.as_(token)(query)
        assert res.errors == [], res.errors
    assert path.compiled == 3, path.fallbacks
    with count_statements() as stmts:
        res = await gql.as_(world.alice_token)(query)
    # Each list read by a compiled page's statement (one per contact or account); the
    # activities' of the selected columns only (a comment's subjectId is a resolver's: whole
    # rows for those)
    for table in ("comment", "activity"):
        mine = [s for s in stmts.sql if s.startswith(f'SELECT "{table}"."id" "id",')]
        assert len(mine) == 2, (table, [s for s in stmts.sql if f'"{table}"' in s])
    assert not any('"activity"."department_id" "' in s for s in mine), mine
    contact = res.data["contacts"]["nodes"][0]
    assert contact["comments"]["totalCount"] == 3
    assert [e["node"]["body"] for e in contact["comments"]["edges"]] == [
        f"Contact note 0 {ODD}",
        f"Contact note 1 {ODD}",
    ]
    assert contact["comments"]["edges"][0]["node"]["author"] is None
    assert contact["comments"]["edges"][1]["node"]["author"] == {"name": "A Alice"}
    assert contact["comments"]["edges"][0]["node"]["subjectId"] == to_global_id(
        "Contact", world.contact.id
    )
    # Alice (Support) sees the contact's activity on the Support ticket only.
    assert contact["activities"]["totalCount"] == 1
    assert contact["activities"]["nodes"][0]["changes"] == {
        "contact_id": {"old": None, "new": to_global_id("Contact", world.contact.id)}
    }
    assert len(contact["account"]["comments"]["nodes"]) == 3
    assert contact["account"]["activities"]["nodes"] == [{"kind": "ticket.updated"}]
    admin = await gql.as_(world.admin_token)(query)
    assert admin.data["contacts"]["nodes"][0]["activities"]["totalCount"] == 2
    # The next page of the contact's comments by its keyset cursor.
    after = contact["comments"]["pageInfo"]["endCursor"]
    res = await gql.as_(world.alice_token)(
        "query($after: String) { contacts(first: 5) { nodes { comments(first: 2, after: $after) "
        "{ nodes { body } } } } }",
        {"after": after},
    )
    assert res.errors == [], res.errors
    assert res.data["contacts"]["nodes"][0]["comments"]["nodes"] == [
        {"body": f"Contact note 2 {ODD}"}
    ]
    assert path.compiled == 6, path.fallbacks


async def test_a_list_selected_twice_under_aliases_with_other_arguments(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    await _conversation(world)
    path = readpath_of(http)
    res = await gql.as_(world.admin_token)(
        """{ tickets(first: 2, sort: {field: NUMBER, direction: DESC}) { nodes {
          one: threads(first: 1) { nodes { subject } }
          all: threads { totalCount nodes { id cc } }
          comments { nodes { body } }
          again: comments(first: 1) { nodes { author { name } isPublic } }
        } } }"""
    )
    assert res.errors == [], res.errors
    assert path.compiled == 1, path.fallbacks
    first = res.data["tickets"]["nodes"][0]
    assert first["one"]["nodes"] == [{"subject": f"211/0 {ODD}"}]
    assert first["all"]["totalCount"] == 3 and first["all"]["nodes"][0]["cc"] == "boss@example.com"
    assert len(first["comments"]["nodes"]) == 2
    assert first["again"]["nodes"] == [{"author": {"name": "A Alice"}, "isPublic": True}]
