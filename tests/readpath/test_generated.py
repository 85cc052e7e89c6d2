"""The differential test of issue 18, generated: documents covering every planned field of the
main types (nested relations one level deep, aliases, fragments, variables, @include/@skip),
run on the demo data by agents with different department sets, through the lean executor and
the full executor (the suite's readpath_verify answers READPATH_MISMATCH on any byte of
difference). Each document must be answered lean, so a planned field that falls back fails.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest_asyncio
from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
    is_required_argument,
)

from deskql import models
from deskql.models.enums import Role, TokenKind
from deskql.readpath.registry import MAIN, planned
from deskql.schema.ids import to_global_id
from deskql.schema.root import build_schema
from deskql.services import auth
from deskql.services.demo import load_demo
from deskql.services.demo_data import ADMIN_EMAIL
from deskql.settings import Settings
from tests.conftest import GQLClient
from tests.readpath.test_lean import readpath_of

ROOT_LISTS = {"Ticket": "tickets", "Contact": "contacts", "Account": "accounts", "Agent": "agents"}
PAGE = 4  # nodes per page, at every level
# Fields answered only on `me` (FORBIDDEN on other agents): selected there
ONLY_ME = {("Agent", "notifications")}


def _schema() -> GraphQLSchema:
    return build_schema()._schema


def _args(field: GraphQLField) -> str | None:
    """Arguments to give a field, or None when it needs one we cannot make up."""
    if any(is_required_argument(arg) for arg in field.args.values()):
        return None
    return f"(first: {PAGE})" if "first" in field.args else ""


def _leaves(schema: GraphQLSchema, type_name: str) -> list[str]:
    """The planned leaf fields of a type that take no required argument."""
    graphql_type = schema.get_type(type_name)
    assert isinstance(graphql_type, GraphQLObjectType)
    return [
        name + (_args(field) or "")
        for name, field in graphql_type.fields.items()
        if planned(type_name, name)
        and is_leaf_type(get_named_type(field.type))
        and _args(field) is not None
    ]


def _by_type(schema: GraphQLSchema, type_names: list[str]) -> str:
    """Inline fragments on each type with its leaves, aliased by type: the same field name
    may have another type on each (Agent.email is non-null, Contact.email is not)."""
    return " ".join(
        f"... on {name} {{ "
        + " ".join(f"{name}_{leaf.split('(')[0]}: {leaf}" for leaf in _leaves(schema, name))
        + " }"
        for name in type_names
    )


def _object_selection(schema: GraphQLSchema, type_name: str) -> str:
    """A selection of an object, union or interface type's leaves (one level)."""
    graphql_type = schema.get_type(type_name)
    if isinstance(graphql_type, GraphQLUnionType | GraphQLInterfaceType):
        kinds = schema.get_possible_types(graphql_type)
        return "{ __typename " + _by_type(schema, [k.name for k in kinds]) + " }"
    if type_name.endswith("Connection"):
        node = type_name[: -len("Connection")]
        inner = _object_selection(schema, node)
        return (
            f"{{ totalCount pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} "
            f"edges {{ cursor node {inner} }} }}"
        )
    return "{ " + " ".join(_leaves(schema, type_name)) + " }"


def nested_fields(schema: GraphQLSchema, type_name: str) -> Iterator[tuple[str, str]]:
    """(field with arguments, selection) for each planned non-leaf field of a main type."""
    graphql_type = schema.get_type(type_name)
    assert isinstance(graphql_type, GraphQLObjectType)
    for name, field in graphql_type.fields.items():
        args = _args(field)
        named = get_named_type(field.type)
        if not planned(type_name, name) or is_leaf_type(named) or args is None:
            continue
        yield name + args, _object_selection(schema, named.name)


def documents(schema: GraphQLSchema) -> Iterator[tuple[str, str, dict]]:
    """(label, document, variables) covering every planned field of the main list types."""
    for type_name, root in ROOT_LISTS.items():
        leaves = " ".join(_leaves(schema, type_name))
        yield f"{root} leaves", f"{{ {root}(first: {PAGE}) {{ nodes {{ {leaves} }} }} }}", {}
        for field, selection in nested_fields(schema, type_name):
            doc = f"{{ {root}(first: {PAGE}) {{ totalCount nodes {{ id {field} {selection} }} }} }}"
            if (type_name, field.split("(")[0]) in ONLY_ME:
                doc = f"{{ me {{ id {field} {selection} }} }}"
            yield f"{root}.{field}", doc, {}
        # Aliases with different arguments, a named fragment, variables and directives.
        doc = f"""query($n: Int!, $yes: Boolean!, $no: Boolean!) {{
          few: {root}(first: $n) {{ edges {{ cursor node {{ ...Leaves }} }} }}
          more: {root}(first: {PAGE + 2}) {{
            nodes {{ id ...Leaves again: id skipped: id @skip(if: $yes) kept: id @include(if: $yes)
                     dropped: id @include(if: $no) }}
          }}
        }}
        fragment Leaves on {type_name} {{ {leaves} }}"""
        yield f"{root} aliases", doc, {"n": 2, "yes": True, "no": False}


