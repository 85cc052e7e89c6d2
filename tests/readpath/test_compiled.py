"""Compiled pages (deskql/readpath/compiled): which root lists are read as rows of the selected
columns, that their answers are the full executor's byte for byte (the suite runs with
readpath_verify, so every request here is also run on the full executor and compared), and
what is left to the lean executor."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from deskql import models
from deskql.db import count_statements
from deskql.models.enums import Role
from deskql.readpath.compiled.specs import specs
from tests.conftest import GQLClient, World, make_agent
from tests.readpath.test_lean import readpath_of

PEER = """
{ tickets(first: 10, sort: {field: NUMBER, direction: DESC}) { edges { node {
  id number subject status priority channel isSpam createdAt updatedAt tags
  contact { name }
  assignee { __typename ... on Agent { name } ... on Team { name } }
} } } }
"""


async def seed(world: World) -> None:
    """Tickets in both departments: with and without contact, an agent, a team or nobody."""
    owner = world.alice
    account = await models.Account.create(name="Zylker Corp", owner_id=owner.id)
    await models.Contact.filter(id=world.contact.id).update(account_id=account.id)
    team = await models.Team.create(name="Printers", department_id=world.support.id)
    for i in range(12):
        dept = world.support if i % 4 else world.sales
        await models.Ticket.create(
            number=200 + i,
            subject=f"Printer {i}",
            department_id=dept.id,
            contact_id=world.contact.id if i % 2 == 0 else None,
            account_id=account.id if i % 3 == 0 else None,
            assignee_agent_id=world.alice.id if i % 3 == 0 else None,
            assignee_team_id=team.id if i % 3 == 1 else None,
            due_at=None if i % 5 else datetime(2020, 1, 1, tzinfo=UTC),
        )


async def test_the_peer_page_is_compiled_and_equals_the_full_executor(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    await seed(world)
    path = readpath_of(http)
    res = await gql.as_(world.admin_token)(PEER)
    assert res.errors == [], res.errors
    assert (path.answered, path.compiled) == (1, 1), path.fallbacks
    nodes = [e["node"] for e in res.data["tickets"]["edges"]]
    assert [n["number"] for n in nodes] == list(range(211, 201, -1))
    by_number = {n["number"]: n for n in nodes}
    assert by_number[210]["contact"] == {"name": "Melissa Doe"}
    assert by_number[209]["contact"] is None
    assert by_number[209]["assignee"] == {"__typename": "Agent", "name": "A Alice"}
    assert by_number[207]["assignee"] == {"__typename": "Team", "name": "Printers"}
    assert by_number[208]["assignee"] is None
    assert by_number[211]["status"] == "OPEN"


async def test_other_department_gets_its_own_tickets_only(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    await seed(world)
    path = readpath_of(http)
    res = await gql.as_(world.bob_token)(PEER)  # Bob is in Sales: tickets 200, 204, 208
    assert res.errors == [], res.errors
    assert path.compiled == 1
    numbers = [e["node"]["number"] for e in res.data["tickets"]["edges"]]
    assert numbers == [208, 204, 200]


async def test_aliases_nodes_and_nested_relations_compile(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    await seed(world)
    path = readpath_of(http)
    query = """
    query($first: Int!, $deep: Boolean!) {
      tickets(first: $first, filter: {contactId: null}) {
        totalCount
        pageInfo { hasNextPage endCursor startCursor hasPreviousPage __typename }
        edges { cursor node { __typename id dueAt isOverdue closedAt version } }
        nodes {
          n: number
          subject
          again: subject
          department { name }
          account { name owner { name firstName } }
          contact @include(if: $deep) { id email account { name owner { name } } }
          ...Assignee
        }
      }
      contacts(first: 5) { edges { node { name email account { name } owner { name } } } }
      accounts(first: 5) { nodes { name website owner { id name avatarUrl } } }
      agents(first: 5) { nodes { id name firstName lastName } }
    }
    fragment Assignee on Ticket {
      assignee { ... on Team { name department { name } } }
    }
    """
    res = await gql.as_(world.alice_token)(query, {"first": 4, "deep": True})
    assert res.errors == [], res.errors
    assert path.compiled == 1, path.fallbacks
    page = res.data["tickets"]
    assert page["totalCount"] == 9  # Alice (Support) sees the 9 support tickets
    assert len(page["edges"]) == len(page["nodes"]) == 4
    first = page["nodes"][0]
    assert first["n"] == 211 and first["again"] == first["subject"] == "Printer 11"
    assert first["department"] == {"name": "Support"}
    nodes = {n["n"]: n for n in page["nodes"]}
    assert nodes[210]["contact"]["account"] == {
        "name": "Zylker Corp",
        "owner": {"name": "A Alice"},
    }
    assert nodes[210]["assignee"] is None or "name" in nodes[210]["assignee"]
    assert res.data["contacts"]["edges"][0]["node"]["account"] == {"name": "Zylker Corp"}
    assert res.data["accounts"]["nodes"][0]["owner"]["name"] == "A Alice"


async def test_resolver_fields_of_a_compiled_page_run_on_the_lean_executor(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    await seed(world)
    await models.Comment.create(
        ticket_id=(await models.Ticket.get(number=210)).id, author_id=world.alice.id, body="Hi"
    )
    path = readpath_of(http)
    for selection in (
        "threads { totalCount } comments { nodes { body author { name } } }",
        "contact { name tickets(first: 2) { totalCount nodes { number } } }",
        "followers { totalCount nodes { name } }",
    ):
        before = (path.answered, path.compiled)
        res = await gql.as_(world.alice_token)(
            "{ tickets(first: 3) { nodes { number " + selection + " } } }"
        )
        assert res.errors == [], res.errors
        assert (path.answered, path.compiled) == (before[0] + 1, before[1] + 1), selection
    nodes = res.data["tickets"]["nodes"]
    assert [n["number"] for n in nodes] == [211, 210, 209]
    res = await gql.as_(world.alice_token)(
        "{ tickets(first: 3) { nodes { number comments { nodes { body author { name } } } } } }"
    )
    assert res.data["tickets"]["nodes"][1]["comments"]["nodes"] == [
        {"body": "Hi", "author": {"name": "A Alice"}}
    ]
    # An agent's private fields (email, role) depend on who asks: their resolvers answer.
    res = await gql.as_(world.alice_token)("{ agents(first: 5) { nodes { name email role } } }")
    assert res.errors == [], res.errors
    shown = {n["name"]: n for n in res.data["agents"]["nodes"]}
    assert shown["A Alice"]["email"] == world.alice.email


async def test_a_fallback_field_sends_the_request_to_the_full_executor(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    await seed(world)
    path = readpath_of(http)
    res = await gql.as_(world.admin_token)("{ tickets(first: 2) { nodes { number printUrl } } }")
    assert res.errors == [], res.errors
    assert (path.answered, path.compiled) == (0, 0)
    assert res.data["tickets"]["nodes"][0]["printUrl"].startswith("http")


async def test_a_compiled_page_reads_only_the_selected_columns(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    await seed(world)
    other, token = await make_agent("carol@example.com", "Carol", Role.AGENT, [world.support.id])
    del other
    path = readpath_of(http)
    with count_statements() as stmts:
        res = await gql.as_(token)(
            "{ tickets(first: 20) { nodes { number contact { name } assignee { ... on Agent "
            "{ name } } } } }"
        )
    assert res.errors == [], res.errors
    assert path.compiled == 1
    # The compiled page is one statement: the tickets with their contacts, assigned agents and
    # teams joined, reading the columns the selection needs (the suite's verification then
    # runs the full executor, whose loaders read whole rows: those come after it).
    ticket_sql = next(s for s in stmts.sql if 'FROM "ticket"' in s and "LIMIT" in s)
    for join in ('LEFT OUTER JOIN "contact"', 'LEFT OUTER JOIN "agent"', 'JOIN "team"'):
        assert join in ticket_sql, ticket_sql
    for unread in ('"description"', '"subject"', '"password_hash"', '"email"'):
        assert unread not in ticket_sql, ticket_sql
    after = stmts.sql[stmts.sql.index(ticket_sql) + 1 :]
    assert not any(s.startswith('SELECT "first_name","id","last_name" FROM "agent"') for s in after)


async def test_a_missing_related_row_is_null_as_on_the_full_executor(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    await seed(world)
    path = readpath_of(http)
    # An account whose owner is gone (SET NULL may not run on every stack in a raw update).
    await models.Account.filter(name="Zylker Corp").update(owner_id=None)
    res = await gql.as_(world.admin_token)(
        "{ accounts(first: 5) { nodes { name owner { name } } } }"
    )
    assert res.errors == [], res.errors
    assert path.compiled == 1
    assert res.data["accounts"]["nodes"] == [{"name": "Zylker Corp", "owner": None}]


def _sample(field: Any, index: int) -> Any:
    """A value of a model field's type, distinct per column (a mixed-up column shows)."""
    enum_type = getattr(field, "enum_type", None)
    if enum_type is not None:
        members = list(enum_type)
        return members[index % len(members)]
    kind = field.field_type
    if kind is bool:
        return index % 2 == 0
    if kind is int:
        return 1000 + index
    if kind is datetime:
        return datetime(2031, 1, 1, tzinfo=UTC) + timedelta(minutes=index)
    if kind is str:
        return f"value {index}"
    return None


