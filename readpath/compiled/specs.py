"""What the compiled read path knows of each type: its table, how a row becomes the schema
object (`from_row`), which columns each attribute is computed from, its to-one relations and
the lists a request's loader gives."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from tortoise.models import Model


class NotCompiled(Exception):
    """This selection is not covered: the lean executor answers it."""


class Row:
    """The selected columns of one row as attributes; a column not selected reads as None (the
    class holds None for every column; the plan put the columns of every selected field in)."""

    __slots__ = ("__dict__",)

    # The GraphQL type its rows are nodes of (set on each type's Row class by `specs`)
    graphql_type: str = ""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.__dict__.update(values)

    @classmethod
    def of(cls, values: dict[str, Any]) -> Row:
        """A Row holding this dict itself as its attributes (no copy: the dict is its own)."""
        row = object.__new__(cls)
        row.__dict__ = values
        return row


@dataclass(frozen=True)
class Relation:
    """A to-one relation: the schema object's private key attribute and the target's type."""

    attr: str
    type_name: str


@dataclass(frozen=True)
class Child:
    """A list field read by a request's loader (schema.loaders.Grouped, by the object's `pk`):
    its connection's nodes, of this type, may be read as rows of the selected columns."""

    type_name: str
    loader: str


@dataclass(frozen=True)
class Spec:
    """How rows of one table become one schema type."""

    model: type[Model]
    build: Callable[[Any], Any]
    # schema attribute -> the columns its value is computed from (when not a same-named column)
    deps: Mapping[str, tuple[str, ...]]
    # GraphQL field -> the relations it follows, in the order its resolver tries them
    relations: Mapping[str, tuple[Relation, ...]]
    row: type[Row]
    # GraphQL field (a list of leaves) -> the request's loader giving it by the object's `pk`
    loaded: Mapping[str, str] = field(default_factory=dict)
    # GraphQL field (a connection of a loader's list) -> that list (plan.py plans its nodes)
    children: Mapping[str, Child] = field(default_factory=dict)
    # Schema attributes `build` computes from a same-named column (not the column's value)
    computed: frozenset[str] = frozenset()
    # GraphQL fields a selection on this type does not compile with (their resolvers need
    # more than the row: the lean executor answers the whole selection)
    refused: frozenset[str] = frozenset()

    def columns_of(self, attr: str) -> tuple[str, ...] | None:
        """The columns a schema attribute needs, or None when it has none."""
        if attr in self.deps:
            return self.deps[attr]
        if attr in self.model._meta.fields_db_projection:
            return (attr,)
        return None

    def row_attr(self, attr: str) -> str | None:
        """The Row attribute holding a schema attribute's value as the schema object would
        hold it (a column, or a model property such as `name`), or None when only the schema
        object computes it (the global `id`, `is_overdue`)."""
        if attr == "id" or attr in self.computed:
            return None
        deps = self.deps.get(attr)
        if deps is None:
            return attr if attr in self.model._meta.fields_db_projection else None
        if len(deps) == 1:
            return deps[0]
        return attr if isinstance(getattr(self.row, attr, None), property) else None


def _row_class(model: type[Model]) -> type[Row]:
    """A Row of this model: None for every field not read, and the model's properties (e.g.
    `name` from first and last)."""
    attrs: dict[str, Any] = dict.fromkeys(model._meta.fields_map)
    attrs.update(dict.fromkeys(model._meta.fields_db_projection))
    for klass in reversed(model.__mro__):
        if klass.__module__.startswith("deskql."):
            attrs.update(
                (name, value) for name, value in vars(klass).items() if isinstance(value, property)
            )
    return type(f"{model.__name__}Row", (Row,), {"__slots__": (), **attrs})


