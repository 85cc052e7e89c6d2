"""The lean executor: a query answered level by level over whole lists of objects.

graphql-core completes one field of one object at a time: a ResolveInfo, a response path, the
middleware, an awaitable check and a completion per field and item. For a page of 50 tickets
that is thousands of small steps, and they cost more than the SQL. This executor walks the same
selection sets (collected by graphql-core itself, so fragments, aliases and `@include`/`@skip`
mean the same), but per field of a *level*: a field's resolver is called for every object of
the level with one ResolveInfo, plain data fields are read as attributes (strawberry's default
resolver), and leaves are serialised by their GraphQL type, so values come out as the full
executor gives them.

It answers only what it can answer identically: any field the registry does not plan, an error
in a resolver, a null where the schema says non-null, `@defer`/`@stream` or fragment arguments
raise `Fallback`, and the request runs on the full executor instead (reads only, so running it
again is harmless).
"""

from __future__ import annotations

import asyncio
import inspect
import types
from collections.abc import Callable, Sequence
from typing import Any

from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    is_abstract_type,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetails, collect_fields
from graphql.execution.executor import Executor
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined

from deskql.readpath.compiled import (
    NESTED,
    NODE_ROOTS,
    ROOTS,
    Compiler,
    NotCompiled,
    Page,
    Row,
    key_of,
)
from deskql.schema.connections import COMPILING, CompiledFetch

STRAWBERRY = "strawberry-definition"

Planned = Callable[[str, str], bool]


class Fallback(Exception):
    """The lean executor cannot give exactly the full executor's answer for this request."""


def _awaitable(value: Any) -> bool:
    kind = type(value)
    known = _AWAITABLE.get(kind)
    if known is not None:
        return known
    found = isinstance(value, asyncio.Future) or inspect.isawaitable(value)
    # Whether a value is awaitable depends on its type alone, except for generators (one
    # made a coroutine by types.coroutine is): those are asked each time.
    if kind is not types.GeneratorType:
        _AWAITABLE[kind] = found
    return found


# type -> whether its values are awaitable (the ABC check costs more than the rest of a step)
_AWAITABLE: dict[type, bool] = {}


