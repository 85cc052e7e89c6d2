"""Compiled pages (issue 18, point 1): the nodes of a root list read as rows, not models.

When everything a request selects on the nodes of `tickets`, `contacts`, `accounts` or `agents`
is covered by the specs below (columns of the node's table and the to-one relations named here,
any depth), the resolver runs as always (its filters, sort, ORG-5 scoping and pagination are
the one implementation), but the page is read with `values()` of exactly the columns the
selection needs, no model is built and no field resolver runs: each row becomes the schema
object through the type's own `from_row` (so ids, names and flags are computed as everywhere
else) and its selected leaves are serialised by their GraphQL types. The to-one relations of a
whole level are read in one statement each, with their selected columns only. Anything else
(a field with arguments, a list, a private or computed-by-resolver field) leaves the field to
the lean executor, which answers it as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol

from graphql import (
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLUnionType,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetails
from graphql.execution.executor import Executor
from graphql.pyutils import Path, Undefined
from tortoise.models import Model
from tortoise.queryset import QuerySet

from deskql.schema.connections import CompiledFetch

STRAWBERRY = "strawberry-definition"

# Root lists whose pages may be compiled (each pages a queryset through schema.connections).
ROOTS = frozenset({"tickets", "contacts", "accounts", "agents"})


class NotCompiled(Exception):
    """This selection is not covered: the lean executor answers it."""


class Row:
    """The selected columns of one row as attributes; a column not selected reads as None (the
    class holds None for every column; the plan put the columns of every selected field in)."""

    __slots__ = ("__dict__",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.__dict__.update(values)


@dataclass(frozen=True)
class Relation:
    """A to-one relation: the schema object's private key attribute and the target's type."""

    attr: str
    type_name: str


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

    def columns_of(self, attr: str) -> tuple[str, ...] | None:
        """The columns a schema attribute needs, or None when it has none."""
        if attr in self.deps:
            return self.deps[attr]
        if attr in self.model._meta.fields_db_projection:
            return (attr,)
        return None


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

    def spec(
        model: type[Model],
        build: Any,
        deps: dict[str, tuple[str, ...]],
        loaded: dict[str, str] | None = None,
        **rel: Any,
    ) -> Spec:
        relations = {
            name: tuple(Relation(attr, type_name) for attr, type_name in pairs)
            for name, pairs in rel.items()
        }
        deps = {"id": ("id",), "pk": ("id",), **deps}
        return Spec(model, build, deps, relations, _row_class(model), loaded or {})

    name = ("first_name", "last_name")
    return {
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
        "Department": spec(models.Department, t.Department.from_row, {}),
        "Product": spec(models.Product, t.Product.from_row, {}),
    }


LEAF, TYPENAME, RELATION, LOADED, LEAN, JOINED = 0, 1, 2, 3, 4, 5


class Lean(Protocol):
    """The lean executor, which answers the fields a plan leaves to resolvers."""

    async def objects(
        self,
        object_type: GraphQLObjectType,
        values: Sequence[Any],
        grouped: dict[str, list[FieldDetails]],
        path: Path | None,
    ) -> list[dict[str, Any]]: ...


@dataclass
class NodePlan:
    """What to read and write for one selection on one compiled type."""

    object_type: GraphQLObjectType
    spec: Spec
    columns: set[str] = field(default_factory=lambda: {"id"})
    # (kind, response key, ...) in the order the response lists the keys
    steps: list[tuple[Any, ...]] = field(default_factory=list)
    # Fields answered by their resolvers on the lean executor (the objects are then built
    # from whole rows, as their resolvers may read any attribute)
    lean: dict[str, list[FieldDetails]] = field(default_factory=dict)

    @property
    def type_name(self) -> str:
        """The GraphQL type's name."""
        return self.object_type.name


def _key(details: Sequence[FieldDetails]) -> tuple[int, ...]:
    return tuple(id(d.node) for d in details)


