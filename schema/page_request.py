"""What page a client asked for: `first`/`after` forward, `last`/`before` backward.

Every field returning a `...Connection` with `first`/`after` also takes `last`/`before`: the
schema pass `add_backward_arguments` adds them (one place, so no connection misses them) and
wraps the field's resolver so a list that cannot page backward refuses them with
BAD_PAGINATION instead of ignoring them (every list of the API honours them today: sorted
queries by keyset, schema/connections.py; loaded lists too, schema/loaded_pages.py).
`PageRequest.of(info, ...)` reads them back from the request.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLField,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    VariableNode,
    default_field_resolver,
    value_from_ast,
)

from deskql.schema.cursors import BadPagination

DEFAULT_PAGE_SIZE = 20
LAST_DESCRIPTION = (
    "Page size counted back from `before`, or the last page without it; 0 to 100; not "
    "together with `first` (BAD_PAGINATION)."
)
BEFORE_DESCRIPTION = "Cursor of the item before which the page ends (pass a `startCursor`)."
# Set on a connection that consumed `last`/`before` (see `add_backward_arguments`).
BACKWARD_ATTR = "handles_backward"


@dataclass(frozen=True)
class PageRequest:
    """The paging arguments of one connection field, checked."""

    list_name: str
    first: int | None
    after: str | None
    last: int | None
    before: str | None
    max_size: int
    count_cap: int
    settings: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def of(
        cls,
        info: Any,
        first: int | None,
        after: str | None,
        last: int | None = None,
        before: str | None = None,
    ) -> PageRequest:
        """The page this field's arguments ask for (`last`/`before` read from the request
        when not passed)."""
        raw = getattr(info, "_raw_info", info)
        if last is None and before is None:
            last, before = _backward_args(raw)
        settings = info.context.settings
        return cls(
            list_name=f"{raw.parent_type.name}.{raw.field_name}",
            first=first,
            after=after,
            last=last,
            before=before,
            max_size=settings.max_page_size,
            count_cap=settings.total_count_cap,
            settings=settings,
        )

    @property
    def backward(self) -> bool:
        """Whether the page is counted back from the end (`last`)."""
        return self.last is not None or (self.before is not None and self.first is None)

    def size(self) -> int:
        """The page size; BadPagination outside 0..max_size or with both first and last."""
        if self.first is not None and self.last is not None:
            raise BadPagination("give first or last, not both")
        return check_size(self.last if self.last is not None else self.first, self.max_size)


def check_size(size: int | None, max_size: int, name: str = "first") -> int:
    """The page size to use (20 when not given); BadPagination outside 0..max_size."""
    size = DEFAULT_PAGE_SIZE if size is None else size
    if size < 0 or size > max_size:
        raise BadPagination(f"{name} must be between 0 and {max_size}, got {size}")
    return size


def _backward_args(info: Any) -> tuple[int | None, str | None]:
    definition = info.parent_type.fields.get(info.field_name)
    if definition is None or "last" not in definition.args:
        return None, None
    found: dict[str, Any] = {}
    for node in info.field_nodes[0].arguments or ():
        name = node.name.value
        if name not in ("last", "before"):
            continue
        if isinstance(node.value, VariableNode):
            found[name] = (info.variable_values or {}).get(node.value.name.value)
        else:
            found[name] = value_from_ast(node.value, definition.args[name].type)
    return found.get("last"), found.get("before")


def _is_connection(gql_field: GraphQLField) -> bool:
    gql_type: Any = gql_field.type
    while isinstance(gql_type, GraphQLNonNull | GraphQLList):
        if isinstance(gql_type, GraphQLList):
            return False
        gql_type = gql_type.of_type
    name = getattr(gql_type, "name", "")
    return name.endswith("Connection") and "first" in gql_field.args and "after" in gql_field.args


def _refuse_unless_handled(result: Any) -> Any:
    if result is not None and not getattr(result, BACKWARD_ATTR, False):
        raise BadPagination(
            "this list is positional (not sorted by a query): it pages forward only, "
            "with first/after"
        )
    return result


def _guarded(resolve: Any) -> Any:
    def resolver(source: Any, info: Any, **kwargs: Any) -> Any:
        result = resolve(source, info, **kwargs)
        if kwargs.get("last") is None and kwargs.get("before") is None:
            return result
        if inspect.isawaitable(result):

            async def checked() -> Any:
                return _refuse_unless_handled(await result)

            return checked()
        return _refuse_unless_handled(result)

    return resolver


def add_backward_arguments(schema: GraphQLSchema) -> None:
    """Give every connection field `last` and `before` (after its `after`), described, and
    refuse them where the list cannot honour them."""
    for gql_type in schema.type_map.values():
        if not isinstance(gql_type, GraphQLObjectType | GraphQLInterfaceType):
            continue
        if gql_type.name.startswith("__"):
            continue
        for gql_field in gql_type.fields.values():
            if not _is_connection(gql_field) or "last" in gql_field.args:
                continue
            args: dict[str, GraphQLArgument] = {}
            for name, arg in gql_field.args.items():
                args[name] = arg
                if name == "after":
                    args["last"] = GraphQLArgument(GraphQLInt, description=LAST_DESCRIPTION)
                    args["before"] = GraphQLArgument(GraphQLString, description=BEFORE_DESCRIPTION)
            gql_field.args = args
            if isinstance(gql_type, GraphQLObjectType):
                gql_field.resolve = _guarded(gql_field.resolve or default_field_resolver)
