"""GraphQL: follow/unfollow, followers, me.following, me.notifications, mark read, activity
connections (TIC-13, COL-2, COL-3)."""

from __future__ import annotations

from typing import Any

from deskql import models
from deskql.services import auth, tickets
from tests.conftest import GQLClient, World, gid

FOLLOW = """
mutation($id: ID!) { ticketFollow(input: {ticketId: $id}) {
  errors { field code } following ticket { id followers { totalCount nodes { id } } } } }
"""
UNFOLLOW = """
mutation($id: ID!) { ticketUnfollow(input: {ticketId: $id}) { errors { field code } following } }
"""
NOTES = """
query($first: Int, $after: String, $unread: Boolean, $newer: String) {
  me { notifications(first: $first, after: $after, unreadOnly: $unread, newerThan: $newer) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id reason isRead cursor activity { kind } ticket { id }
                          contact { id } } } } }
  unreadNotificationCount
}
"""


async def _ticket(world: World, **kwargs: Any) -> models.Ticket:
    actor = await auth.load_actor(world.admin.id)
    return await tickets.create_ticket(
        actor,
        subject="Printer on fire",
        department_id=world.support.id,
        contact_id=world.contact.id,
        **kwargs,
    )


async def _comment(world: World, ticket: models.Ticket, body: str) -> None:
    await tickets.add_comment(await auth.load_actor(world.admin.id), ticket_id=ticket.id, body=body)


async def test_follow_and_unfollow_a_ticket(gql: GQLClient, world: World) -> None:
    ticket = await _ticket(world)
    as_alice = gql.as_(world.alice_token)
    result = await as_alice(FOLLOW, {"id": gid("Ticket", ticket.id)})
    payload = result.data["ticketFollow"]
    assert payload["errors"] == [] and payload["following"] is True
    assert payload["ticket"]["followers"]["nodes"] == [{"id": gid("Agent", world.alice.id)}]
    result = await as_alice(
        "{ me { following { tickets { nodes { id } } contacts { nodes { id } } "
        "accounts { nodes { id } } } } }"
    )
    assert result.data["me"]["following"]["tickets"]["nodes"] == [{"id": gid("Ticket", ticket.id)}]
    result = await as_alice(UNFOLLOW, {"id": gid("Ticket", ticket.id)})
    assert result.data["ticketUnfollow"] == {"errors": [], "following": False}
    assert not await models.Follow.exists(agent_id=world.alice.id)


async def test_follow_refuses_hidden_tickets_and_wrong_ids(gql: GQLClient, world: World) -> None:
    ticket = await _ticket(world)
    as_bob = gql.as_(world.bob_token)
    result = await as_bob(FOLLOW, {"id": gid("Ticket", ticket.id)})
    assert result.data["ticketFollow"]["errors"] == [{"field": "ticketId", "code": "NOT_FOUND"}]
    result = await as_bob(FOLLOW, {"id": gid("Contact", world.contact.id)})
    assert result.data["ticketFollow"]["errors"] == [{"field": "ticketId", "code": "INVALID"}]
    result = await as_bob(FOLLOW, {"id": "%%%"})
    assert result.data["ticketFollow"]["errors"] == [{"field": "ticketId", "code": "INVALID"}]
    assert await models.Follow.all().count() == 0
    result = await gql(FOLLOW, {"id": gid("Ticket", ticket.id)})
    assert result.error_codes() == ["UNAUTHENTICATED"]


async def test_follow_contacts_and_accounts(gql: GQLClient, world: World) -> None:
    account = await models.Account.create(name="Zylker Ltd")
    as_bob = gql.as_(world.bob_token)
    result = await as_bob(
        """mutation($c: ID!, $a: ID!) {
          c: contactFollow(input: {contactId: $c}) { errors { code } following
               contact { followers { nodes { id } } } }
          a: accountFollow(input: {accountId: $a}) { errors { code } following
               account { followers { totalCount } } }
          x: accountFollow(input: {accountId: $c}) { errors { field code } } }""",
        {"c": gid("Contact", world.contact.id), "a": gid("Account", account.id)},
    )
    data = result.data
    assert data["c"]["contact"]["followers"]["nodes"] == [{"id": gid("Agent", world.bob.id)}]
    assert data["a"]["account"]["followers"]["totalCount"] == 1
    assert data["x"]["errors"] == [{"field": "accountId", "code": "INVALID"}]
    result = await as_bob(
        """mutation($c: ID!, $a: ID!) {
          c: contactUnfollow(input: {contactId: $c}) { following }
          a: accountUnfollow(input: {accountId: $a}) { following } }""",
        {"c": gid("Contact", world.contact.id), "a": gid("Account", account.id)},
    )
    assert result.data == {"c": {"following": False}, "a": {"following": False}}
    assert await models.Follow.all().count() == 0


