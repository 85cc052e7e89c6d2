"""Bounded work per request (issue 17, points 1 and 5): every growing list is a capped
connection, a static cost budget refuses expensive documents before they run, a timeout and a
response size cap stop the rest; a repeated field gets a reason, not "Validation aborted."."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import httpx
import pytest
from graphql import GraphQLList, GraphQLNonNull, get_named_type, parse

from deskql.schema import cost
from deskql.schema.root import build_schema
from deskql.server import create_app
from deskql.services import tickets as ticket_service
from deskql.settings import Settings
from tests.conftest import GQLClient, World, gid

# The review's document with today's connections (each list gained a `nodes` level): now
# deeper than the depth limit. ATTACK is the same attack cut to fit the depth limit (12).
REVIEW_INNER = (
    "tickets(first:100){nodes{account{tickets{nodes{account{tickets{nodes{account{tickets{"
    "nodes{activities{nodes{changes}}}}}}}}}}}}}"
)
ATTACK_INNER = (
    "tickets(first:100){nodes{account{tickets{nodes{account{tickets{nodes{account{tickets{"
    "nodes{id}}}}}}}}}}}"
)
REVIEW = "{" + " ".join(f"a{i}: {REVIEW_INNER}" for i in range(30)) + "}"
ATTACK = "{" + " ".join(f"a{i}: {ATTACK_INNER}" for i in range(30)) + "}"
BENCH_LIST = """
query TicketList($first: Int!) {
  tickets(first: $first) {
    totalCount
    edges { node {
      id number subject status priority tags
      contact { name email account { name } }
      assignee { ... on Agent { name } ... on Team { name } }
      department { name }
    } }
  }
}
"""
CONVERSATION = """
query($id: ID!) { ticket(id: $id) { id number subject status tags
  contact { name email } assignee { ... on Agent { name } }
  conversation(first: 100) { totalCount nodes { __typename
    ... on Thread { id direction fromAddress subject bodyText bodyHtml createdAt }
    ... on Comment { id body isPublic createdAt author { name } } } } } }
