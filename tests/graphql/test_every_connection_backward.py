"""Every connection of the API takes `last`/`before` (issue 18, point 4): each root list, in
each of its sorts and directions, and each list nested in the main types, answers `last: 2`
and pages back from its own `startCursor`, instead of refusing them (the guard of
schema/page_request.py refuses them only on a list that does not honour them). A connection
field added later is walked here too: the fields are read from the schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from graphql import GraphQLEnumType, GraphQLNonNull, GraphQLObjectType
from graphql.pyutils import Undefined

from deskql import models
from deskql.models.activities import CallDirection
from deskql.schema.root import build_schema
from tests.conftest import GQLClient, World, gid

SCHEMA = build_schema()._schema
PAGE = "totalCount pageInfo { hasPreviousPage startCursor }"


def _named(gql_type: Any) -> Any:
    while hasattr(gql_type, "of_type"):
        gql_type = gql_type.of_type
    return gql_type


def _connections(type_name: str) -> list[str]:
    gql_type = SCHEMA.type_map[type_name]
    assert isinstance(gql_type, GraphQLObjectType)
    return [
        name
        for name, field in gql_type.fields.items()
        if _named(field.type).name.endswith("Connection") and "last" in field.args
    ]


def _required(field: Any, values: dict[str, str]) -> str:
    """The field's required arguments without defaults, as GraphQL literals."""
    out = []
    for name, arg in field.args.items():
        if not isinstance(arg.type, GraphQLNonNull) or arg.default_value is not Undefined:
            continue
        if name in values:
            out.append(f"{name}: {values[name]}")
            continue
        enum = _named(arg.type)
        assert isinstance(enum, GraphQLEnumType), f"no value for {field}.{name}"
        out.append(f"{name}: {next(iter(enum.values))}")
    return ", ".join(out)


def _sorts(field: Any) -> list[str]:
    sort = field.args.get("sort")
    if sort is None:
        return [""]
    sort_type = _named(sort.type)
    enum = _named(sort_type.fields["field"].type)
    return [
        f"sort: {{field: {value}, direction: {direction}}}"
        for value in enum.values
        for direction in ("ASC", "DESC")
    ]


async def _both_ways(run: Any, query: str, path: list[str], label: str) -> None:
    res = await run(query.replace("$PAGE", "last: 2"))
    assert res.errors == [], (label, res.errors)
    conn = res.data
    for step in path:
        conn = conn[step]
    info = conn["pageInfo"]
    if info["hasPreviousPage"]:
        before = f'last: 2, before: "{info["startCursor"]}"'
        res = await run(query.replace("$PAGE", before))
        assert res.errors == [], (label, res.errors)


async def _seed(world: World) -> dict[str, str]:
    """One record of each type that has nested lists, with a few items in some of them."""
    from deskql.services import tickets
    from deskql.services.auth import load_actor

    admin = await load_actor(world.admin.id)
    ticket = await tickets.create_ticket(
        admin, subject="Printer", department_id=world.support.id, contact_id=world.contact.id
    )
    for body in ("one", "two", "three"):
        await tickets.add_comment(admin, ticket_id=ticket.id, body=body)
    account = await models.Account.create(name="Zylker")
    team = await models.Team.create(name="Desk", department_id=world.support.id)
    now = datetime.now(UTC)
    task = await models.Task.create(department_id=world.support.id, title="Call back")
    event = await models.Event.create(
        department_id=world.support.id,
        title="Meeting",
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=1, hours=1),
    )
    call = await models.Call.create(
        department_id=world.support.id, direction=CallDirection.INBOUND, started_at=now
    )
    article = await models.Article.create(
        title="Reset", department_id=world.support.id, permalink="reset"
    )
    return {
        "Ticket": gid("Ticket", ticket.id),
        "Contact": gid("Contact", world.contact.id),
        "Account": gid("Account", account.id),
        "Agent": gid("Agent", world.admin.id),
        "Department": gid("Department", world.support.id),
        "Team": gid("Team", team.id),
        "Task": gid("Task", task.id),
        "Event": gid("Event", event.id),
        "Call": gid("Call", call.id),
        "Article": gid("Article", article.id),
    }


async def test_every_root_list_in_every_sort_pages_backward(gql: GQLClient, world: World) -> None:
    ids = await _seed(world)
    run = gql.as_(world.admin_token)
    values = {"ticketId": f'"{ids["Ticket"]}"', "query": '"printer"'}
    walked = 0
    for name in _connections("Query"):
        field = SCHEMA.query_type.fields[name]
        for sort in _sorts(field):
            args = ", ".join(a for a in (_required(field, values), sort, "$PAGE") if a)
            query = f"{{ {name}({args}) {{ {PAGE} }} }}"
            await _both_ways(run, query, [name], f"Query.{name} {sort}")
            walked += 1
    assert walked > 60


async def test_every_nested_list_of_the_main_types_pages_backward(
    gql: GQLClient, world: World
) -> None:
    ids = await _seed(world)
    run = gql.as_(world.admin_token)
    walked = []
    for type_name, node_id in ids.items():
        for name in _connections(type_name):
            field = SCHEMA.type_map[type_name].fields[name]
            args = ", ".join(a for a in (_required(field, {}), "$PAGE") if a)
            query = (
                f'{{ node(id: "{node_id}") {{ ... on {type_name} {{ {name}({args}) {{ {PAGE} }} '
                "} } }"
            )
            await _both_ways(run, query, ["node", name], f"{type_name}.{name}")
            walked.append(f"{type_name}.{name}")
    # Ticket comments took the paging back from their own cursor (three comments).
    assert "Ticket.comments" in walked and len(walked) > 40
