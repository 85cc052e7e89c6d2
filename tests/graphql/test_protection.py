"""Protection of the public endpoint: depth, aliases, tokens, page size, body size, masking,
introspection switch (issue 2, point 7)."""

from __future__ import annotations

import httpx

from deskql.server import create_app
from deskql.settings import Settings
from tests.conftest import GQLClient, World


async def test_query_nested_50_deep_is_refused(gql: GQLClient, world: World) -> None:
    inner = "id"
    for _ in range(25):
        inner = f"contact {{ tickets {{ {inner} }} }}"
    res = await gql.as_(world.admin_token)(
        f"{{ tickets(first: 1) {{ edges {{ node {{ {inner} }} }} }} }}"
    )
    assert res.body.get("data") is None
    assert any("exceeds maximum operation depth" in e["message"] for e in res.errors)


async def test_many_aliases_are_refused(gql: GQLClient, world: World) -> None:
    query = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(40)) + " }"
    res = await gql.as_(world.admin_token)(query)
    assert res.body.get("data") is None
    assert "aliases" in res.errors[0]["message"]


async def test_too_many_tokens_are_refused(gql: GQLClient, world: World) -> None:
    query = "{ me { " + " ".join(["id"] * 5000) + " } }"
    res = await gql.as_(world.admin_token)(query)
    assert res.body.get("data") is None
    assert "token" in res.errors[0]["message"].lower()


async def test_page_size_10000_is_refused(gql: GQLClient, world: World) -> None:
    res = await gql.as_(world.admin_token)("{ tickets(first: 10000) { totalCount } }")
    assert res.error_codes() == ["BAD_PAGINATION"]
    assert "between 0 and 100" in res.errors[0]["message"]
    res = await gql.as_(world.admin_token)("{ tickets(first: -1) { totalCount } }")
    assert res.error_codes() == ["BAD_PAGINATION"]


async def test_malformed_cursor_is_refused(gql: GQLClient, world: World) -> None:
    res = await gql.as_(world.admin_token)('{ tickets(after: "!!nope") { totalCount } }')
    assert res.error_codes() == ["INVALID_CURSOR"]


async def test_ten_megabyte_body_gets_413(http: httpx.AsyncClient, world: World) -> None:
    body = '{"query": "{ me { id } }", "pad": "' + "x" * (10 * 1024 * 1024) + '"}'
    resp = await http.post(
        "/graphql",
        content=body,
        headers={
            "content-type": "application/json",
            "Authorization": f"Bearer {world.admin_token}",
        },
    )
    assert resp.status_code == 413
    assert resp.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_chunked_body_over_limit_gets_413(http: httpx.AsyncClient, world: World) -> None:
    async def chunks():  # no Content-Length: the limit must hold while streaming
        yield b'{"query": "{ me { id } }", "pad": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'

    resp = await http.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert resp.status_code == 413


async def test_unexpected_errors_are_masked(gql: GQLClient, world: World, monkeypatch) -> None:
    from deskql.services import tickets

    def boom(*args, **kwargs):
        raise RuntimeError("secret database detail")

    monkeypatch.setattr(tickets, "list_tickets", boom)
    res = await gql.as_(world.admin_token)("{ tickets { totalCount } }")
    assert res.errors[0]["message"] == "Unexpected error."
    assert "secret" not in str(res.body)


async def test_introspection_on_by_default_and_switchable(clean_db: Settings, world: World) -> None:
    query = {"query": "{ __schema { queryType { name } } }"}
    app = create_app(clean_db, manage_db=False)
    auth = {"Authorization": f"Bearer {world.alice_token}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        body = (await c.post("/graphql", json=query, headers=auth)).json()
        assert body["data"]["__schema"]["queryType"]["name"] == "Query"
        # Without a token it is refused like any query (issue 17, point 5) ...
        body = (await c.post("/graphql", json=query)).json()
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        frag = {"query": 'query { ...F } fragment F on Query { __type(name: "Ticket") { name } }'}
        body = (await c.post("/graphql", json=frag)).json()
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        # ... and __typename alone is not introspection.
        body = (await c.post("/graphql", json={"query": "{ __typename }"})).json()
        assert body["data"] == {"__typename": "Query"}
        page = await c.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200 and "graphiql" in page.text.lower()

    from dataclasses import replace

    public = replace(clean_db, public_introspection=True)
    app = create_app(public, manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        body = (await c.post("/graphql", json=query)).json()
        assert body["data"]["__schema"]["queryType"]["name"] == "Query"

    closed = replace(clean_db, introspection=False, graphiql=False)
    app = create_app(closed, manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        body = (await c.post("/graphql", json=query)).json()
        assert body.get("data") is None
        assert "introspection" in body["errors"][0]["message"].lower()
        page = await c.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code != 200 or "graphiql" not in page.text.lower()


async def test_error_codes_for_malformed_requests(gql: GQLClient, world: World) -> None:
    admin = gql.as_(world.admin_token)
    res = await admin("{ tickets { nope } }")
    assert res.error_codes() == ["GRAPHQL_VALIDATION_FAILED"]
    res = await admin(
        "mutation($i: TicketCreateInput!) { ticketCreate(input: $i) { errors { code } } }",
        {"i": {"subject": "no department"}},
    )
    assert res.error_codes() == ["BAD_USER_INPUT"]
    assert "departmentId" in res.errors[0]["message"]


async def test_an_id_past_the_32_bit_keys_is_refused_not_an_unexpected_error(
    gql: GQLClient, world: World
) -> None:
    """Found by the property tests on PostgreSQL: Ticket:2147483648 reached asyncpg."""
    from deskql.schema.ids import to_global_id

    big = to_global_id("Ticket", 2**31)
    res = await gql.as_(world.admin_token)(
        "mutation($id: ID!) { ticketDelete(input: {id: $id}) { errors { code } } }", {"id": big}
    )
    assert [e["code"] for e in res.data["ticketDelete"]["errors"]] == ["INVALID"], res
    res = await gql.as_(world.admin_token)("query($id: ID!) { node(id: $id) { id } }", {"id": big})
    assert res.error_codes() == ["INVALID_ID"] and res.body["data"] == {"node": None}
