"""Personal subscription events (`notificationCreated`): one execution per group, each
member's own values filled in.

Each agent's event carries its own notification (id, cursor, reason, read state) and unread
count: those are plain data fields of the PERSONAL_TYPES, whose objects are the subscriber's
own. The group (same document, variables, access and activity) executes once
(realtime/shared.py); for each other member `personal_plan` names the response keys that hold
such fields, and `personalise` copies the group's result along them, filled with the member's
own values serialized by the fields' own GraphQL types. A document that selects anything else
on a personal type (a resolver not in SCOPE_ONLY_RESOLVERS, a list, @skip/@include) has no
plan: each subscriber executes it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    Undefined,
    get_named_type,
    get_nullable_type,
)

from deskql.realtime.shared import PERSONAL_TYPES, _ByDocument, _scope_only

# A plan: response key -> (attribute, how to fill it in): a leaf's serializer, or the plan of
# a personal object below it. The attribute None at the root: the event object itself.
Plan = dict[str, tuple[str | None, "Callable[[Any], Any] | Plan"]]


class NoPlan(Exception):
    """The document selects something on a personal type that cannot be filled in."""


class Mismatch(Exception):
    """A member's event does not have the shape of the group's result (execute it instead)."""


def personal_plan(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
) -> Plan | None:
    """Where a subscription's result holds each member's own values; None when the document
    selects on a personal type a field that is neither plain data (a scalar, an enum or a
    personal object) nor a shared resolver in SCOPE_ONLY_RESOLVERS."""
    root = schema.subscription_type
    if root is None:
        return None
    plan: Plan = {}
    try:
        _plan_selections(schema, root, operation.selection_set, fragments, plan, at_root=True)
    except NoPlan:
        return None
    return plan


def _plan_selections(
    schema: GraphQLSchema,
    parent: Any,
    selection_set: Any,
    fragments: dict[str, FragmentDefinitionNode],
    plan: Plan,
    *,
    at_root: bool = False,
) -> None:
    for node in selection_set.selections:
        if node.directives:
            raise NoPlan("@skip/@include on a personal type")
        if isinstance(node, FieldNode):
            _plan_field(schema, parent, node, fragments, plan, at_root=at_root)
            continue
        if isinstance(node, FragmentSpreadNode):
            fragment = fragments.get(node.name.value)
            if fragment is None or fragment.directives:
                raise NoPlan("unknown fragment")
            condition, selections = fragment.type_condition, fragment.selection_set
        elif isinstance(node, InlineFragmentNode):
            condition, selections = node.type_condition, node.selection_set
        else:
            raise NoPlan("unknown selection")
        if condition is not None and condition.name.value != parent.name:
            raise NoPlan("a fragment on another type")
        _plan_selections(schema, parent, selections, fragments, plan, at_root=at_root)


def _plan_field(
    schema: GraphQLSchema,
    parent: Any,
    node: FieldNode,
    fragments: dict[str, FragmentDefinitionNode],
    plan: Plan,
    *,
    at_root: bool,
) -> None:
    name = node.name.value
    if name == "__typename":
        return
    field = parent.fields.get(name)
    if field is None:
        raise NoPlan(f"no field {parent.name}.{name}")
    key = node.alias.value if node.alias else name
    kind = get_nullable_type(field.type)
    if at_root:
        if get_named_type(kind).name not in PERSONAL_TYPES or not isinstance(
            kind, GraphQLObjectType
        ):
            raise NoPlan("not a personal event")
        sub: Plan = _sub_plan(plan, key, None)
        _plan_selections(schema, kind, node.selection_set, fragments, sub)
        return
    definition = (field.extensions or {}).get("strawberry-definition")
    if _scope_only(parent.name, name):
        return  # the group's: the same for every member
    if definition is None or definition.base_resolver is not None or definition.permission_classes:
        raise NoPlan(f"{parent.name}.{name} is resolved per agent")
    attribute = definition.python_name
    if isinstance(kind, GraphQLScalarType | GraphQLEnumType):
        plan[key] = (attribute, _leaf(kind, nullable=not isinstance(field.type, GraphQLNonNull)))
    elif isinstance(kind, GraphQLObjectType) and kind.name in PERSONAL_TYPES:
        sub = _sub_plan(plan, key, attribute)
        _plan_selections(schema, kind, node.selection_set, fragments, sub)
    else:
        raise NoPlan(f"{parent.name}.{name} cannot be filled in")


def _sub_plan(plan: Plan, key: str, attribute: str | None) -> Plan:
    found = plan.get(key)
    if found is not None and isinstance(found[1], dict):
        return found[1]
    sub: Plan = {}
    plan[key] = (attribute, sub)
    return sub


def _leaf(kind: GraphQLScalarType | GraphQLEnumType, *, nullable: bool) -> Callable[[Any], Any]:
    def serialize(value: Any) -> Any:
        # As graphql-core completes a leaf: null only where the type allows it.
        if value is None:
            if nullable:
                return None
            raise Mismatch("null for a non-null field")
        result = kind.serialize(value)
        if result is None or result is Undefined:
            raise Mismatch("cannot serialize")
        return result

    return serialize


def personalise(data: dict[str, Any], event: Any, plan: Plan) -> dict[str, Any]:
    """The group's result `data` with this member's own values at the plan's keys: copied
    along them only, the rest shared. Raises Mismatch when the shapes differ."""
    out = dict(data)
    for key, (attribute, fill) in plan.items():
        value = event if attribute is None else getattr(event, attribute)
        if isinstance(fill, dict):
            below = out.get(key, _MISSING)
            if below is _MISSING or (below is None) != (value is None):
                raise Mismatch("a personal object is null for one member only")
            if value is not None:
                out[key] = personalise(below, value, fill)
        else:
            if key not in out:
                raise Mismatch("a key is missing")
            out[key] = fill(value)
    return out


_MISSING = object()
_personal_plan = _ByDocument(personal_plan, without_source=None)
