"""ticketCreate/Update/Delete, tags, comments, ticket queries, node lookups and scoping."""

from __future__ import annotations

from typing import Any

from deskql import models
from tests.conftest import GQLClient, World, gid

FIELDS = """
  id number subject description status priority channel version isOverdue dueAt tags
  contact { name email account { name } } account { name } department { name }
  assignee { __typename ... on Agent { email } ... on Team { name } }
"""
CREATE = f"""
mutation($input: TicketCreateInput!) {{
  ticketCreate(input: $input) {{ errors {{ field message code }} ticket {{ {FIELDS} }} }}
}}
"""
UPDATE = f"""
mutation($input: TicketUpdateInput!) {{
  ticketUpdate(input: $input) {{ errors {{ field message code }} ticket {{ {FIELDS} }} }}
}}
"""
TAGS_ADD = """
mutation($id: ID!, $tags: [String!]!) {
  ticketTagsAdd(input: {ticketId: $id, tags: $tags}) {
    errors { field code message } ticket { tags } }
}
"""


async def create(gql: GQLClient, token: str, **fields: Any) -> dict[str, Any]:
    res = await gql.as_(token)(CREATE, {"input": fields})
    return res.data["ticketCreate"]


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def support_ticket(gql: GQLClient, world: World, **extra: Any) -> dict[str, Any]:
    fields = {
        "subject": "Cannot log in",
        "departmentId": gid("Department", world.support.id),
        "contactId": gid("Contact", world.contact.id),
        **extra,
    }
    payload = await create(gql, world.alice_token, **fields)
    assert payload["errors"] == [], payload
    return payload["ticket"]


async def test_create_with_everything(gql: GQLClient, world: World) -> None:
    account = await models.Account.create(name="Zylker Corp")
    await models.Contact.filter(id=world.contact.id).update(account_id=account.id)
    t = await support_ticket(
        gql,
        world,
        description="Since Monday",
        priority="HIGH",
        channel="PHONE",
        dueAt="2020-01-01T10:00:00Z",
        assigneeId=gid("Agent", world.alice.id),
        tags=["login", "VIP"],
    )
    assert t["number"] == 1 and t["version"] == 1
    assert t["priority"] == "HIGH" and t["channel"] == "PHONE" and t["status"] == "OPEN"
    assert t["isOverdue"] is True
    assert t["tags"] == ["login", "vip"]
    assert t["contact"]["account"] == {"name": "Zylker Corp"}
    assert t["account"] == {"name": "Zylker Corp"}  # taken from the contact
    assert t["assignee"] == {"__typename": "Agent", "email": "alice@zylker.com"}
    kinds = await models.Activity.filter(ticket_id__isnull=False).values_list("kind", flat=True)
    assert sorted(kinds) == ["ticket.created", "ticket.tag_added", "ticket.tag_added"]


async def test_numbers_are_sequential(gql: GQLClient, world: World) -> None:
    numbers = [(await support_ticket(gql, world))["number"] for _ in range(3)]
    assert numbers == [1, 2, 3]


async def test_contact_created_from_email(gql: GQLClient, world: World) -> None:
    payload = await create(
        gql,
        world.alice_token,
        subject="Hello",
        departmentId=gid("Department", world.support.id),
        contactEmail="Melissa.New@Example.com",
    )
    assert payload["ticket"]["contact"]["email"] == "melissa.new@example.com"
    # The same email again finds the same contact.
    again = await create(
        gql,
        world.alice_token,
        subject="Again",
        departmentId=gid("Department", world.support.id),
        contactEmail="melissa.new@example.com",
    )
    assert again["ticket"]["contact"]["email"] == "melissa.new@example.com"
    assert await models.Contact.filter(email="melissa.new@example.com").count() == 1