@cache
def specs() -> dict[str, Spec]:
    """The compiled types by GraphQL name (built once, on first use)."""
    from deskql import models
    from deskql.schema import types as t
    from deskql.schema.realtime import Notification

    def spec(
        model: type[Model],
        build: Any,
        deps: dict[str, tuple[str, ...]],
        loaded: dict[str, str] | None = None,
        children: dict[str, Child] | None = None,
        computed: frozenset[str] = frozenset(),
        refused: frozenset[str] = frozenset(),
        **rel: Any,
    ) -> Spec:
        relations = {
            name: tuple(Relation(attr, type_name) for attr, type_name in pairs)
            for name, pairs in rel.items()
        }
        deps = {"id": ("id",), "pk": ("id",), **deps}
        row = _row_class(model)
        return Spec(
            model, build, deps, relations, row, loaded or {}, children or {}, computed, refused
        )

    name = ("first_name", "last_name")
    found = {
        "Ticket": spec(
            models.Ticket,
            t.Ticket.from_row,
            {
                "is_overdue": ("due_at", "status"),
                "contact_pk": ("contact_id",),
                "account_pk": ("account_id",),
                "product_pk": ("product_id",),
                "department_pk": ("department_id",),
                "assignee_agent_pk": ("assignee_agent_id",),
                "assignee_team_pk": ("assignee_team_id",),
            },
            {"tags": "tags_by_ticket"},
            {
                "threads": Child("Thread", "threads_by_ticket"),
                "comments": Child("Comment", "comments_by_ticket"),
                "activities": Child("Activity", "activities_by_ticket"),
            },
            contact=[("contact_pk", "Contact")],
            account=[("account_pk", "Account")],
            product=[("product_pk", "Product")],
            department=[("department_pk", "Department")],
            assignee=[("assignee_agent_pk", "Agent"), ("assignee_team_pk", "Team")],
        ),
        "Contact": spec(
            models.Contact,
            t.Contact.from_row,
            {"name": name, "account_pk": ("account_id",), "owner_pk": ("owner_id",)},
            account=[("account_pk", "Account")],
            owner=[("owner_pk", "Agent")],
        ),
        "Account": spec(
            models.Account,
            t.Account.from_row,
            {"owner_pk": ("owner_id",)},
            owner=[("owner_pk", "Agent")],
        ),
        "Agent": spec(models.Agent, t.Agent.from_row, {"name": name}),
        "Team": spec(
            models.Team,
            t.Team.from_row,
            {"department_pk": ("department_id",)},
            department=[("department_pk", "Department")],
        ),
        "Thread": spec(
            models.Thread,
            t.Thread.from_row,
            {
                "to": ("to_addresses",),
                "cc": ("cc_addresses",),
                "row_body_html": ("body_html",),
            },
        ),
        "Comment": spec(
            models.Comment,
            t.Comment.from_row,
            {
                "author_pk": ("author_id",),
                "ticket_pk": ("ticket_id",),
                "subject_pk": ("subject_id", "ticket_id"),
            },
            author=[("author_pk", "Agent")],
            ticket=[("ticket_pk", "Ticket")],
        ),
        "Activity": spec(
            models.Activity,
            t.Activity.from_row,
            {
                "actor_pk": ("actor_id",),
                "subject_pk": ("subject_id",),
                "ticket_pk": ("ticket_id",),
            },
            computed=frozenset({"changes"}),  # public_changes(): ids made global
            actor=[("actor_pk", "Agent")],
        ),
        "Notification": spec(
            models.Notification,
            Notification.from_row,
            {
                "is_read": ("read_at",),
                "cursor": ("id",),
                "activity_pk": ("activity_id",),
                "contact_pk": ("contact_id",),
                "account_pk": ("account_id",),
            },
            computed=frozenset({"is_read", "cursor"}),
            # null while the agent may not see the ticket (the resolver's check, on the row)
            refused=frozenset({"ticket"}),
            activity=[("activity_pk", "Activity")],
            contact=[("contact_pk", "Contact")],
            account=[("account_pk", "Account")],
        ),
        "Department": spec(models.Department, t.Department.from_row, {}),
        "Product": spec(models.Product, t.Product.from_row, {}),
    }
    for type_name, each in found.items():
        each.row.graphql_type = type_name
    return found
