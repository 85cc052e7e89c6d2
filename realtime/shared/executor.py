"""SharedEvent, the group keys, and SharedExecutor: a group's selection executed once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLSchema,
    OperationDefinitionNode,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from deskql.realtime.shared.cache import results
from deskql.realtime.shared.scope import _is_per_agent, scope_key
from deskql.services.auth import Actor


@dataclass(frozen=True, slots=True)
class SharedEvent:
    """A subscription event that may share its GraphQL result with the subscriber's group:
    `make()` builds the object the field resolves to, `key` names the event (the same for
    every member of a group), `actor` is the subscriber as re-checked for this event."""

    make: Callable[[], Any]
    key: Hashable
    actor: Actor
    group: Hashable | None = None
    # The object differs for each member (PERSONAL_TYPES): shared only through `fan_out`,
    # which fills in each member's own values.
    personal: bool = False


class EncodedData(dict):  # type: ignore[type-arg]
    """A result's `data` with its JSON encoding, made once for the whole group."""

    __slots__ = ("json",)

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self.json = orjson.dumps(data)


def group_prefix(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
) -> tuple[Any, ...] | None:
    """The part of a group key fixed for a subscription's life: (document, operation,
    variables, per-agent?); None: not shareable."""
    if operation.loc is None:
        return None
    return (
        operation.loc.source.body,
        operation.name.value if operation.name else None,
        orjson.dumps(variables, option=orjson.OPT_SORT_KEYS, default=str),
        _is_per_agent(schema, operation, fragments),
    )


def event_key(prefix: tuple[Any, ...], event: SharedEvent) -> Hashable:
    """(document, operation, variables, access scope, event)."""
    return key_of(prefix, event.actor, event.key)


def key_of(prefix: tuple[Any, ...], actor: Actor, key: Hashable) -> Hashable:
    """The group key of an event named `key` for a subscriber (`actor`) of a subscription
    whose `group_prefix` is `prefix`."""
    body, name, variables, per_agent = prefix
    return (body, name, variables, scope_key(actor, per_agent=per_agent), key)


def group_key(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    event: SharedEvent,
) -> Hashable | None:
    """(document, operation, variables, access scope, event); None: not shareable."""
    prefix = group_prefix(schema, operation, fragments, variables)
    return None if prefix is None else event_key(prefix, event)


def _encoded(result: ExecutionResult) -> ExecutionResult:
    if result.errors or result.data is None:
        return result
    return ExecutionResult(data=EncodedData(result.data), extensions=result.extensions)


def _copy(result: ExecutionResult) -> ExecutionResult:
    # Every subscriber gets its own result object (strawberry's extensions set and mask
    # errors on it); `data` is shared and never changed after execution.
    errors = list(result.errors) if result.errors else None
    return ExecutionResult(data=result.data, errors=errors, extensions=result.extensions)


class SharedExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, executing a SharedEvent once per subscriber group."""

    shared_event: SharedEvent | None = None

    def build_per_event_executor(self, payload: Any) -> Any:
        if not isinstance(payload, SharedEvent):
            return super().build_per_event_executor(payload)
        executor = super().build_per_event_executor(payload.make())
        executor.shared_event = payload
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        event = self.shared_event
        key = None
        if event is not None and (event.group is not None or not event.personal):
            key = event.group or group_key(
                self.schema,
                self.operation,
                self.fragment_definitions,
                self.variable_values.coerced,
                event,
            )
        if key is None:
            return super().execute_operation(serially)
        entry, _ = results.claim(key)
        if not entry.started and not entry.future.done():
            results.executions += 1
            entry.start(self._execute_once(serially))
        else:
            results.shared += 1
        if entry.future.done():
            return _copy(entry.future.result())
        return _wait(entry.future)

    async def _execute_once(self, serially: bool | None) -> ExecutionResult:
        result = super().execute_operation(serially)
        if self.is_awaitable(result):
            result = await result  # type: ignore[misc]
        return _encoded(result)  # type: ignore[arg-type]


async def _wait(future: asyncio.Future[ExecutionResult]) -> ExecutionResult:
    # Shielded: a subscriber leaving must not cancel its group's execution.
    return _copy(await asyncio.shield(future))