"""


@pytest.fixture(scope="module")
def graphql_schema():  # noqa: ANN201
    return build_schema(Settings())._schema


def _cost(schema, doc: str, **variables: object) -> int:  # noqa: ANN001
    return cost.document_cost(schema, parse(doc), operation_name=None, variables=variables)


def test_no_growing_list_field_is_left_outside_a_connection(graphql_schema) -> None:  # noqa: ANN001
    """Every list-typed output field is a connection's edges/nodes, a payload's, or one of the
    bounded lists of schema.cost.BOUNDED_LISTS."""
    offenders = []
    for type_name, gql_type in graphql_schema.type_map.items():
        if type_name.startswith("__") or not hasattr(gql_type, "fields"):
            continue
        if type_name.endswith(("Connection", "Payload", "Result", "Event")):
            continue
        if not hasattr(gql_type, "interfaces"):
            continue  # input types
        for name, field in gql_type.fields.items():
            t = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            if isinstance(t, GraphQLList) and f"{type_name}.{name}" not in cost.BOUNDED_LISTS:
                offenders.append(f"{type_name}.{name}: [{get_named_type(t).name}]")
    assert offenders == [], (
        "make these connections (schema/connections.py), or, if they cannot grow with the "
        "data, add them to schema.cost.BOUNDED_LISTS with their bound"
    )


def test_cost_model(graphql_schema) -> None:  # noqa: ANN001
    s = graphql_schema
    # The example of the schema's description.
    assert _cost(s, "{ tickets(first: 50) { nodes { id subject contact { name } } } }") == 202
    # Default page size 20; a variable; totalCount/pageInfo are not multiplied.
    assert _cost(s, "{ tickets { totalCount nodes { id } } }") == 1 + 1 + 1 + 20
    assert _cost(s, "query($n: Int) { tickets(first: $n) { nodes { id } } }", n=5) == 7
    assert _cost(s, "query($n: Int = 3) { tickets(first: $n) { nodes { id } } }") == 5
    # Fragments are expanded where spread (named and inline).
    frag = "fragment F on Ticket { id subject } { tickets(first: 10) { nodes { ...F } } }"
    assert _cost(s, frag) == 2 + 10 * 2
    # Nested lists multiply; a list without page size counts DEFAULT_LIST_SIZE (or LIST_SIZES).
    nested = "{ tickets(first: 10) { nodes { comments(first: 5) { nodes { body } } tags } } }"
    assert _cost(s, nested) == 2 + 10 * (1 + 1 + 5 * 1 + 1)
    assert _cost(s, '{ nodes(ids: ["a", "b", "c"]) { id } }') == 1 + 3 * 1
    assert _cost(s, "{ __schema { types { name fields { name } } } }") == 1


def test_integrator_queries_stay_well_under_the_budget(graphql_schema) -> None:  # noqa: ANN001
    budget = Settings().max_query_cost
    assert _cost(graphql_schema, BENCH_LIST, first=100) < budget / 20
    assert _cost(graphql_schema, CONVERSATION, id="x") < budget / 20
    assert _cost(graphql_schema, ATTACK) > 500 * budget


async def test_attack_document_is_refused_fast_with_its_cost(gql: GQLClient, world: World) -> None:
    await ticket_service.create_ticket(
        None, department_id=world.support.id, subject="s", contact_id=world.contact.id
    )
    started = time.perf_counter()
    res = await gql.as_(world.admin_token)(ATTACK)
    elapsed = time.perf_counter() - started
    assert res.body.get("data") is None
    assert res.error_codes() == ["QUERY_TOO_COSTLY"]
    ext = res.errors[0]["extensions"]
    assert ext["budget"] == 50_000 and ext["cost"] == cost.document_cost(
        build_schema(Settings())._schema, parse(ATTACK), operation_name=None, variables={}
    )
    assert ext["cost"] > 500 * 50_000
    assert f"query cost {ext['cost']} exceeds the budget of 50000" in res.errors[0]["message"]
    assert elapsed < 1.0
    res = await gql.as_(world.admin_token)(REVIEW)
    assert res.body.get("data") is None
    assert "exceeds maximum operation depth of 12" in res.errors[0]["message"]


async def test_budget_is_a_setting(clean_db: Settings, world: World) -> None:
    small = replace(clean_db, max_query_cost=10)
    app = create_app(small, manage_db=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        gql = GQLClient(http, world.admin_token)
        ok = await gql("{ me { name } tickets(first: 2) { nodes { id } } }")  # 1+1 + 1+1+2
        assert ok.errors == []
        res = await gql("{ tickets(first: 20) { nodes { id } } }")
        assert res.error_codes() == ["QUERY_TOO_COSTLY"]
        assert res.errors[0]["extensions"]["cost"] == 22
        # Mutations are costed too, and refused before anything is written.
        res = await gql(
            "mutation($i: TicketCreateInput!) { ticketCreate(input: $i) { ticket { id "
            "threads(first: 50) { nodes { id } } } } }",
            {"i": {"departmentId": gid("Department", world.support.id), "subject": "x"}},
        )
        assert res.error_codes() == ["QUERY_TOO_COSTLY"]
    from deskql import models

    assert await models.Ticket.all().count() == 0


async def test_former_lists_are_capped_connections(gql: GQLClient, world: World) -> None:
    ticket = await ticket_service.create_ticket(
        None, department_id=world.support.id, subject="s", contact_id=world.contact.id
    )
    admin = gql.as_(world.admin_token)
    res = await admin(
        "query($id: ID!) { contact(id: $id) { tickets(first: 101) { totalCount } } }",
        {"id": gid("Contact", world.contact.id)},
    )
    assert res.error_codes() == ["BAD_PAGINATION"]
    q = """query($id: ID!) { ticket(id: $id) { activities(first: 1) { totalCount
      pageInfo { hasNextPage endCursor } nodes { kind } } } }"""
    res = await admin(q, {"id": gid("Ticket", ticket.id)})
    acts = res.data["ticket"]["activities"]
    assert acts["totalCount"] >= 1 and acts["nodes"][0]["kind"] == "ticket.created"


async def test_timeout_stops_a_slow_operation(
    clean_db: Settings, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deskql.resolvers import auth as auth_resolvers

    real_me = auth_resolvers.me

    async def slow_me(info):  # noqa: ANN001, ANN202
        await asyncio.sleep(5)
        return await real_me(info)

    monkeypatch.setattr(auth_resolvers, "me", slow_me)
    app = create_app(replace(clean_db, request_timeout_seconds=1), manage_db=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        started = time.perf_counter()
        res = await GQLClient(http, world.admin_token)("{ me { name } }")
        assert time.perf_counter() - started < 3
    assert res.error_codes() == ["TIMEOUT"]
    assert res.body["data"] is None


async def test_response_size_cap(clean_db: Settings, world: World) -> None:
    app = create_app(replace(clean_db, max_response_bytes=200), manage_db=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        gql = GQLClient(http, world.admin_token)
        assert (await gql("{ me { id } }")).errors == []
        res = await gql(
            "{ me { id name email firstName lastName about hobbies avatarUrl } "
            "a: me { id name email } b: me { id name email } }"
        )
    assert res.error_codes() == ["RESPONSE_TOO_LARGE"]
    assert res.errors[0]["extensions"]["bytes"] > 200


async def test_repeated_field_gets_a_reason(gql: GQLClient, world: World) -> None:
    res = await gql.as_(world.admin_token)("{ me { " + "name " * 1000 + "} }")
    assert res.body.get("data") is None
    assert res.error_codes() == ["GRAPHQL_VALIDATION_FAILED"]
    message = res.errors[0]["message"]
    assert "Validation aborted" not in message
    assert "the field 'name' is selected 1000 times in one selection set (at most 50)" in message
    # Up to the limit it is valid GraphQL and answers.
    res = await gql.as_(world.admin_token)("{ me { " + "name " * 50 + "} }")
    assert res.errors == []


async def test_empty_selection_set_is_a_validation_error(gql: GQLClient, world: World) -> None:
    """graphql-core parses `{ }`; strawberry's depth limiter failed on it with a 500."""
    for document in [
        "{ }",
        "{ tickets(first: 1) { } }",
        "{ tickets(first: 1) { nodes { ... on Ticket { } } } }",
        "query { me { ...F } } fragment F on Agent { }",
    ]:
        res = await gql.as_(world.admin_token)(document)
        assert res.status == 200, document
        assert res.body.get("data") is None, document
        assert res.error_codes() == ["GRAPHQL_VALIDATION_FAILED"], document
        assert "selects nothing" in res.errors[0]["message"], document


def test_cost_is_remembered_per_document_and_variables(graphql_schema) -> None:  # noqa: ANN001
    doc = parse("query($n: Int, $ids: [ID!]!) { tickets(first: $n) { nodes { id } } "
                "nodes(ids: $ids) { id } }")  # fmt: skip
    first = cost.cached_cost(
        graphql_schema, doc, operation_name=None, variables={"n": 5, "ids": []}
    )
    assert first == 1 + 1 + 5 + 1
    again = cost.cached_cost(
        graphql_schema, doc, operation_name=None, variables={"n": 5, "ids": []}
    )
    assert again == first
    other = cost.cached_cost(
        graphql_schema, doc, operation_name=None, variables={"n": 50, "ids": ["a", "b"]}
    )
    assert other == 1 + 1 + 50 + 1 + 2