class LeanExecution:
    """One operation on the lean executor; `run()` gives the `data` of the response."""

    def __init__(
        self,
        executor: Executor,
        planned: Planned,
        compiled: bool = True,
        plans: dict[Any, Any] | None = None,
    ) -> None:
        self.ex = executor
        self.planned = planned
        self.compiler = Compiler(executor, self, planned, plans) if compiled else None
        self.pages: list[Page] = []

    async def run(self) -> dict[str, Any]:
        """The operation's data, or Fallback."""
        ex = self.ex
        root = ex.schema.query_type
        if root is None or ex.operation.operation.value != "query":
            raise Fallback("not a query")
        collected = collect_fields(ex.schema, ex.fragments, ex.variable_values, root, ex.operation)
        if collected.new_defer_usages or collected.forbidden_directive_instances:
            raise Fallback("@defer or @stream")
        outs = await self.objects(root, [ex.root_value], collected.grouped_field_set, None)
        return outs[0]

    async def objects(
        self,
        object_type: GraphQLObjectType,
        values: Sequence[Any],
        grouped: dict[str, list[FieldDetails]],
        path: Path | None,
        compiled: dict[str, CompiledFetch] | None = None,
    ) -> list[dict[str, Any]]:
        """The response objects of `values`, all of one runtime type, for this selection
        (`compiled`: response key -> how its resolvers read their lists, readpath.compiled)."""
        keys = list(grouped)
        outs: list[dict[str, Any]] = [dict.fromkeys(keys) for _ in values]
        pending: list[tuple[list[Any], int, Any]] = []
        fields: list[tuple[str, GraphQLOutputType, list[FieldDetails], list[Any], Path]] = []
        try:
            self._resolve(object_type, values, grouped, path, outs, pending, fields, compiled)
        except BaseException:
            # Resolvers already called and not awaited: closed, not left for the collector.
            for _, _, result in pending:
                _close(result)
            raise
        if pending:
            done = await asyncio.gather(*(item[2] for item in pending))
            for (results, i, _), value in zip(pending, done, strict=True):
                results[i] = value
        completed = await asyncio.gather(
            *(
                self.complete(rtype, details, results, fpath)
                for _, rtype, details, results, fpath in fields
            )
        )
        for (key, *_), column in zip(fields, completed, strict=True):
            for out, value in zip(outs, column, strict=True):
                out[key] = value
        return outs

    def _resolve(
        self,
        object_type: GraphQLObjectType,
        values: Sequence[Any],
        grouped: dict[str, list[FieldDetails]],
        path: Path | None,
        outs: list[dict[str, Any]],
        pending: list[tuple[list[Any], int, Any]],
        fields: list[tuple[str, GraphQLOutputType, list[FieldDetails], list[Any], Path]],
        compiled: dict[str, CompiledFetch] | None = None,
    ) -> None:
        """Each field's values over the level (awaitables noted in `pending`)."""
        ex = self.ex
        type_name = object_type.name
        for key, details in grouped.items():
            first = details[0]
            if first.defer_usage is not None or first.fragment_variable_values is not None:
                raise Fallback("deferred fields or fragment arguments")
            name = first.node.name.value
            if name == "__typename":
                for out in outs:
                    out[key] = type_name
                continue
            field_def = object_type.fields.get(name)
            if field_def is None or not self.planned(type_name, name):
                raise Fallback(f"{type_name}.{name} is not planned")
            field_path = Path(path, key, type_name)
            definition = field_def.extensions.get(STRAWBERRY)
            if (
                definition is not None
                and definition.base_resolver is None
                and not definition.extensions
                and not definition.permission_classes
            ):
                attr = definition.python_name
                results = [getattr(value, attr) for value in values]
            else:
                nodes = [d.node for d in details]
                info = ex.build_resolve_info(field_def, nodes, object_type, field_path)
                args = get_argument_values(field_def, first.node, ex.variable_values)
                resolve = field_def.resolve or ex.field_resolver
                page: CompiledFetch | None = compiled.get(key) if compiled else None
                if self.compiler is not None:
                    if (path is None and name in ROOTS) or (type_name, name) in NESTED:
                        page = self.compiler.page(field_def.type, details)
                        if page is not None:
                            self.pages.append(page)
                    elif path is None and name in NODE_ROOTS:
                        by_type = self.compiler.nodes(field_def.type, details)
                        if by_type is not None:
                            self.pages.extend(by_type.pages.values())
                            page = by_type
                if page is not None:
                    results = [_compiled(page, resolve, value, info, args) for value in values]
                else:
                    results = [resolve(value, info, **args) for value in values]
                for i, result in enumerate(results):
                    if _awaitable(result):
                        pending.append((results, i, result))
            fields.append((key, field_def.type, details, results, field_path))

    async def complete(
        self,
        return_type: GraphQLOutputType,
        details: list[FieldDetails],
        values: list[Any],
        path: Path,
    ) -> list[Any]:
        """The completed values of one field over a level, as the full executor completes them."""
        if isinstance(return_type, GraphQLNonNull):
            if any(value is None for value in values):
                raise Fallback(f"null at non-null {path.key}")
            return_type = return_type.of_type
        out: list[Any] = [None] * len(values)
        present = [i for i, value in enumerate(values) if value is not None]
        if not present:
            return out
        if any(isinstance(values[i], Exception) for i in present):
            raise Fallback("a resolver returned an error")
        if isinstance(return_type, GraphQLList):
            flat: list[Any] = []
            spans: list[tuple[int, int, int]] = []
            for i in present:
                value = values[i]
                if isinstance(value, str | bytes | dict):
                    raise Fallback("a list field returned a non-list")
                items = list(value)
                spans.append((i, len(flat), len(items)))
                flat.extend(items)
            waiting = [j for j, item in enumerate(flat) if _awaitable(item)]
            if waiting:
                done = await asyncio.gather(*(flat[j] for j in waiting))
                for j, item in zip(waiting, done, strict=True):
                    flat[j] = item
            items_done = await self.complete(return_type.of_type, details, flat, path)
            for i, start, count in spans:
                out[i] = items_done[start : start + count]
            return out
        if is_leaf_type(return_type):
            serialize = return_type.serialize  # type: ignore[union-attr]
            for i in present:
                value = serialize(values[i])
                if value is Undefined or value is None:
                    raise Fallback(f"{return_type} could not serialise a value")
                out[i] = value
            return out
        if isinstance(return_type, GraphQLObjectType):
            await self._complete_objects(return_type, details, values, present, out, path)
            return out
        if is_abstract_type(return_type):
            await self._complete_abstract(return_type, details, values, present, out, path)
            return out
        raise Fallback(f"unexpected output type {return_type}")

    async def _complete_objects(
        self,
        object_type: GraphQLObjectType,
        details: list[FieldDetails],
        values: list[Any],
        indexes: list[int],
        out: list[Any],
        path: Path,
    ) -> None:
        chosen = [values[i] for i in indexes]
        if isinstance(chosen[0], Row):
            done = await self._compiled_rows(object_type, details, chosen, path)
        else:
            check = object_type.is_type_of
            if check is not None and not all(check(value, None) for value in chosen):
                raise Fallback(f"a value is not a {object_type.name}")
            collected = self.ex.collect_subfields(object_type, details)
            if collected.new_defer_usages:
                raise Fallback("@defer")
            done = await self.objects(object_type, chosen, collected.grouped_field_set, path)
        for i, value in zip(indexes, done, strict=True):
            out[i] = value

    async def _compiled_rows(
        self,
        object_type: GraphQLObjectType,
        details: list[FieldDetails],
        rows: list[Any],
        path: Path,
    ) -> list[dict[str, Any]]:
        """Nodes of a compiled page: serialised from their rows by the page's plan."""
        assert self.compiler is not None
        key = key_of(details)
        name = object_type.name
        plan = next(
            (p.plans[key] for p in self.pages if key in p.plans and p.row.graphql_type == name),
            None,
        )
        try:
            if plan is None or plan.type_name != name:
                raise NotCompiled("no plan for these nodes")
            return await self.compiler.serialise(plan, rows, path)
        except NotCompiled as exc:
            raise Fallback(str(exc)) from None

    async def _complete_abstract(
        self,
        abstract: Any,
        details: list[FieldDetails],
        values: list[Any],
        indexes: list[int],
        out: list[Any],
        path: Path,
    ) -> None:
        ex = self.ex
        resolve_type = abstract.resolve_type or ex.type_resolver
        info = ex.build_resolve_info(
            _field_of(details, abstract), [d.node for d in details], abstract, path
        )
        by_type: dict[str, list[int]] = {}
        for i in indexes:
            value = values[i]
            # A compiled node's row names its type (`node`/`nodes`)
            name = (
                value.graphql_type
                if isinstance(value, Row)
                else resolve_type(value, info, abstract)
            )
            if not isinstance(name, str):
                raise Fallback("a type resolver did not name a type")
            by_type.setdefault(name, []).append(i)
        for name, group in by_type.items():
            runtime = ex.schema.get_type(name)
            if not isinstance(runtime, GraphQLObjectType) or not ex.schema.is_sub_type(
                abstract, runtime
            ):
                raise Fallback(f"{name} is not a possible type of {abstract.name}")
            await self._complete_objects(runtime, details, values, group, out, path)


async def _compiled(
    page: CompiledFetch, resolve: Any, value: Any, info: Any, args: dict[str, Any]
) -> Any:
    """A root field's result, its page (or its `node`/`nodes` objects) read by the compiled
    path (schema.connections.COMPILING)."""
    token = COMPILING.set(page)
    try:
        result = resolve(value, info, **args)
        return (await result) if _awaitable(result) else result
    finally:
        COMPILING.reset(token)


def _close(result: Any) -> None:
    """Close a coroutine that will not be awaited (other awaitables are left as they are)."""
    if asyncio.iscoroutine(result):
        result.close()


def _field_of(details: list[FieldDetails], abstract: Any) -> Any:
    """A stand-in field definition for the ResolveInfo a type resolver receives."""

    class _Field:
        type = abstract

    return _Field()