class Page(CompiledFetch):
    """The plans of one root field's nodes and how its page is read."""

    def __init__(self, model: type[Model], row: type[Row]) -> None:
        self.model = model
        self.row = row
        self.columns: set[str] = set()
        self.plans: dict[tuple[int, ...], NodePlan] = {}
        self.used = False

    async def fetch(self, query: QuerySet[Any]) -> list[Any]:
        """The page's rows with the columns every selection on its nodes needs (and the sort's)."""
        columns = set(self.columns)
        for name, _ in query._orderings:
            if name in self.model._meta.fields_db_projection:
                columns.add(name)
        rows = await query.values(*sorted(columns))
        self.used = True
        row = self.row
        return [row(r) for r in rows]


class Compiler:
    """Plans root lists and serialises their rows (one per lean execution)."""

    def __init__(self, executor: Executor, lean: Lean, planned: Callable[[str, str], bool]) -> None:
        self.ex = executor
        self.schema: GraphQLSchema = executor.schema
        self.lean = lean
        self.planned = planned

    def page(self, field_type: GraphQLOutputType, details: list[FieldDetails]) -> Page | None:
        """A Page when every selection on the connection's nodes compiles, else None."""
        connection = _unwrap(field_type)
        if not isinstance(connection, GraphQLObjectType):
            return None
        node_type = _node_type(connection)
        if node_type is None or node_type.name not in specs():
            return None
        spec = specs()[node_type.name]
        page = Page(spec.model, spec.row)
        try:
            for node_details in self._node_selections(connection, details):
                plan = self.plan(node_type, node_details)
                _join(plan)
                page.plans[_key(node_details)] = plan
                page.columns |= plan.columns
        except NotCompiled:
            return None
        return page if page.plans else None

    def _node_selections(
        self, connection: GraphQLObjectType, details: list[FieldDetails]
    ) -> list[list[FieldDetails]]:
        """The field details of every place the connection's nodes are selected."""
        found: list[list[FieldDetails]] = []
        grouped = self._collect(connection, details)
        for sub in grouped.get("edges", ()):
            edge = _unwrap(connection.fields["edges"].type)
            assert isinstance(edge, GraphQLObjectType)
            found.extend(self._collect(edge, sub).get("node", ()))
        found.extend(grouped.get("nodes", ()))
        return found

    def _collect(
        self, object_type: GraphQLObjectType, details: list[FieldDetails]
    ) -> dict[str, list[list[FieldDetails]]]:
        """Field name -> the details of each response key selecting it."""
        collected = self.ex.collect_subfields(object_type, details)
        if collected.new_defer_usages:
            raise NotCompiled("@defer")
        by_name: dict[str, list[list[FieldDetails]]] = {}
        for group in collected.grouped_field_set.values():
            by_name.setdefault(group[0].node.name.value, []).append(group)
        return by_name

    def plan(self, object_type: GraphQLObjectType, details: list[FieldDetails]) -> NodePlan:
        """The plan of a selection on a compiled type; NotCompiled when any part is not."""
        spec = specs().get(object_type.name)
        if spec is None:
            raise NotCompiled(object_type.name)
        plan = NodePlan(object_type, spec)
        collected = self.ex.collect_subfields(object_type, details)
        if collected.new_defer_usages:
            raise NotCompiled("@defer")
        for key, group in collected.grouped_field_set.items():
            first = group[0]
            if first.defer_usage is not None or first.fragment_variable_values is not None:
                raise NotCompiled("deferred or fragment arguments")
            name = first.node.name.value
            if name == "__typename":
                plan.steps.append((TYPENAME, key, object_type.name))
                continue
            field_def = object_type.fields[name]
            nonnull = isinstance(field_def.type, GraphQLNonNull)
            if name in spec.relations:
                targets = self._targets(spec, name, field_def, group)
                plan.steps.append((RELATION, key, targets, nonnull))
                for relation in spec.relations[name]:
                    plan.columns.update(spec.deps[relation.attr])
                continue
            if name in spec.loaded and not field_def.args:
                item = _unwrap(field_def.type)
                if not is_leaf_type(item):
                    raise NotCompiled(f"{object_type.name}.{name} is not a list of leaves")
                plan.steps.append((LOADED, key, spec.loaded[name], item.serialize))
                continue
            definition = field_def.extensions.get(STRAWBERRY)
            leaf = _unwrap(field_def.type)
            columns = None if definition is None else spec.columns_of(definition.python_name)
            if (
                definition is None
                or definition.base_resolver is not None
                or definition.extensions
                or definition.permission_classes
                or field_def.args
                or columns is None
                or not is_leaf_type(leaf)
            ):
                # Its resolver answers it, on the lean executor, for the whole level at once.
                if not self.planned(object_type.name, name):
                    raise NotCompiled(f"{object_type.name}.{name} is not planned")
                plan.lean[key] = group
                plan.steps.append((LEAN, key))
                continue
            plan.columns.update(columns)
            plan.steps.append((LEAF, key, definition.python_name, leaf.serialize, nonnull))
        if plan.lean:
            plan.columns = set(spec.model._meta.fields_db_projection)
        return plan

    def _targets(
        self, spec: Spec, name: str, field_def: Any, group: list[FieldDetails]
    ) -> list[tuple[str, NodePlan]]:
        target = _unwrap(field_def.type)
        targets = []
        for relation in spec.relations[name]:
            runtime = self.schema.get_type(relation.type_name)
            assert isinstance(runtime, GraphQLObjectType)
            if runtime is not target and not (
                isinstance(target, GraphQLUnionType) and runtime in target.types
            ):
                raise NotCompiled(f"{name} is not a {relation.type_name}")
            targets.append((relation.attr, self.plan(runtime, group)))
        return targets

    async def serialise(
        self, plan: NodePlan, rows: Sequence[Row], path: Path | None = None
    ) -> list[dict[str, Any]]:
        """The response objects of rows of the plan's type (relations read a level at a time)."""
        objects = [plan.spec.build(row) for row in rows]
        resolved: list[dict[str, Any]] = []
        if plan.lean:
            resolved = await self.lean.objects(plan.object_type, objects, plan.lean, path)
        related: dict[str, list[Any]] = {}
        for step in plan.steps:
            if step[0] == RELATION:
                related[step[1]] = await self._related(objects, step[2], path)
            elif step[0] == JOINED:
                related[step[1]] = await self._joined(objects, rows, step[2], path)
            elif step[0] == LOADED:
                loader = getattr(self.ex.context_value.loaders, step[2])
                lists = await loader.load_many([obj.pk for obj in objects])
                related[step[1]] = [[step[3](item) for item in items] for items in lists]
        outs = []
        for index, obj in enumerate(objects):
            out: dict[str, Any] = {}
            for step in plan.steps:
                kind, key = step[0], step[1]
                if kind == LEAF:
                    value = getattr(obj, step[2])
                    if value is None:
                        if step[4]:
                            raise NotCompiled(f"null at non-null {key}")
                        out[key] = None
                        continue
                    value = step[3](value)
                    if value is None or value is Undefined:
                        raise NotCompiled(f"{key} did not serialise")
                    out[key] = value
                elif kind == TYPENAME:
                    out[key] = step[2]
                elif kind == LOADED:
                    out[key] = related[key][index]
                elif kind == LEAN:
                    out[key] = resolved[index][key]
                else:
                    value = related[key][index]
                    if value is None and step[3]:
                        raise NotCompiled(f"null at non-null {key}")
                    out[key] = value
            outs.append(out)
        return outs

    async def _joined(
        self,
        objects: list[Any],
        rows: Sequence[Row],
        targets: list[tuple[str, str, NodePlan]],
        path: Path | None,
    ) -> list[dict[str, Any] | None]:
        """The related object of each object from the columns joined into its row (the first
        target whose key is set decides; a row that is gone joins as nulls: null)."""
        values: list[dict[str, Any] | None] = [None] * len(objects)
        chosen = [next((t for t in targets if getattr(o, t[0]) is not None), None) for o in objects]
        for target in targets:
            _, prefix, plan = target
            picked = [
                i
                for i, c in enumerate(chosen)
                if c is target and rows[i].__dict__.get(prefix + "id") is not None
            ]
            if not picked:
                continue
            found = [
                plan.spec.row({c: rows[i].__dict__[prefix + c] for c in plan.columns})
                for i in picked
            ]
            for i, out in zip(picked, await self.serialise(plan, found, path), strict=True):
                values[i] = out
        return values

    async def _related(
        self, objects: list[Any], targets: list[tuple[str, NodePlan]], path: Path | None
    ) -> list[dict[str, Any] | None]:
        """The related object of each object: the first target whose key is set decides (as
        the resolvers do); a key naming a row that is gone gives null, as the loaders do."""
        chosen: list[tuple[str, NodePlan] | None] = [None] * len(objects)
        for index, obj in enumerate(objects):
            for target in targets:
                if getattr(obj, target[0]) is not None:
                    chosen[index] = target
                    break
        values: list[dict[str, Any] | None] = [None] * len(objects)
        for attr, plan in targets:
            ids = {
                getattr(o, attr) for o, c in zip(objects, chosen, strict=True) if c and c[0] == attr
            }
            if not ids:
                continue
            found = await _by_ids(plan, sorted(ids))
            outs = await self.serialise(plan, found, path)
            by_id = dict(zip((r.id for r in found), outs, strict=True))
            for index, obj in enumerate(objects):
                target = chosen[index]
                if target is not None and target[0] == attr:
                    values[index] = by_id.get(getattr(obj, attr))
        return values