async def test_notifications_newest_first_with_stable_cursors(gql: GQLClient, world: World) -> None:
    ticket = await _ticket(world)
    as_alice = gql.as_(world.alice_token)
    await as_alice(FOLLOW, {"id": gid("Ticket", ticket.id)})
    for i in range(5):
        await _comment(world, ticket, f"c{i}")
    page = (await as_alice(NOTES, {"first": 2})).data
    conn = page["me"]["notifications"]
    assert conn["totalCount"] == 5 and page["unreadNotificationCount"] == 5
    assert conn["pageInfo"]["hasNextPage"] is True
    first_ids = [e["node"]["id"] for e in conn["edges"]]
    node = conn["edges"][0]["node"]
    assert node["reason"] == "FOLLOWING" and node["activity"]["kind"] == "ticket.comment_added"
    assert node["ticket"] == {"id": gid("Ticket", ticket.id)}
    assert node["contact"] == {"id": gid("Contact", world.contact.id)}
    # A new notification arrives: the next page is still exactly the older three.
    await _comment(world, ticket, "late")
    rest = (await as_alice(NOTES, {"first": 10, "after": conn["pageInfo"]["endCursor"]})).data
    rest_ids = [e["node"]["id"] for e in rest["me"]["notifications"]["edges"]]
    assert len(rest_ids) == 3 and not set(rest_ids) & set(first_ids)
    # Catch-up: exactly what came after the newest one seen.
    missed = (await as_alice(NOTES, {"newer": conn["edges"][0]["cursor"]})).data
    assert [e["node"]["id"] for e in missed["me"]["notifications"]["edges"]] == [
        gid("Notification", max(await models.Notification.all().values_list("id", flat=True)))
    ]


BACK = """
query($first: Int, $after: String, $last: Int, $before: String) {
  me { notifications(first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { id } } }
}
"""


async def test_notifications_page_backward_with_last_and_before(
    gql: GQLClient, world: World
) -> None:
    ticket = await _ticket(world)
    as_alice = gql.as_(world.alice_token)
    await as_alice(FOLLOW, {"id": gid("Ticket", ticket.id)})
    for i in range(6):
        await _comment(world, ticket, f"c{i}")
    ids = [
        gid("Notification", pk)
        for pk in await models.Notification.filter(agent_id=world.alice.id)
        .order_by("-id")
        .values_list("id", flat=True)
    ]
    assert len(ids) == 6
    # `last` alone: the end of the feed, its oldest, still newest first.
    conn = (await as_alice(BACK, {"last": 2})).data["me"]["notifications"]
    assert [n["id"] for n in conn["nodes"]] == ids[4:]
    assert conn["pageInfo"]["hasPreviousPage"] is True
    assert conn["pageInfo"]["hasNextPage"] is False
    # Walking back to the newest gives the whole feed in order.
    seen = [n["id"] for n in conn["nodes"]]
    while conn["pageInfo"]["hasPreviousPage"]:
        before = conn["pageInfo"]["startCursor"]
        conn = (await as_alice(BACK, {"last": 2, "before": before})).data["me"]["notifications"]
        assert conn["pageInfo"]["hasNextPage"] is True
        seen = [n["id"] for n in conn["nodes"]] + seen
    assert seen == ids
    # Between two cursors, forward and backward alike.
    whole = (await as_alice(BACK, {"first": 6})).data["me"]["notifications"]
    cursors = (await as_alice(NOTES, {"first": 6})).data["me"]["notifications"]["edges"]
    assert [n["id"] for n in whole["nodes"]] == ids
    after, before = cursors[0]["cursor"], cursors[4]["cursor"]
    for page in ({"first": 10}, {"last": 10}):
        conn = (await as_alice(BACK, {**page, "after": after, "before": before})).data
        assert [n["id"] for n in conn["me"]["notifications"]["nodes"]] == ids[1:4]
    # A notification arriving meanwhile lands at the start, ahead of every cursor.
    await _comment(world, ticket, "late")
    conn = (await as_alice(BACK, {"last": 3, "before": cursors[2]["cursor"]})).data
    assert [n["id"] for n in conn["me"]["notifications"]["nodes"]][1:] == ids[:2]
    result = await as_alice(BACK, {"last": 2, "before": "bm90LWEtY3Vyc29y"})
    assert result.error_codes() == ["BAD_PAGINATION"]
    result = await as_alice(BACK, {"first": 1, "last": 2})
    assert result.error_codes() == ["BAD_PAGINATION"]