async def test_bad_create_inputs_write_nothing(gql: GQLClient, world: World) -> None:
    dept = gid("Department", world.support.id)
    contact = gid("Contact", world.contact.id)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"subject": "", "departmentId": dept, "contactId": contact}, "subject", "REQUIRED"),
        ({"subject": "x" * 256, "departmentId": dept, "contactId": contact}, "subject", "TOO_LONG"),
        (
            {"subject": "a\r\nBcc: x", "departmentId": dept, "contactId": contact},
            "subject",
            "INVALID",
        ),
        (
            {"subject": "ok", "departmentId": "garbage!", "contactId": contact},
            "departmentId",
            "INVALID",
        ),
        (
            {"subject": "ok", "departmentId": contact, "contactId": contact},
            "departmentId",
            "INVALID",
        ),
        (
            {"subject": "ok", "departmentId": gid("Department", 999), "contactId": contact},
            "departmentId",
            "NOT_FOUND",
        ),
        (
            {"subject": "ok", "departmentId": dept, "contactId": gid("Contact", 999)},
            "contactId",
            "NOT_FOUND",
        ),
        ({"subject": "ok", "departmentId": dept}, "contactId", "REQUIRED"),
        (
            {"subject": "ok", "departmentId": dept, "contactEmail": "not-an-email"},
            "contactEmail",
            "INVALID_EMAIL",
        ),
        (
            {"subject": "ok", "departmentId": dept, "contactEmail": "a@b.com\r\nBcc: c@d.com"},
            "contactEmail",
            "INVALID",
        ),
        (
            {"subject": "ok", "departmentId": dept, "contactId": contact, "tags": ["has space"]},
            "tags",
            "INVALID",
        ),
        (
            {"subject": "ok", "departmentId": dept, "contactId": contact, "tags": ["a" * 51]},
            "tags",
            "TOO_LONG",
        ),
        (
            {
                "subject": "ok",
                "departmentId": dept,
                "contactId": contact,
                "tags": [f"t{i}" for i in range(11)],
            },
            "tags",
            "LIMIT_EXCEEDED",
        ),
        (
            {
                "subject": "ok",
                "departmentId": dept,
                "contactId": contact,
                "assigneeId": gid("Agent", world.bob.id),
            },
            "assigneeId",
            "INVALID",
        ),
        (
            {
                "subject": "ok",
                "departmentId": dept,
                "contactId": contact,
                "assigneeId": gid("Contact", world.contact.id),
            },
            "assigneeId",
            "INVALID",
        ),
    ]
    for fields, field, code in cases:
        payload = await create(gql, world.alice_token, **fields)
        assert payload["ticket"] is None, fields
        assert (payload["errors"][0]["field"], payload["errors"][0]["code"]) == (field, code), (
            fields,
            payload["errors"],
        )
    assert await models.Ticket.all().count() == 0
    assert await models.Tag.all().count() == 0
    assert await models.Contact.all().count() == 1
    assert await models.Activity.filter(ticket_id__isnull=False).count() == 0


async def test_unknown_enum_value_is_a_graphql_error(gql: GQLClient, world: World) -> None:
    res = await gql.as_(world.alice_token)(
        CREATE,
        {
            "input": {
                "subject": "x",
                "departmentId": gid("Department", world.support.id),
                "contactId": gid("Contact", world.contact.id),
                "priority": "SUPER_URGENT",
            }
        },
    )
    assert res.body.get("data") is None
    assert "SUPER_URGENT" in res.errors[0]["message"]
    assert await models.Ticket.all().count() == 0


async def test_agent_cannot_create_in_another_department(gql: GQLClient, world: World) -> None:
    payload = await create(
        gql,
        world.alice_token,
        subject="x",
        departmentId=gid("Department", world.sales.id),
        contactId=gid("Contact", world.contact.id),
    )
    assert codes(payload) == ["NOT_FOUND"]
    assert await models.Ticket.all().count() == 0


async def test_update_with_version_and_conflict(gql: GQLClient, world: World) -> None:
    t = await support_ticket(gql, world)
    alice = gql.as_(world.alice_token)
    res = await alice(
        UPDATE,
        {"input": {"id": t["id"], "version": 1, "status": "ON_HOLD", "priority": "URGENT"}},
    )
    updated = res.data["ticketUpdate"]["ticket"]
    assert updated["version"] == 2 and updated["status"] == "ON_HOLD"
    assert updated["priority"] == "URGENT"
    # A second writer still holding version 1 gets a conflict, and nothing changes.
    res = await alice(UPDATE, {"input": {"id": t["id"], "version": 1, "status": "CLOSED"}})
    payload = res.data["ticketUpdate"]
    assert codes(payload) == ["CONFLICT"] and payload["ticket"] is None
    row = await models.Ticket.get(id=world_ticket_pk(t))
    assert row.status.value == "ON_HOLD" and row.version == 2 and row.closed_at is None
    activity = await models.Activity.filter(kind="ticket.updated").first()
    assert activity is not None
    assert activity.changes == {
        "status": {"old": "OPEN", "new": "ON_HOLD"},
        "priority": {"old": "MEDIUM", "new": "URGENT"},
    }