def _join(plan: NodePlan) -> None:
    """Read the to-one relations of a page's nodes in the page's own statement (LEFT OUTER
    JOINs, the related columns named `<relation>__<column>`) instead of one more each."""
    meta = plan.spec.model._meta
    for index, step in enumerate(plan.steps):
        if step[0] != RELATION:
            continue
        joined = []
        for attr, sub in step[2]:
            source = plan.spec.deps[attr][0]
            fk = next(
                (f for f in meta.fk_fields if meta.fields_map[f].source_field == source), None
            )
            if fk is None or sub.lean:
                break
            joined.append((attr, f"{fk}__", sub))
        else:
            plan.steps[index] = (JOINED, step[1], joined, step[3])
            for _, prefix, sub in joined:
                plan.columns.update(prefix + column for column in sub.columns)


async def _by_ids(plan: NodePlan, ids: list[int]) -> list[Row]:
    """The rows with these ids, their plan's columns only: one statement written here (the
    ORM's query building costs more than the statement for a list of ids)."""
    model = plan.spec.model
    meta = model._meta
    client = meta.db
    columns = sorted(plan.columns)
    if client.capabilities.dialect == "postgres":
        marks = ",".join(f"${i}" for i in range(1, len(ids) + 1))
    else:
        marks = ",".join("?" * len(ids))
    names = ",".join(f'"{meta.fields_db_projection[c]}"' for c in columns)
    key = meta.fields_db_projection["id"]
    sql = f'SELECT {names} FROM "{meta.db_table}" WHERE "{key}" IN ({marks})'
    _, records = await client.execute_query(sql, ids)
    convert = [meta.fields_map[c].to_python_value for c in columns]
    row = plan.spec.row
    return [
        row({c: f(v) for c, f, v in zip(columns, convert, tuple(r), strict=True)}) for r in records
    ]


def _unwrap(gtype: Any) -> Any:
    while hasattr(gtype, "of_type"):
        gtype = gtype.of_type
    return gtype


def _node_type(connection: GraphQLObjectType) -> GraphQLObjectType | None:
    """The node type of a connection type (its `edges.node`), or None for another type."""
    edges = connection.fields.get("edges")
    if edges is None:
        return None
    edge = _unwrap(edges.type)
    node = edge.fields.get("node") if isinstance(edge, GraphQLObjectType) else None
    node_type = _unwrap(node.type) if node is not None else None
    return node_type if isinstance(node_type, GraphQLObjectType) else None