async def test_notifications_only_on_me_and_bad_cursors(gql: GQLClient, world: World) -> None:
    as_alice = gql.as_(world.alice_token)
    result = await as_alice(
        "query($id: ID!) { node(id: $id) { ... on Agent { notifications { totalCount } } } }",
        {"id": gid("Agent", world.alice.id)},
    )
    assert result.errors == []
    result = await gql.as_(world.admin_token)(
        "query($id: ID!) { node(id: $id) { ... on Agent { notifications { totalCount } } } }",
        {"id": gid("Agent", world.alice.id)},
    )
    assert result.error_codes() == ["FORBIDDEN"]
    result = await as_alice(NOTES, {"after": "bm90LWEtY3Vyc29y"})
    assert result.error_codes() == ["BAD_PAGINATION"]
    result = await as_alice(NOTES, {"first": 1000})
    assert result.error_codes() == ["BAD_PAGINATION"]


async def test_mark_read_and_mark_all_read(gql: GQLClient, world: World) -> None:
    ticket = await _ticket(world)
    as_alice = gql.as_(world.alice_token)
    await as_alice(FOLLOW, {"id": gid("Ticket", ticket.id)})
    for i in range(3):
        await _comment(world, ticket, f"c{i}")
    ids = [
        gid("Notification", pk)
        for pk in await models.Notification.all().values_list("id", flat=True)
    ]
    mark = """mutation($ids: [ID!]!) { notificationMarkRead(input: {ids: $ids}) {
                errors { field code } unreadCount notifications { id isRead } } }"""
    result = await as_alice(mark, {"ids": ids[:1]})
    payload = result.data["notificationMarkRead"]
    assert payload["unreadCount"] == 2 and payload["notifications"] == [
        {"id": ids[0], "isRead": True}
    ]
    # Another agent's ids and ids of the wrong type are refused, nothing is marked.
    result = await gql.as_(world.admin_token)(mark, {"ids": ids[1:2]})
    assert result.data["notificationMarkRead"]["errors"] == [{"field": "ids", "code": "NOT_FOUND"}]
    result = await as_alice(mark, {"ids": [gid("Ticket", 1)]})
    assert result.data["notificationMarkRead"]["errors"] == [{"field": "ids", "code": "INVALID"}]
    assert await models.Notification.filter(read_at__isnull=True).count() == 2
    result = await as_alice(
        """mutation { notificationMarkAllRead(input: {}) { errors { code } marked unreadCount } }"""
    )
    assert result.data["notificationMarkAllRead"] == {"errors": [], "marked": 2, "unreadCount": 0}


