"""The lean executor (deskql/readpath): which queries it answers, that its answers are the
full executor's byte for byte (the suite runs with readpath_verify), and what falls back."""

from __future__ import annotations

import gc
import warnings

import httpx
import pytest
from graphql import GraphQLObjectType

from deskql import models
from deskql.readpath import ReadPath
from deskql.readpath.registry import MAIN, planned
from deskql.schema.root import build_schema
from deskql.serving.view import DeskQLGraphQL
from tests.conftest import GQLClient, World, gid


def readpath_of(http: httpx.AsyncClient) -> ReadPath:
    app = http._transport.app  # type: ignore[attr-defined]
    for route in app.routes:
        endpoint = getattr(route, "app", None) or getattr(route, "endpoint", None)
        if isinstance(endpoint, DeskQLGraphQL) and endpoint.readpath is not None:
            return endpoint.readpath
    raise AssertionError("no read path on the app")


TICKETS = """
query Page($first: Int!, $withContact: Boolean!) {
  tickets(first: $first, sort: {field: NUMBER, direction: DESC}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id number subject status priority channel isSpam createdAt updatedAt dueAt isOverdue tags
      contact @include(if: $withContact) { name email account { name } }
      assignee { __typename ... on Agent { name } ... on Team { name } }
      department { name }
      ...More
    } }
  }
}
fragment More on Ticket { subject again: subject number }
"""


async def seed(world: World, count: int = 5) -> list[models.Ticket]:
    account = await models.Account.create(name="Zylker Corp")
    await models.Contact.filter(id=world.contact.id).update(account_id=account.id)
    rows = []
    for i in range(count):
        rows.append(
            await models.Ticket.create(
                number=100 + i,
                subject=f"Printer {i}",
                department_id=world.support.id,
                contact_id=world.contact.id if i % 2 == 0 else None,
                assignee_agent_id=world.alice.id if i % 3 == 0 else None,
            )
        )
    return rows