def test_direct_readers_give_what_from_row_gives() -> None:
    # Where a plan reads values straight from the rows, every reader must give exactly the
    # attribute the type's own from_row computes (no schema object is built on that path).
    for type_name, spec in specs().items():
        projection = spec.model._meta.fields_db_projection
        values = {
            column: _sample(spec.model._meta.fields_map[column], i)
            for i, column in enumerate(sorted(projection))
        }
        row = spec.row(values)
        built = spec.build(row)
        checked = 0
        for attr in dataclasses.fields(built):
            row_attr = spec.row_attr(attr.name)
            if row_attr is None or not attr.init:  # not a value: a resolver's field
                continue
            assert getattr(row, row_attr) == getattr(built, attr.name), (type_name, attr.name)
            checked += 1
        assert checked >= 3, type_name
    ticket = specs()["Ticket"]
    assert ticket.row_attr("id") is None  # the global id: computed, not a column
    assert ticket.row_attr("is_overdue") is None  # computed by from_row only
    assert ticket.row_attr("contact_pk") == "contact_id"
    assert specs()["Contact"].row_attr("name") == "name"  # the model's property on the row


async def test_computed_fields_build_objects_and_answer_the_same(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    # isOverdue has no column: the page's objects are built by from_row (the suite's
    # verification compares every answer with the full executor's).
    await seed(world)
    path = readpath_of(http)
    res = await gql.as_(world.admin_token)(
        "{ tickets(first: 12, sort: {field: NUMBER, direction: ASC}) { edges { cursor node { "
        "id number isOverdue contact { id name } } } } }"
    )
    assert res.errors == [], res.errors
    assert path.compiled == 1
    edges = res.data["tickets"]["edges"]
    overdue = [e["node"]["number"] for e in edges if e["node"]["isOverdue"]]
    assert overdue == [200, 205, 210]
    assert all(e["cursor"].startswith("k1.") for e in edges)
    assert len({e["cursor"] for e in edges}) == 12


async def test_plans_are_kept_per_document_and_per_directive_variables(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    # A document's plans are made once and kept with it; where @include takes a variable, each
    # value selects its own columns and relations (the suite compares every answer with the
    # full executor's).
    await seed(world)
    path = readpath_of(http)
    query = (
        "query Q($c: Boolean!) { tickets(first: 3, sort: {field: NUMBER, direction: DESC}) "
        "{ nodes { number contact @include(if: $c) { name } } } }"
    )
    answers = []
    for with_contact in (True, False, True, False):
        res = await gql.as_(world.admin_token)(query, {"c": with_contact})
        assert res.errors == [], res.errors
        answers.append(res.data["tickets"]["nodes"])
    assert path.compiled == 4
    assert answers[0] == [
        {"number": 211, "contact": None},
        {"number": 210, "contact": {"name": "Melissa Doe"}},
        {"number": 209, "contact": None},
    ]
    assert answers[1] == [{"number": 211}, {"number": 210}, {"number": 209}]
    assert answers[2:] == answers[:2]
    prepared = path.prepare(query)
    assert prepared is not None and prepared.variable_directives
    assert len(prepared.plans) == 2  # one set of plans per value of $c
    plain = "{ tickets(first: 2) { nodes { number } } }"
    for _ in range(3):
        res = await gql.as_(world.bob_token)(plain)
        assert res.errors == [], res.errors
    prepared = path.prepare(plain)
    assert prepared is not None and not prepared.variable_directives
    assert list(prepared.plans) == [b""]


async def test_relations_of_relations_are_joined_into_the_page(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    # ticket -> contact -> account -> owner in the page's one statement; a contact without an
    # account, and a ticket without a contact, give nulls at their level (the suite's
    # verification compares the answer with the full executor's).
    await seed(world)
    loner = await models.Contact.create(first_name="Lone", last_name="Wolf", email="l@x.org")
    await models.Ticket.filter(number=211).update(contact_id=loner.id)
    path = readpath_of(http)
    with count_statements() as stmts:
        res = await gql.as_(world.admin_token)(
            "{ tickets(first: 4, sort: {field: NUMBER, direction: DESC}) { nodes { number "
            "contact { name account { name owner { name } } } } } }"
        )
    assert res.errors == [], res.errors
    assert path.compiled == 1
    assert res.data["tickets"]["nodes"] == [
        {"number": 211, "contact": {"name": "Lone Wolf", "account": None}},
        {
            "number": 210,
            "contact": {
                "name": "Melissa Doe",
                "account": {"name": "Zylker Corp", "owner": {"name": "A Alice"}},
            },
        },
        {"number": 209, "contact": None},
        {
            "number": 208,
            "contact": {
                "name": "Melissa Doe",
                "account": {"name": "Zylker Corp", "owner": {"name": "A Alice"}},
            },
        },
    ]
    ticket_sql = next(s for s in stmts.sql if 'FROM "ticket"' in s and "LIMIT" in s)
    for join in ('JOIN "contact"', 'JOIN "account"', 'JOIN "agent"'):
        assert join in ticket_sql, ticket_sql
    after = stmts.sql[stmts.sql.index(ticket_sql) + 1 :]
    assert not any(s.startswith('SELECT "id","name" FROM "account"') for s in after), after