async def _token(email: str) -> str:
    agent = await models.Agent.get(email=email)
    _, token = await auth.issue_token(agent_id=agent.id, kind=TokenKind.API, name="diff")
    return token


@pytest_asyncio.fixture
async def demo(clean_db: Settings) -> dict[str, str]:
    """The demo data, and tokens of an administrator and of agents with different
    department sets (Support only; Sales only; Support and Billing; none)."""
    await load_demo()
    tokens = {"admin": await _token(ADMIN_EMAIL)}
    for agent in await models.Agent.filter(role=Role.AGENT).prefetch_related(
        "memberships__department"
    ):
        names = frozenset(m.department.name for m in agent.memberships)
        key = "+".join(sorted(names)) or "none"
        if key not in tokens:
            tokens[key] = await _token(agent.email)
    assert {"Support", "Sales", "Billing+Support"} <= tokens.keys(), tokens.keys()
    return tokens


async def test_every_planned_field_answers_lean_and_the_same(
    gql: GQLClient, http: httpx.AsyncClient, demo: dict[str, str]
) -> None:
    schema = _schema()
    path = readpath_of(http)
    docs = list(documents(schema))
    covered = {label.split(".", 1)[1].split("(")[0] for label, _, _ in docs if "." in label}
    for type_name in ROOT_LISTS:
        for name, field in schema.get_type(type_name).fields.items():  # type: ignore[union-attr]
            wanted = planned(type_name, name) and _args(field) is not None
            if wanted and not is_leaf_type(get_named_type(field.type)):
                assert name in covered, (type_name, name)
    nonempty: set[str] = set()
    for who, token in demo.items():
        for label, doc, variables in docs:
            before = path.answered
            res = await gql.as_(token)(doc, variables)
            assert res.errors == [], (who, label, res.errors)
            assert path.answered == before + 1, (who, label, path.fallbacks[-1:])
            if any(v.get("nodes") or v.get("edges") for v in res.data.values()):
                nonempty.add(f"{who}:{label.split(' ')[0].split('.')[0]}")
    # The data is really there to compare, for every kind of agent.
    assert {f"admin:{root}" for root in ROOT_LISTS.values()} <= nonempty, nonempty
    assert "Support:tickets" in nonempty and "Sales:tickets" in nonempty


async def test_node_and_nodes_of_every_main_type_for_every_agent(
    gql: GQLClient, http: httpx.AsyncClient, demo: dict[str, str]
) -> None:
    schema = _schema()
    path = readpath_of(http)
    samples: list[tuple[str, int]] = []
    for type_name in MAIN:
        model = getattr(models, type_name)
        samples += [
            (type_name, pk) for pk in await model.all().limit(3).values_list("id", flat=True)
        ]
    assert {t for t, _ in samples} >= set(ROOT_LISTS) | {"Comment", "Activity"}, samples
    ids = [to_global_id(t, pk) for t, pk in samples]
    hidden_seen = False
    for type_name in sorted({t for t, _ in samples}):
        leaves = f"... on {type_name} {{ {' '.join(_leaves(schema, type_name))} }}"
        doc = (
            f"query($id: ID!, $ids: [ID!]!) {{ node(id: $id) {{ id {leaves} }} "
            f"nodes(ids: $ids) {{ id {leaves} }} }}"
        )
        for who, token in demo.items():
            for kind, pk in samples:
                if kind != type_name:
                    continue
                before = path.answered
                res = await gql.as_(token)(doc, {"id": to_global_id(kind, pk), "ids": ids})
                assert res.errors == [], (who, kind, pk, res.errors)
                assert path.answered == before + 1, (who, kind, pk, path.fallbacks[-1:])
                hidden_seen |= res.data["node"] is None
    # Some records are hidden from some agents (ORG-5), and both paths hide them alike.
    assert hidden_seen