async def test_ticket_page_is_answered_lean_and_equals_the_full_executor(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    await seed(world)
    path = readpath_of(http)
    res = await gql.as_(world.alice_token)(TICKETS, {"first": 3, "withContact": True})
    assert res.errors == [], res.errors
    assert path.answered == 1, path.fallbacks
    assert path.compiled == 1
    page = res.data["tickets"]
    assert page["totalCount"] == 5
    assert page["pageInfo"]["hasNextPage"] is True
    nodes = [e["node"] for e in page["edges"]]
    assert [n["number"] for n in nodes] == [104, 103, 102]
    assert nodes[0]["again"] == "Printer 4"
    assert nodes[0]["contact"] == {
        "name": "Melissa Doe",
        "email": "melissa@example.com",
        "account": {"name": "Zylker Corp"},
    }
    assert nodes[1]["contact"] is None
    assert nodes[1]["assignee"] == {"__typename": "Agent", "name": "A Alice"}
    assert nodes[2]["assignee"] is None
    assert nodes[0]["department"] == {"name": "Support"}
    # @include(if: false) leaves the field out, as the full executor does.
    res = await gql.as_(world.alice_token)(TICKETS, {"first": 2, "withContact": False})
    assert "contact" not in res.data["tickets"]["edges"][0]["node"]
    assert path.answered == 2


async def test_hidden_department_gets_what_the_full_executor_gives(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    tickets = await seed(world)
    path = readpath_of(http)
    res = await gql.as_(world.bob_token)(TICKETS, {"first": 10, "withContact": True})
    assert res.errors == []
    assert res.data["tickets"] == {
        "totalCount": 0,
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "edges": [],
    }
    hidden = gid("Ticket", tickets[0].id)
    query = "query($id: ID!) { node(id: $id) { id ... on Ticket { subject } } }"
    res = await gql.as_(world.bob_token)(query, {"id": hidden})
    assert res.errors == [] and res.data == {"node": None}
    res = await gql.as_(world.alice_token)(query, {"id": hidden})
    assert res.data == {"node": {"id": hidden, "subject": "Printer 0"}}
    assert path.answered == 3, path.fallbacks


async def test_aliases_with_different_arguments(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    await seed(world)
    path = readpath_of(http)
    query = """{
      newest: tickets(first: 1) { edges { node { number } } }
      oldest: tickets(first: 2, sort: {field: NUMBER, direction: ASC}) { nodes { number } }
    }"""
    res = await gql.as_(world.admin_token)(query)
    assert res.errors == []
    assert res.data["newest"]["edges"][0]["node"]["number"] == 104
    assert [n["number"] for n in res.data["oldest"]["nodes"]] == [100, 101]
    assert path.answered == 1, path.fallbacks


async def test_fallback_fields_and_errors_run_on_the_full_executor(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    await seed(world)
    path = readpath_of(http)
    # A planned field beside one that is not: the whole request runs as before.
    res = await gql.as_(world.alice_token)("{ tickets(first: 1) { nodes { number printUrl } } }")
    assert res.errors == []
    assert res.data["tickets"]["nodes"][0]["printUrl"].startswith("http")
    assert "Ticket.printUrl is not planned" in path.fallbacks[-1]
    # A bad cursor: the full executor's error, with its code.
    res = await gql.as_(world.alice_token)('{ tickets(after: "nope") { nodes { number } } }')
    assert res.error_codes() == ["INVALID_CURSOR"]
    # Mutations, unknown tokens and invalid documents never reach the lean executor.
    res = await gql.as_("dq_not_a_token")("{ tickets { nodes { number } } }")
    assert res.error_codes() == ["UNAUTHENTICATED"]
    res = await gql.as_(world.alice_token)("{ tickets { nodes { nosuchfield } } }")
    assert res.error_codes() == ["GRAPHQL_VALIDATION_FAILED"]
    assert path.answered == 0


async def test_a_fallback_leaves_no_resolver_unawaited(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    await seed(world)
    path = readpath_of(http)
    # `tickets` and `contacts` are resolved (coroutines made) before `topTags`, which is not
    # planned, sends the request to the full executor: the lean ones are closed, not dropped.
    # Garbage of earlier tests is collected first (graphql-core leaves coroutines unawaited
    # when an error nulls a list; those are not this request's).
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = await gql.as_(world.alice_token)(
            "{ tickets(first: 1) { nodes { number } } contacts(first: 1) { nodes { name } }"
            " topTags { name } }"
        )
        gc.collect()
    assert res.errors == [], res.errors
    assert res.data["tickets"]["nodes"] == [{"number": 104}]
    assert "Query.topTags is not planned" in path.fallbacks[-1]
    unawaited = [w for w in caught if "never awaited" in str(w.message)]
    assert unawaited == []


def test_every_field_of_the_main_types_is_planned_or_a_fallback() -> None:
    schema = build_schema()._schema
    for type_name, (lean, full) in MAIN.items():
        graphql_type = schema.get_type(type_name)
        assert isinstance(graphql_type, GraphQLObjectType), type_name
        fields = set(graphql_type.fields)
        assert not lean & full, (type_name, lean & full)
        assert fields == lean | full, (
            f"{type_name}: place these fields in deskql/readpath/registry.py: "
            f"{sorted(fields - lean - full)}; "
            f"no longer in the schema: {sorted((lean | full) - fields)}"
        )
    assert planned("Ticket", "subject") and not planned("Ticket", "printUrl")
    assert planned("TicketConnection", "edges") and not planned("Query", "organisation")
    assert planned("Query", "search") and planned("SearchHit", "node")


@pytest.mark.parametrize("first", [0, 1, 100])
async def test_page_sizes(
    gql: GQLClient, http: httpx.AsyncClient, world: World, first: int
) -> None:
    await seed(world, 3)
    res = await gql.as_(world.admin_token)(
        "query($n: Int) { tickets(first: $n) { totalCount nodes { number } } }", {"n": first}
    )
    assert res.errors == []
    assert len(res.data["tickets"]["nodes"]) == min(first, 3)
    assert readpath_of(http).answered == 1


async def test_a_persisted_hash_runs_its_registered_document_lean(
    gql: GQLClient, http: httpx.AsyncClient, world: World
) -> None:
    """A document sent under another document's hash is refused and changes nothing: the
    hash alone still runs (lean) the document registered under it."""
    import hashlib

    await seed(world)
    path = readpath_of(http)
    doc = "{ tickets(first: 2) { nodes { number } } }"
    other = "{ tickets(first: 2) { nodes { number subject description } } }"
    ext = {"persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(doc.encode()).hexdigest()}}
    auth = {"Authorization": f"Bearer {world.alice_token}"}
    registered = await http.post("/graphql", json={"query": doc, "extensions": ext}, headers=auth)
    assert registered.json() == {"data": {"tickets": {"nodes": [{"number": 104}, {"number": 103}]}}}
    lying = await http.post("/graphql", json={"query": other, "extensions": ext}, headers=auth)
    assert [e["extensions"]["code"] for e in lying.json()["errors"]] == [
        "PERSISTED_QUERY_HASH_MISMATCH"
    ]
    again = await http.post("/graphql", json={"extensions": ext}, headers=auth)
    assert again.json() == registered.json()
    assert path.answered == 2, path.fallbacks
