"""Planning: which columns, relations and resolvers one selection on a compiled type needs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLInt,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLString,
    GraphQLUnionType,
    is_abstract_type,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetails
from graphql.execution.executor import Executor

from deskql.readpath.compiled.reads import Nodes, Page
from deskql.readpath.compiled.specs import NotCompiled, Spec, specs
from deskql.schema.ids import to_global_id

if TYPE_CHECKING:
    from deskql.readpath.executor import LeanExecution

STRAWBERRY = "strawberry-definition"

LEAF, TYPENAME, RELATION, LOADED, LEAN, JOINED = 0, 1, 2, 3, 4, 5


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
    # True when every value is read from the rows themselves (no schema object is built)
    direct: bool = False
    # schema attribute -> how to read it from what `serialise` holds (rows when direct,
    # schema objects built by `from_row` otherwise)
    read: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    # The generated function writing its response objects, and the keys it writes inline
    # (emit.emitter, made on first use)
    emit: Any = field(default=None, repr=False)
    # Lean fields listing a loader's rows (spec.children): response key -> (the loader's name
    # on the request's loaders, the plans of the list's nodes)
    children: dict[str, tuple[str, PagePlan]] = field(default_factory=dict)

    @property
    def type_name(self) -> str:
        """The GraphQL type's name."""
        return self.object_type.name


@dataclass
class PagePlan:
    """The plans of one root list's nodes in one document (the same for every request of it
    with the same `@include`/`@skip` variables: kept with the document)."""

    spec: Spec
    plans: dict[tuple[int, ...], NodePlan] = field(default_factory=dict)
    columns: set[str] = field(default_factory=set)
    # The unchanging parts of its statement, by dialect and sort (reads.Static)
    statics: dict[Any, Any] = field(default_factory=dict)

    def page(self) -> Page:
        """A request's Page of these plans."""
        page = Page(self.spec.model, self.spec.row, self.statics)
        page.plans, page.columns = self.plans, self.columns
        return page


def key_of(details: Sequence[FieldDetails]) -> tuple[int, ...]:
    return tuple(id(d.node) for d in details)


class Planner:
    """Plans the root lists of one lean execution."""

    def __init__(
        self,
        executor: Executor,
        lean: LeanExecution,
        planned: Callable[[str, str], bool],
        cache: dict[tuple[Any, ...], Any] | None = None,
    ) -> None:
        self.ex = executor
        self.schema: GraphQLSchema = executor.schema
        self.lean = lean
        self.planned = planned
        # Plans of this document's root lists and `node`/`nodes` fields (readpath.Prepared
        # keeps them across requests)
        self.cache: dict[tuple[Any, ...], Any] = {} if cache is None else cache

    def page(self, field_type: GraphQLOutputType, details: list[FieldDetails]) -> Page | None:
        """A Page when every selection on the connection's nodes compiles, else None."""
        key = key_of(details)
        if key in self.cache:
            planned = self.cache[key]
        else:
            planned = self.cache[key] = self._page_plan(field_type, details)
        return None if planned is None else planned.page()

    def nodes(self, field_type: GraphQLOutputType, details: list[FieldDetails]) -> Nodes | None:
        """How `node`/`nodes` read the objects of each type whose selection compiles (their
        rows are the objects), or None when none does."""
        key = ("nodes", *key_of(details))
        if key in self.cache:
            planned = self.cache[key]
        else:
            planned = self.cache[key] = self._nodes_plan(field_type, details)
        if not planned:
            return None
        return Nodes({name: each.page() for name, each in planned.items()})

    def _nodes_plan(
        self, field_type: GraphQLOutputType, details: list[FieldDetails]
    ) -> dict[str, PagePlan]:
        """A page plan per compiled type the field may give (types whose selection does not
        compile are left out: `nodes` reads and converts them as always)."""
        abstract = _unwrap(field_type)
        if not is_abstract_type(abstract):
            return {}
        found = {}
        for object_type in self.schema.get_possible_types(abstract):
            spec = specs().get(object_type.name)
            if spec is None:
                continue
            try:
                plan = self.plan(object_type, details)
                _join(plan)
            except NotCompiled:
                continue
            found[object_type.name] = PagePlan(spec, {key_of(details): plan}, set(plan.columns))
        return found

    def _page_plan(
        self, field_type: GraphQLOutputType, details: list[FieldDetails]
    ) -> PagePlan | None:
        connection = _unwrap(field_type)
        if not isinstance(connection, GraphQLObjectType):
            return None
        node_type = _node_type(connection)
        if node_type is None or node_type.name not in specs():
            return None
        found = PagePlan(specs()[node_type.name])
        try:
            for node_details in self._node_selections(connection, details):
                plan = self.plan(node_type, node_details)
                _join(plan)
                found.plans[key_of(node_details)] = plan
                found.columns |= plan.columns
        except NotCompiled:
            return None
        return found if found.plans else None

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
            if name in spec.refused:
                raise NotCompiled(f"{object_type.name}.{name} needs more than the row")
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
                child = spec.children.get(name)
                if child is not None:
                    nodes = self._page_plan(field_def.type, group)
                    if nodes is not None and nodes.spec.row.graphql_type == child.type_name:
                        plan.children[key] = (child.loader, nodes)
                continue
            plan.columns.update(columns)
            plan.steps.append((LEAF, key, definition.python_name, _serializer(leaf), nonnull))
        if plan.lean:
            plan.columns = set(spec.model._meta.fields_db_projection)
        _readers(plan)
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


