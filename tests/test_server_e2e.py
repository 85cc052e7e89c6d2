"""The real server: `deskql serve --demo` as a process on a free port of 127.0.0.1, spoken to
over HTTP with httpx, as a client would. On SQLite by default; with DESKQL_DATABASE_URL set,
on a PostgreSQL database of its own (migrated with `deskql migrate` first, as in production)
and with the configured broadcast backend."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.test_cli import PG_URL, cli_env, deskql, pg_side_url, running_server

DEMO_PASSWORD = "deskql-demo"

LOGIN = """
mutation($input: LoginInput!) {
  login(input: $input) { errors { field message code } token agent { email name role } }
}
"""

TICKETS = """
query($filter: TicketFilter, $first: Int, $after: String) {
  tickets(filter: $filter, first: $first, after: $after, sort: {field: NUMBER, direction: ASC}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        number subject status priority channel isOverdue dueAt version tags
        department { name }
        contact { name email account { name website } }
        product { name }
        assignee { __typename ... on Agent { name email } ... on Team { name } }
        comments { nodes { body isPublic author { name } } }
        activities { nodes { kind } }
      }
    }
  }
}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    var_dir: Path = tmp_path_factory.mktemp("e2e") / "var"
    extra: dict[str, str] = {}
    if PG_URL.startswith("postgres"):
        extra["DESKQL_DATABASE_URL"] = pg_side_url("e2e")
        if os.environ.get("DESKQL_BROADCAST_URL"):
            extra["DESKQL_BROADCAST_URL"] = os.environ["DESKQL_BROADCAST_URL"]
    env = cli_env(var_dir, **extra)
    if extra:
        migrated = deskql(env, "migrate")
        assert migrated.returncode == 0, migrated.stderr
    with running_server(env, "--demo") as (base, _proc):
        yield base


def gql(base: str, query: str, variables: dict | None = None, token: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    res = httpx.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables or {}},
        headers=headers,
        timeout=30,
    )
    assert res.status_code == 200, res.text
    return res.json()


def login(base: str, email: str, password: str = DEMO_PASSWORD) -> dict:
    body = gql(base, LOGIN, {"input": {"email": email, "password": password}})
    return body["data"]["login"]


def test_health_and_root_redirect(server: str) -> None:
    assert httpx.get(f"{server}/health").json() == {"status": "ok"}
    root = httpx.get(f"{server}/", follow_redirects=False)
    assert root.status_code in (302, 307)
    assert root.headers["location"].endswith("/graphql")


def test_demo_credentials_sign_in_over_http(server: str) -> None:
    admin = login(server, "admin@zylker.com")
    assert admin["errors"] == []
    assert admin["token"].startswith("dq_")
    assert admin["agent"] == {
        "email": "admin@zylker.com",
        "name": "Priya Raman",
        "role": "ADMINISTRATOR",
    }

    wrong = login(server, "admin@zylker.com", "not the password")
    assert wrong["token"] is None and wrong["agent"] is None
    assert [e["code"] for e in wrong["errors"]] == ["INVALID_CREDENTIALS"]


def test_tickets_with_nested_fields(server: str) -> None:
    token = login(server, "admin@zylker.com")["token"]
    body = gql(server, TICKETS, {"first": 100}, token)
    assert "errors" not in body, body
    tickets = body["data"]["tickets"]
    assert tickets["totalCount"] == 60
    nodes = [e["node"] for e in tickets["edges"]]
    assert [n["number"] for n in nodes] == list(range(1, 61))
    assert {n["department"]["name"] for n in nodes} == {"Support", "Sales", "Billing"}
    assert all(n["contact"]["email"] for n in nodes)
    assert any(n["contact"]["account"] and n["contact"]["account"]["website"] for n in nodes)
    assert {n["assignee"]["__typename"] for n in nodes if n["assignee"]} == {"Agent", "Team"}
    assert any(n["assignee"] is None for n in nodes)
    assert any(n["isOverdue"] for n in nodes)
    rich = [n for n in nodes if n["tags"] and n["comments"]]
    assert rich, "no ticket with both tags and comments"
    assert all(c["author"]["name"] for n in rich for c in n["comments"]["nodes"])
    assert all(n["activities"]["nodes"][0]["kind"] == "ticket.created" for n in nodes)
    closed = [n for n in nodes if n["status"] == "CLOSED"]
    assert closed and all(n["version"] > 1 for n in closed)

    # A filter and a second page through the cursor.
    open_page = gql(server, TICKETS, {"first": 5, "filter": {"status": ["OPEN"]}}, token)
    page = open_page["data"]["tickets"]
    assert page["totalCount"] == sum(1 for n in nodes if n["status"] == "OPEN")
    assert page["pageInfo"]["hasNextPage"] is True
    assert all(e["node"]["status"] == "OPEN" for e in page["edges"])
    after = page["pageInfo"]["endCursor"]
    nxt = gql(server, TICKETS, {"first": 5, "filter": {"status": ["OPEN"]}, "after": after}, token)
    first_numbers = [e["node"]["number"] for e in page["edges"]]
    next_numbers = [e["node"]["number"] for e in nxt["data"]["tickets"]["edges"]]
    assert next_numbers and min(next_numbers) > max(first_numbers)


def test_an_agent_sees_only_their_department(server: str) -> None:
    token = login(server, "brad.miller@zylker.com")["token"]
    body = gql(server, TICKETS, {"first": 100}, token)
    tickets = body["data"]["tickets"]
    assert 0 < tickets["totalCount"] < 60
    assert {e["node"]["department"]["name"] for e in tickets["edges"]} == {"Support"}


def test_unauthenticated_request_is_refused(server: str) -> None:
    body = gql(server, TICKETS, {"first": 1})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_two_megabyte_body_gets_413(server: str) -> None:
    big = "x" * (2 * 1024 * 1024)
    payload = '{"query": "{ __typename }", "variables": {"pad": "' + big + '"}}'
    res = httpx.post(
        f"{server}/graphql",
        content=payload.encode(),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert res.status_code == 413
    assert res.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"

    # The same without a Content-Length (chunked): refused while streaming.
    def chunks() -> Iterator[bytes]:
        data = payload.encode()
        for i in range(0, len(data), 64 * 1024):
            yield data[i : i + 64 * 1024]

    streamed = httpx.post(
        f"{server}/graphql",
        content=chunks(),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert streamed.status_code == 413

    # The server is still fine afterwards.
    assert httpx.get(f"{server}/health").status_code == 200