def world_ticket_pk(t: dict[str, Any]) -> int:
    from deskql.schema.ids import decode_id

    return decode_id(t["id"], "Ticket")


async def test_update_clears_and_closes(gql: GQLClient, world: World) -> None:
    t = await support_ticket(gql, world, dueAt="2030-01-01T00:00:00Z")
    res = await gql.as_(world.alice_token)(
        UPDATE, {"input": {"id": t["id"], "version": 1, "dueAt": None, "status": "CLOSED"}}
    )
    u = res.data["ticketUpdate"]["ticket"]
    assert u["dueAt"] is None and u["status"] == "CLOSED"
    row = await models.Ticket.get(id=world_ticket_pk(t))
    assert row.closed_at is not None


async def test_bad_updates_write_nothing(gql: GQLClient, world: World) -> None:
    t = await support_ticket(gql, world)
    alice = gql.as_(world.alice_token)
    cases = [
        ({"subject": ""}, "subject", "REQUIRED"),
        ({"subject": "y" * 300}, "subject", "TOO_LONG"),
        ({"status": None}, "status", "REQUIRED"),
        ({"contactId": None}, "contactId", "REQUIRED"),
        ({"assigneeId": gid("Agent", world.bob.id)}, "assigneeId", "INVALID"),
        ({"departmentId": gid("Department", world.sales.id)}, "departmentId", "NOT_FOUND"),
        ({"productId": gid("Product", 5)}, "productId", "NOT_FOUND"),
    ]
    for change, field, code in cases:
        res = await alice(UPDATE, {"input": {"id": t["id"], "version": 1, **change}})
        payload = res.data["ticketUpdate"]
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)], change
    row = await models.Ticket.get(id=world_ticket_pk(t))
    assert row.version == 1 and row.subject == "Cannot log in"
    assert await models.Activity.filter(kind="ticket.updated").count() == 0


async def test_deactivated_assignee_refused(gql: GQLClient, world: World) -> None:
    await models.Agent.filter(id=world.bob.id).update(is_active=False)
    await models.DepartmentMembership.create(agent_id=world.bob.id, department_id=world.support.id)
    t = await support_ticket(gql, world)
    res = await gql.as_(world.alice_token)(
        UPDATE, {"input": {"id": t["id"], "version": 1, "assigneeId": gid("Agent", world.bob.id)}}
    )
    assert codes(res.data["ticketUpdate"]) == ["INVALID"]


async def test_team_assignment(gql: GQLClient, world: World) -> None:
    team = await models.Team.create(name="Tier 2", department_id=world.support.id)
    other = await models.Team.create(name="Closers", department_id=world.sales.id)
    t = await support_ticket(gql, world, assigneeId=gid("Team", team.id))
    assert t["assignee"] == {"__typename": "Team", "name": "Tier 2"}
    res = await gql.as_(world.alice_token)(
        UPDATE, {"input": {"id": t["id"], "version": 1, "assigneeId": gid("Team", other.id)}}
    )
    assert codes(res.data["ticketUpdate"]) == ["INVALID"]
    res = await gql.as_(world.alice_token)(
        UPDATE, {"input": {"id": t["id"], "version": 1, "assigneeId": None}}
    )
    assert res.data["ticketUpdate"]["ticket"]["assignee"] is None


async def test_tags_rules(gql: GQLClient, world: World) -> None:
    t = await support_ticket(gql, world, tags=[f"t{i}" for i in range(8)])
    alice = gql.as_(world.alice_token)
    res = await alice(TAGS_ADD, {"id": t["id"], "tags": ["t0", "new1", "new2"]})
    assert len(res.data["ticketTagsAdd"]["ticket"]["tags"]) == 10
    # An 11th tag: refused, nothing added.
    res = await alice(TAGS_ADD, {"id": t["id"], "tags": ["eleventh"]})
    assert codes(res.data["ticketTagsAdd"]) == ["LIMIT_EXCEEDED"]
    assert not await models.Tag.exists(name="eleventh")
    for bad, code in [
        ("with space", "INVALID"),
        ("x" * 51, "TOO_LONG"),
        ("łódź", "INVALID"),
        ("", "REQUIRED"),
        ("semi;colon", "INVALID"),
    ]:
        res = await alice(TAGS_ADD, {"id": t["id"], "tags": [bad]})
        assert codes(res.data["ticketTagsAdd"]) == [code], bad
    # Removing frees a place; there is no rename.
    remove = """mutation($id: ID!) { ticketTagRemove(input: {ticketId: $id, tag: "t1"}) {
      errors { code } ticket { tags } } }"""
    res = await alice(remove, {"id": t["id"]})
    assert "t1" not in res.data["ticketTagRemove"]["ticket"]["tags"]
    res = await alice(remove, {"id": t["id"]})
    assert codes(res.data["ticketTagRemove"]) == ["NOT_FOUND"]
    res = await alice(TAGS_ADD, {"id": t["id"], "tags": ["eleventh"]})
    assert "eleventh" in res.data["ticketTagsAdd"]["ticket"]["tags"]
    schema_text = (await alice('{ __type(name: "Mutation") { fields { name } } }')).data
    names = {f["name"] for f in schema_text["__type"]["fields"]}
    assert not any("tagrename" in n.lower() or "tagupdate" in n.lower() for n in names)