async def test_activity_connections(gql: GQLClient, world: World) -> None:
    account = await models.Account.create(name="Zylker Ltd")
    ticket = await _ticket(world, account_id=account.id)
    await _comment(world, ticket, "hello")
    query = """query($t: ID!, $c: ID!, $a: ID!) {
      t: node(id: $t) { ... on Ticket { activityHistory(first: 1) { totalCount
           pageInfo { hasNextPage } nodes { kind changes actor { id } } } } }
      c: node(id: $c) { ... on Contact { activities { totalCount nodes { kind } } } }
      a: node(id: $a) { ... on Account { activities { nodes { kind subjectId } } } } }"""
    variables = {
        "t": gid("Ticket", ticket.id),
        "c": gid("Contact", world.contact.id),
        "a": gid("Account", account.id),
    }
    data = (await gql.as_(world.alice_token)(query, variables)).data
    history = data["t"]["activityHistory"]
    assert history["totalCount"] == 2 and history["pageInfo"]["hasNextPage"] is True
    assert history["nodes"][0]["kind"] == "ticket.comment_added"
    assert history["nodes"][0]["actor"] == {"id": gid("Agent", world.admin.id)}
    assert [n["kind"] for n in data["c"]["activities"]["nodes"]] == [
        "ticket.comment_added",
        "ticket.created",
    ]
    assert data["a"]["activities"]["nodes"][1]["subjectId"] == gid("Ticket", ticket.id)
    # Bob (Sales) sees the contact but not the Support ticket's history on it.
    data = (await gql.as_(world.bob_token)(query, variables)).data
    assert data["t"] is None
    assert data["c"]["activities"]["totalCount"] == 0


async def test_ids_in_activity_changes_are_global_ids(gql: GQLClient, world: World) -> None:
    ticket = await _ticket(world)
    admin = await auth.load_actor(world.admin.id)
    comment = await tickets.add_comment(admin, ticket_id=ticket.id, body="moving it")
    await tickets.update_ticket(
        admin,
        ticket_id=ticket.id,
        version=ticket.version,
        changes={"department_id": world.sales.id, "assignee_agent_id": world.bob.id},
    )
    query = """query($t: ID!) { node(id: $t) { ... on Ticket {
      activityHistory(first: 2) { nodes { kind changes } } } } }"""
    data = (await gql.as_(world.admin_token)(query, {"t": gid("Ticket", ticket.id)})).data
    updated, commented = data["node"]["activityHistory"]["nodes"]
    assert updated["kind"] == "ticket.updated"
    assert updated["changes"]["department_id"] == {
        "old": gid("Department", world.support.id),
        "new": gid("Department", world.sales.id),
    }
    assert updated["changes"]["assignee_agent_id"] == {
        "old": None,
        "new": gid("Agent", world.bob.id),
    }
    assert commented["changes"] == {"commentId": gid("Comment", comment.id), "isPublic": False}
    # Each of them resolves with node(id:), like every other id of the API.
    nodes = await gql.as_(world.admin_token)(
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename } }",
        {"ids": [updated["changes"]["department_id"]["new"], commented["changes"]["commentId"]]},
    )
    assert nodes.data["nodes"] == [{"__typename": "Department"}, {"__typename": "Comment"}]
    # The row keeps the database ids.
    row = await models.Activity.filter(ticket_id=ticket.id, kind="ticket.updated").first()
    assert row is not None and row.changes["department_id"]["new"] == world.sales.id


def test_public_changes_converts_only_the_id_keys() -> None:
    from deskql.schema.ids import public_changes, unmapped_id_keys

    changes = {
        "product_ids": {"old": [1, 2], "new": []},
        "owner_id": None,
        "actions": [{"type": "ASSIGN", "agent_id": 3, "team_id": None}],
        "emails": [{"templateId": 4, "threadId": 5}],
        "messageId": "<a@b>",
        "number": 7,
        "isSpam": {"old": False, "new": True},
    }
    assert public_changes(changes) == {
        "product_ids": {"old": [gid("Product", 1), gid("Product", 2)], "new": []},
        "owner_id": None,
        "actions": [{"type": "ASSIGN", "agent_id": gid("Agent", 3), "team_id": None}],
        "emails": [{"templateId": gid("EmailTemplate", 4), "threadId": gid("Thread", 5)}],
        "messageId": "<a@b>",
        "number": 7,
        "isSpam": {"old": False, "new": True},
    }
    assert unmapped_id_keys(changes) == set()
    assert unmapped_id_keys({"moved": [{"widget_id": 1, "gadgetIds": [2]}]}) == {
        "widget_id",
        "gadgetIds",
    }
