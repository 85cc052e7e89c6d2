"""`node` and `nodes` on the compiled read path: objects of the compiled types (tickets,
contacts, accounts, agents, teams, departments, products) read as rows of the selected columns,
scoped by the same visible() query as always (ORG-5), the others converted as always. The suite
runs with readpath_verify, so each answer here is also compared byte for byte with the full
executor's."""

from __future__ import annotations

import httpx

from deskql import models
from deskql.db import count_statements
from deskql.models.enums import Role
from deskql.schema.ids import to_global_id
from tests.conftest import GQLClient, World, make_agent
from tests.readpath.test_compiled import seed
from tests.readpath.test_lean import readpath_of

NODES = """
query($ids: [ID!]!) {
  nodes(ids: $ids) {
    __typename
    id
    ... on Ticket {
      number subject status dueAt isOverdue tags
      contact { name account { name } }
      assignee { __typename ... on Agent { name } ... on Team { name department { name } } }
    }
    ... on Contact { name email account { name owner { name } } }
    ... on Account { name website owner { id name } }
    ... on Agent { name firstName email }
    ... on Department { name }
    ... on Task { title }
  }
}
"""


async def _ticket(number: int) -> models.Ticket:
    found = await models.Ticket.get(number=number)
    return found


def _gid(row: models.Model) -> str:
    return to_global_id(type(row).__name__, row.pk)


async def test_nodes_of_compiled_types_are_read_as_rows(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    await seed(world)
    path = readpath_of(http)
    t210, t209 = await _ticket(210), await _ticket(207)
    account = await models.Account.get(name="Zylker Corp")
    task = await models.Task.create(
        title="Call back", ticket_id=t210.id, department_id=t210.department_id
    )
    ids = [
        _gid(t210),
        _gid(world.contact),
        _gid(account),
        _gid(world.alice),
        _gid(world.support),
        _gid(task),
        _gid(t209),
        to_global_id("Ticket", 999999),  # names nothing
        _gid(t210),  # asked twice
    ]
    with count_statements() as stmts:
        res = await gql.as_(world.admin_token)(NODES, {"ids": ids})
    assert res.errors == [], res.errors
    assert path.compiled == 1, path.fallbacks
    got = res.data["nodes"]
    assert [n and n["__typename"] for n in got] == [
        "Ticket",
        "Contact",
        "Account",
        "Agent",
        "Department",
        "Task",
        "Ticket",
        None,
        "Ticket",
    ]
    assert [n and n["id"] for n in got[:7]] == ids[:7]
    assert got[0]["number"] == 210 and got[0]["subject"] == "Printer 10"
    assert got[0]["contact"] == {"name": "Melissa Doe", "account": {"name": "Zylker Corp"}}
    assert got[6]["assignee"] == {
        "__typename": "Team",
        "name": "Printers",
        "department": {"name": "Support"},
    }
    assert got[8] == got[0]
    assert got[1]["account"] == {"name": "Zylker Corp", "owner": {"name": "A Alice"}}
    assert got[2]["owner"] == {"id": _gid(world.alice), "name": "A Alice"}
    assert got[3] == {
        "__typename": "Agent",
        "id": _gid(world.alice),
        "name": "A Alice",
        "firstName": "A",
        "email": world.alice.email,
    }
    assert got[4]["name"] == "Support"
    assert got[5] == {"__typename": "Task", "id": _gid(task), "title": "Call back"}
    # The tickets' statement reads the selected columns with their relations joined, not
    # whole rows (the verifying full run reads whole rows after it).
    ticket_sql = next(s for s in stmts.sql if 'FROM "ticket"' in s and "IN (" in s)
    assert 'LEFT OUTER JOIN "contact"' in ticket_sql, ticket_sql
    for unread in ('"description"', '"closed_at"', '"is_spam"'):
        assert unread not in ticket_sql, ticket_sql


async def test_node_is_scoped_as_always_for_an_agent_of_another_department(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    await seed(world)
    path = readpath_of(http)
    sales_ticket, support_ticket = await _ticket(208), await _ticket(209)
    carol, _ = await make_agent("carol@example.com", "Carol", Role.AGENT, [world.sales.id])
    ids = [
        _gid(support_ticket),
        _gid(sales_ticket),
        _gid(world.alice),  # Support only: Bob (Sales) does not see her
        _gid(carol),  # shares Sales with Bob
        _gid(world.bob),
        _gid(world.support),
        _gid(world.sales),
    ]
    res = await gql.as_(world.bob_token)(NODES, {"ids": ids})
    assert res.errors == [], res.errors
    assert path.compiled == 1, path.fallbacks
    got = res.data["nodes"]
    assert got[0] is None
    assert got[1]["number"] == 208
    assert got[2] is None
    assert got[3]["name"] == "C Carol" and got[3]["email"] == "carol@example.com"
    assert got[4]["name"] == "B Bob"
    assert got[5] is None and got[6] == {"__typename": "Department", "id": ids[6], "name": "Sales"}
    one = await gql.as_(world.bob_token)(
        "query($id: ID!) { node(id: $id) { id ... on Ticket { number } } }",
        {"id": _gid(support_ticket)},
    )
    assert one.errors == [] and one.data == {"node": None}
    mine = await gql.as_(world.bob_token)(
        "query($id: ID!) { node(id: $id) { id ... on Ticket { number contact { name } } } }",
        {"id": _gid(sales_ticket)},
    )
    assert mine.errors == [] and mine.data["node"]["number"] == 208
    assert path.compiled == 3, path.fallbacks


async def test_private_agent_fields_and_resolver_fields_of_nodes(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    """An agent's private fields (a profile check) and fields answered by resolvers run on the
    lean executor over the compiled rows' objects, as for a compiled page."""
    await seed(world)
    path = readpath_of(http)
    query = """
    query($ids: [ID!]!) {
      nodes(ids: $ids) {
        ... on Agent { name email role departments { name } }
        ... on Ticket { number comments { totalCount } followers { totalCount } }
      }
    }
    """
    ids = [_gid(world.alice), _gid(world.bob), _gid(await _ticket(208))]
    res = await gql.as_(world.admin_token)(query, {"ids": ids})
    assert res.errors == [], res.errors
    assert path.compiled == 1, path.fallbacks
    alice, bob, ticket = res.data["nodes"]
    assert alice["departments"] == [{"name": "Support"}]
    assert bob["email"] == world.bob.email and bob["role"] == "AGENT"
    assert ticket == {"number": 208, "comments": {"totalCount": 0}, "followers": {"totalCount": 0}}


async def test_bad_ids_and_fallback_fields_answer_as_before(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    await seed(world)
    path = readpath_of(http)
    unknown = to_global_id("Nothing", 1)
    res = await gql.as_(world.admin_token)(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [unknown]}
    )
    assert res.body["data"] is None
    assert res.errors[0]["extensions"]["code"] == "INVALID_ID", res.errors
    garbled = await gql.as_(world.admin_token)('{ node(id: "%%%") { id } }')
    assert garbled.body["data"] == {"node": None}
    assert garbled.errors[0]["extensions"]["code"] == "INVALID_ID", garbled.errors
    assert path.compiled == 0
    # A field the registry leaves to the full executor sends the whole request there.
    printed = await gql.as_(world.admin_token)(
        "query($id: ID!) { node(id: $id) { ... on Ticket { number printUrl } } }",
        {"id": _gid(await _ticket(208))},
    )
    assert printed.errors == [], printed.errors
    assert printed.data["node"]["number"] == 208 and printed.data["node"]["printUrl"]
    assert path.compiled == 0