async def test_comments(gql: GQLClient, world: World) -> None:
    t = await support_ticket(gql, world)
    add = """mutation($id: ID!, $body: String!, $pub: Boolean!) {
      commentAdd(input: {ticketId: $id, body: $body, isPublic: $pub}) {
        errors { field code } comment { body isPublic author { email } }
        ticket { comments { nodes { body } } } } }"""
    alice = gql.as_(world.alice_token)
    res = await alice(add, {"id": t["id"], "body": "Called the customer\nback", "pub": False})
    payload = res.data["commentAdd"]
    assert payload["comment"] == {
        "body": "Called the customer\nback",
        "isPublic": False,
        "author": {"email": "alice@zylker.com"},
    }
    assert payload["ticket"]["comments"]["nodes"] == [{"body": "Called the customer\nback"}]
    res = await alice(add, {"id": t["id"], "body": "   ", "pub": True})
    assert codes(res.data["commentAdd"]) == ["REQUIRED"]
    # Bob (Sales) cannot comment on a Support ticket: as if it did not exist.
    res = await gql.as_(world.bob_token)(add, {"id": t["id"], "body": "hi", "pub": True})
    assert codes(res.data["commentAdd"]) == ["NOT_FOUND"]
    assert await models.Comment.all().count() == 1


async def test_delete(gql: GQLClient, world: World) -> None:
    t = await support_ticket(gql, world, tags=["x"])
    delete = """mutation($id: ID!) { ticketDelete(input: {id: $id}) {
      errors { code } ticket { number subject } } }"""
    res = await gql.as_(world.bob_token)(delete, {"id": t["id"]})
    assert codes(res.data["ticketDelete"]) == ["NOT_FOUND"]
    res = await gql.as_(world.alice_token)(delete, {"id": t["id"]})
    assert res.data["ticketDelete"]["ticket"] == {"number": 1, "subject": "Cannot log in"}
    assert await models.Ticket.all().count() == 0
    assert await models.TicketTag.all().count() == 0
    assert await models.Activity.filter(kind="ticket.deleted").count() == 1


async def test_scoping_of_reads(gql: GQLClient, world: World) -> None:
    t = await support_ticket(gql, world)
    bob = gql.as_(world.bob_token)
    res = await bob(
        "query($id: ID!) { node(id: $id) { id } ticket(id: $id) { id } }", {"id": t["id"]}
    )
    assert res.data == {"node": None, "ticket": None}
    res = await bob("{ ticket(number: 1) { id } tickets { totalCount } }")
    assert res.data == {"ticket": None, "tickets": {"totalCount": 0}}
    contact = gid("Contact", world.contact.id)
    res = await bob(
        "query($id: ID!) { node(id: $id) { ... on Contact { tickets { nodes { id } } } } }",
        {"id": contact},
    )
    assert res.data["node"]["tickets"]["nodes"] == []
    admin = gql.as_(world.admin_token)
    res = await admin(
        "query($id: ID!) { node(id: $id) { ... on Ticket { number } } }", {"id": t["id"]}
    )
    assert res.data["node"] == {"number": 1}
    res = await gql.as_(world.alice_token)(
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }",
        {"ids": [t["id"], gid("Ticket", 999), contact, gid("Department", world.sales.id)]},
    )
    assert [n and n["__typename"] for n in res.data["nodes"]] == ["Ticket", None, "Contact", None]


async def test_malformed_and_wrong_type_ids(gql: GQLClient, world: World) -> None:
    alice = gql.as_(world.alice_token)
    for bad in ["", "x", "!!!", "VGlja2V0OmFiYw", "Tm9wZTox"]:
        res = await alice("query($id: ID!) { node(id: $id) { id } }", {"id": bad})
        assert res.error_codes() == ["INVALID_ID"], bad
    res = await alice("query($id: ID!) { ticket(id: $id) { id } }", {"id": gid("Contact", 1)})
    assert res.error_codes() == ["INVALID_ID"]
    assert "expected a Ticket id" in res.errors[0]["message"]