# Levels of to-one relations joined into a page's statement (ticket -> contact -> account)
JOIN_DEPTH = 3


def _join(plan: NodePlan, depth: int = 1) -> None:
    """Read the to-one relations of a page's nodes in the page's own statement (LEFT OUTER
    JOINs, the related columns named `<relation>__<column>`, and theirs in turn
    `<relation>__<relation>__<column>`, JOIN_DEPTH levels) instead of one more each."""
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
                if depth < JOIN_DEPTH:
                    _join(sub, depth + 1)
                plan.columns.update(prefix + column for column in sub.columns)


def _readers(plan: NodePlan) -> None:
    """How each attribute the plan reads is read: straight from the rows when every one of them
    is a column or a property of the row (no `from_row` per row), else from the schema objects."""
    spec = plan.spec
    attrs = {"pk"}
    for step in plan.steps:
        if step[0] == LEAF:
            attrs.add(step[2])
        elif step[0] == RELATION:
            attrs.update(attr for attr, _ in step[2])
    on_rows = {attr: spec.row_attr(attr) for attr in attrs}
    plan.direct = not plan.lean and all(
        row_attr is not None or attr == "id" for attr, row_attr in on_rows.items()
    )
    if not plan.direct:
        plan.read = {attr: attrgetter(attr) for attr in attrs}
        return
    type_name = plan.type_name
    plan.read = {
        attr: attrgetter(row_attr)
        if row_attr is not None
        else (lambda row: to_global_id(type_name, row.id))
        for attr, row_attr in on_rows.items()
    }


def _serializer(leaf: Any) -> Callable[[Any], Any]:
    """A leaf type's serialize, with the common cases answered without its checks (the same
    values: a str of String/ID, an int of Int, a bool of Boolean, a member of an enum)."""
    serialize = leaf.serialize
    exact = {GraphQLString: str, GraphQLID: str, GraphQLInt: int, GraphQLBoolean: bool}
    if leaf in exact:
        kind = exact[leaf]

        def same(value: Any) -> Any:
            return value if type(value) is kind else serialize(value)

        same.exact = kind  # type: ignore[attr-defined]  # emit writes this test inline
        return same
    if isinstance(leaf, GraphQLEnumType):
        names = {value.value: name for name, value in leaf.values.items()}

        def enum_name(value: Any) -> Any:
            try:
                return names[value]
            except (KeyError, TypeError):
                return serialize(value)

        return enum_name
    return serialize


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
