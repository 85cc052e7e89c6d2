"""Edge input gets a clear BAD_USER_INPUT, never "Unexpected error." (issue 17, point 4)."""

from __future__ import annotations

import json

import pytest

from deskql import models
from tests.conftest import GQLClient, GQLResult, World, gid

CREATE = """mutation($i: TicketCreateInput!) {
  ticketCreate(input: $i) { errors { field code } ticket { id dueAt subject } } }"""


def _input(world: World, **extra: object) -> dict:
    return {
        "departmentId": gid("Department", world.support.id),
        "contactId": gid("Contact", world.contact.id),
        "subject": "Hi",
        **extra,
    }


@pytest.mark.parametrize(
    "due",
    [
        "9999-12-31T23:59:59-05:00",  # overflowed when converted to UTC
        "0001-01-01T00:00:00+00:00",
        "9999-12-31T23:59:59+00:00",
        "1899-12-31T23:59:59+00:00",
        "3000-01-01T00:00:00+00:00",
    ],
)
async def test_dates_out_of_range_are_bad_user_input(
    gql: GQLClient, world: World, due: str
) -> None:
    res = await gql.as_(world.admin_token)(CREATE, {"i": _input(world, dueAt=due)})
    assert res.error_codes() == ["BAD_USER_INPUT"], res.body
    message = res.errors[0]["message"]
    assert "Unexpected" not in message
    assert "between 1900-01-01T00:00:00Z and 2999-12-31T23:59:59Z" in message
    assert await models.Ticket.all().count() == 0


async def test_dates_in_range_are_accepted(gql: GQLClient, world: World) -> None:
    for due in ["1900-01-01T00:00:00+00:00", "2999-12-31T23:59:59+00:00"]:
        res = await gql.as_(world.admin_token)(CREATE, {"i": _input(world, dueAt=due)})
        assert res.data["ticketCreate"]["errors"] == []


async def test_date_literal_out_of_range(gql: GQLClient, world: World) -> None:
    dept, contact = gid("Department", world.support.id), gid("Contact", world.contact.id)
    res = await gql.as_(world.admin_token)(
        f'mutation {{ ticketCreate(input: {{departmentId: "{dept}", contactId: "{contact}", '
        f'subject: "x", dueAt: "9999-12-31T23:59:59-05:00"}}) {{ errors {{ code }} }} }}'
    )
    # A literal in the document is checked while validating the document.
    assert res.error_codes() == ["GRAPHQL_VALIDATION_FAILED"]
    assert "between 1900-01-01T00:00:00Z and 2999-12-31T23:59:59Z" in res.errors[0]["message"]


@pytest.mark.parametrize("subject", ["\ud800", "ok \udfff then", "a\ud83d"])
async def test_lone_surrogates_are_bad_user_input(
    gql: GQLClient, world: World, subject: str
) -> None:
    # JSON carries a lone surrogate as an escape (\\ud800); json.dumps writes it so.
    body = json.dumps({"query": CREATE, "variables": {"i": _input(world, subject=subject)}})
    resp = await gql.http.post(
        "/graphql",
        content=body,
        headers={
            "Authorization": f"Bearer {world.admin_token}",
            "Content-Type": "application/json",
        },
    )
    res = GQLResult(resp.status_code, resp.json())
    assert res.error_codes() == ["BAD_USER_INPUT"], res.body
    assert "the text at $.i.subject is not valid Unicode" in res.errors[0]["message"]
    assert await models.Ticket.all().count() == 0


async def test_lone_surrogate_in_a_literal(gql: GQLClient, world: World) -> None:
    dept = gid("Department", world.support.id)
    res = await gql.as_(world.admin_token)(
        f'mutation {{ ticketCreate(input: {{departmentId: "{dept}", subject: "\\ud800"}}) '
        "{ errors { code } } }"
    )
    # The parser refuses the escape itself, with a reason and a code.
    assert res.error_codes() == ["GRAPHQL_PARSE_FAILED"], res.body
    assert "Invalid Unicode escape sequence" in res.errors[0]["message"]
    assert await models.Ticket.all().count() == 0