async def test_list_filters_and_sort(gql: GQLClient, world: World) -> None:
    admin = gql.as_(world.admin_token)
    team = await models.Team.create(name="T", department_id=world.sales.id)
    await support_ticket(gql, world, subject="Alpha printer", priority="LOW", tags=["hw"])
    await support_ticket(
        gql,
        world,
        subject="Beta",
        priority="URGENT",
        assigneeId=gid("Agent", world.alice.id),
        dueAt="2001-01-01T00:00:00Z",
    )
    other = await create(
        gql,
        world.bob_token,
        subject="Gamma printer",
        departmentId=gid("Department", world.sales.id),
        contactEmail="z@example.com",
        assigneeId=gid("Team", team.id),
    )
    assert other["errors"] == []

    async def numbers(flt: dict[str, Any], sort: dict[str, Any] | None = None) -> list[int]:
        res = await admin(
            "query($f: TicketFilter, $s: TicketSort) { tickets(filter: $f, sort: $s) {"
            " totalCount edges { node { number } } } }",
            {"f": flt, "s": sort},
        )
        conn = res.data["tickets"]
        assert conn["totalCount"] == len(conn["edges"])
        return [e["node"]["number"] for e in conn["edges"]]

    assert await numbers({}) == [3, 2, 1]
    assert await numbers({}, {"field": "PRIORITY", "direction": "DESC"}) == [2, 3, 1]
    assert await numbers({"text": "PRINTER"}) == [3, 1]
    assert await numbers({"tag": "hw"}) == [1]
    assert await numbers({"unassigned": True}) == [1]
    assert await numbers({"unassigned": False}) == [3, 2]
    assert await numbers({"overdue": True}) == [2]
    assert await numbers({"priority": ["LOW", "URGENT"]}) == [2, 1]
    assert await numbers({"departmentIds": [gid("Department", world.sales.id)]}) == [3]
    assert await numbers({"assigneeIds": [gid("Agent", world.alice.id), gid("Team", team.id)]}) == [
        3,
        2,
    ]
    assert await numbers({"contactId": gid("Contact", world.contact.id)}) == [2, 1]
    assert (
        await numbers(
            {"createdAfter": "2000-01-01T00:00:00Z", "createdBefore": "2001-01-01T00:00:00Z"}
        )
        == []
    )
    assert await numbers({"status": ["CLOSED"]}) == []


async def test_pagination(gql: GQLClient, world: World) -> None:
    for _ in range(5):
        await support_ticket(gql, world)
    admin = gql.as_(world.admin_token)
    q = """query($after: String) {
      tickets(first: 2, after: $after, sort: {field: NUMBER, direction: ASC}) {
      totalCount pageInfo { hasNextPage hasPreviousPage endCursor } nodes { number } } }"""
    seen: list[int] = []
    after = None
    while True:
        conn = (await admin(q, {"after": after})).data["tickets"]
        assert conn["totalCount"] == 5
        seen += [n["number"] for n in conn["nodes"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert seen == [1, 2, 3, 4, 5]


async def test_moving_department_unassigns_unless_an_assignee_is_given(
    gql: GQLClient, world: World
) -> None:
    t = await support_ticket(gql, world, assigneeId=gid("Agent", world.alice.id))
    admin = gql.as_(world.admin_token)
    res = await admin(
        UPDATE,
        {"input": {"id": t["id"], "version": 1, "departmentId": gid("Department", world.sales.id)}},
    )
    moved = res.data["ticketUpdate"]["ticket"]
    assert moved["department"] == {"name": "Sales"} and moved["assignee"] is None
    res = await admin(
        UPDATE,
        {
            "input": {
                "id": t["id"],
                "version": 2,
                "departmentId": gid("Department", world.support.id),
                "assigneeId": gid("Agent", world.alice.id),
            }
        },
    )
    back = res.data["ticketUpdate"]["ticket"]
    assert back["assignee"] == {"__typename": "Agent", "email": "alice@zylker.com"}
    # Alice lost sight of it while it was in Sales and sees it again now.
    res = await gql.as_(world.alice_token)(
        "query($id: ID!) { ticket(id: $id) { number } }", {"id": t["id"]}
    )
    assert res.data["ticket"] == {"number": 1}
