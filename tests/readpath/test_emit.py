"""The generated writer of a plan's response objects (readpath/compiled/emit.py): the same
values and refusals as the step-at-a-time serialisation it replaced (the suite's requests are
also compared with the full executor byte for byte; these pin the edge cases)."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLField, GraphQLID, GraphQLObjectType, GraphQLScalarType, GraphQLString

from deskql.readpath.compiled.emit import emitter
from deskql.readpath.compiled.plan import JOINED, LEAF, LEAN, LOADED, TYPENAME, NodePlan, _readers
from deskql.readpath.compiled.plan import _serializer as serializer
from deskql.readpath.compiled.specs import NotCompiled, specs


def node_plan(type_name: str, steps: list[tuple[Any, ...]], columns: set[str]) -> NodePlan:
    object_type = GraphQLObjectType(type_name, {"x": GraphQLField(GraphQLString)})
    plan = NodePlan(object_type, specs()[type_name], columns=columns, steps=steps)
    _readers(plan)
    return plan


def agent_plan() -> NodePlan:
    return node_plan(
        "Agent",
        [(TYPENAME, "__typename", "Agent"), (LEAF, "name", "name", serializer(GraphQLString), 1)],
        {"id", "first_name", "last_name"},
    )


def team_plan() -> NodePlan:
    return node_plan(
        "Team",
        [(TYPENAME, "t", "Team"), (LEAF, "name", "name", serializer(GraphQLString), 1)],
        {"id", "name"},
    )


def ticket_row(**values: Any) -> Any:
    base = dict.fromkeys(
        [
            "id",
            "subject",
            "assignee_agent_id",
            "assignee_team_id",
            "assignee_agent__id",
            "assignee_agent__first_name",
            "assignee_agent__last_name",
            "assignee_team__id",
            "assignee_team__name",
        ]
    )
    return specs()["Ticket"].row.of({**base, **values})


def test_leaves_ids_typename_and_joined_relations() -> None:
    joined = [
        ("assignee_agent_pk", "assignee_agent__", agent_plan()),
        ("assignee_team_pk", "assignee_team__", team_plan()),
    ]
    plan = node_plan(
        "Ticket",
        [
            (LEAF, "id", "id", serializer(GraphQLID), 1),
            (LEAF, "subject", "subject", serializer(GraphQLString), 0),
            (JOINED, "assignee", joined, 0),
            (LOADED, "tags", "tags_by_ticket", str),
            (LEAN, "isOverdue"),
        ],
        {"id", "subject"},
    )
    emit, inline = emitter(plan)
    assert inline == {"assignee"}
    assert emitter(plan)[0] is emit  # generated once, kept with the plan
    rows = [
        ticket_row(
            id=1,
            subject="A",
            assignee_agent_id=7,
            assignee_agent__id=7,
            assignee_agent__first_name="Ann",
            assignee_agent__last_name="Lee",
        ),
        # the agent's key is set but its row is gone: null, the team is not tried
        ticket_row(id=2, assignee_agent_id=8, assignee_team_id=3, assignee_team__id=3),
        ticket_row(
            id=3,
            subject="C",
            assignee_team_id=3,
            assignee_team__id=3,
            assignee_team__name="Printers",
        ),
    ]
    related = {"tags": [["a"], [], ["b", "c"]]}
    resolved = [{"isOverdue": False}, {"isOverdue": True}, {"isOverdue": None}]
    assert emit(rows, rows, related, resolved) == [
        {
            "id": "VGlja2V0OjE",
            "subject": "A",
            "assignee": {"__typename": "Agent", "name": "Ann Lee"},
            "tags": ["a"],
            "isOverdue": False,
        },
        {"id": "VGlja2V0OjI", "subject": None, "assignee": None, "tags": [], "isOverdue": True},
        {
            "id": "VGlja2V0OjM",
            "subject": "C",
            "assignee": {"t": "Team", "name": "Printers"},
            "tags": ["b", "c"],
            "isOverdue": None,
        },
    ]


def test_refusals_send_the_page_to_the_lean_executor() -> None:
    nonnull = node_plan(
        "Ticket", [(LEAF, "subject", "subject", serializer(GraphQLString), 1)], {"id", "subject"}
    )
    emit, _ = emitter(nonnull)
    rows = [ticket_row(id=1, subject="A"), ticket_row(id=2)]
    with pytest.raises(NotCompiled, match="null at non-null subject"):
        emit(rows, rows, {}, [])
    nothing = GraphQLScalarType("Nothing", serialize=lambda value: None)
    refused = node_plan(
        "Ticket", [(LEAF, "s", "subject", serializer(nothing), 0)], {"id", "subject"}
    )
    emit, _ = emitter(refused)
    with pytest.raises(NotCompiled, match="s did not serialise"):
        emit(rows[:1], rows[:1], {}, [])
    # A value not of the exact type goes through the type's own serialize.
    as_id = node_plan(
        "Ticket", [(LEAF, "n", "subject", serializer(GraphQLID), 0)], {"id", "subject"}
    )
    emit, _ = emitter(as_id)
    rows = [ticket_row(id=1, subject=42)]
    assert emit(rows, rows, {}, []) == [{"n": "42"}]
    required = node_plan(
        "Ticket",
        [(JOINED, "assignee", [("assignee_agent_pk", "assignee_agent__", agent_plan())], 1)],
        {"id"},
    )
    emit, _ = emitter(required)
    with pytest.raises(NotCompiled, match="null at non-null assignee"):
        emit(rows, rows, {}, [])
