"""Execute a subscription event's selection once per group of subscribers, not once each.

One activity on a busy ticket wakes every subscriber of `ticketUpdates(ticketId)` in this
process. Each still re-reads its rows and re-checks its own access (DESIGN rule 2; the reads
are batched by realtime.batch), but the GraphQL result of the event is the same for every
subscriber who sent the same document and variables and sees the same things. So a stream
yields a `SharedEvent` instead of the bare object, and `SharedExecutor` (the schema's
execution context class) runs the selection once per

    (document, operation name, variables, access scope, event)

and hands the same result to every subscriber of that group. The first subscriber of a group
to reach an event runs it through GraphQL as usual; the others (`fan_out`) wait for that
result and send its JSON, encoded once (`EncodedData`), straight to their WebSocket with
their operation id (`Sink`, set per operation by the protocol handlers in server.py): no
GraphQL execution, no strawberry result handling, no encoding per subscriber.

The access scope is what the fields' values may depend on. Most fields depend only on the
role and the department set (they filter by `policies.can_see_department` and friends); a few
depend on who asks (`Agent.notifications`/`following` are "only on `me`", `followers` lists
the asker even outside shared departments). `document_is_per_agent` reads the document: plain
data fields and the resolver fields in SCOPE_ONLY_RESOLVERS keep the scope at
(role, departments); any other resolver field, including any added later, adds the agent
(and token) to the key: slower, never wrong.

`notificationCreated` is not shared: each agent's event carries its own notification id,
cursor and unread count, so every group would have one member.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Coroutine, Hashable
from contextlib import aclosing
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLSchema,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    visit,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from services.auth import Actor

# Resolver-backed fields whose value depends only on the object and the asker's role and
# department set (reviewed one by one); plain data fields need no entry.
SCOPE_ONLY_RESOLVERS: frozenset[tuple[str, str]] = frozenset(
    {
        ("Subscription", "ticketUpdates"),
        ("Subscription", "dashboardUpdates"),
        ("Activity", "actor"),
        ("Activity", "subjectId"),
        ("Agent", "departments"),
        ("Agent", "teams"),
        ("Ticket", "department"),
        ("Ticket", "contact"),
        ("Ticket", "account"),
        ("Ticket", "product"),
        ("Ticket", "assignee"),
        ("Ticket", "tags"),
        ("Ticket", "comments"),
        ("Ticket", "threads"),
        ("Ticket", "attachments"),
        ("Ticket", "activities"),
        ("Comment", "author"),
        ("Team", "department"),
    }
)
# How long a computed group result is kept for the group's slower members, and how many.
RESULT_TTL = 5.0
MAX_RESULTS = 4096


@dataclass(frozen=True, slots=True)
class SharedEvent:
    """A subscription event that may share its GraphQL result with the subscriber's group:
    `make()` builds the object the field resolves to (only when it is executed), `key` names
    the event, `actor` is the subscriber as re-checked for this event."""

    make: Callable[[], Any]
    key: Hashable
    actor: Actor
    group: Hashable | None = None


class EncodedData(dict):  # type: ignore[type-arg]
    """A result's `data` with its JSON encoding, made once for the whole group."""

    __slots__ = ("json",)

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self.json = orjson.dumps(data)


class _PerAgentFields(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.per_agent = False

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        parent = self.type_info.get_parent_type()
        field = self.type_info.get_field_def()
        if parent is None or field is None or node.name.value == "__typename":
            return
        definition = (field.extensions or {}).get("strawberry-definition")
        has_resolver = definition is None or getattr(definition, "base_resolver", None)
        if has_resolver and (parent.name, node.name.value) not in SCOPE_ONLY_RESOLVERS:
            self.per_agent = True


def document_is_per_agent(schema: GraphQLSchema, document: DocumentNode) -> bool:
    """Whether a document selects a field whose value depends on who asks (not only on the
    role and departments)."""
    type_info = TypeInfo(schema)
    visitor = _PerAgentFields(type_info)
    visit(document, TypeInfoVisitor(type_info, visitor))
    return visitor.per_agent


_analysed: dict[tuple[int, str, str | None], bool] = {}


def _is_per_agent(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
) -> bool:
    name = operation.name.value if operation.name else None
    body = operation.loc.source.body if operation.loc else None
    if body is None:
        return True
    key = (id(schema), body, name)
    found = _analysed.get(key)
    if found is None:
        if len(_analysed) > 1024:
            _analysed.clear()
        document = DocumentNode(definitions=(operation, *fragments.values()))
        found = _analysed[key] = document_is_per_agent(schema, document)
    return found


def scope_key(actor: Actor, *, per_agent: bool) -> Hashable:
    """What an event's result may depend on besides the document and the event."""
    # A frozenset hashes once (cached) and compares as a set: no sorting per event.
    scope: tuple[Any, ...] = (actor.role, actor.department_ids)
    if per_agent:
        scope += (actor.agent_id, actor.token_id)
    return scope


class Abandoned(Exception):
    """The subscriber that was to execute an event for its group left before it did."""


class _Entry:
    """One event's result for one group: claimed, then started, then done."""

    __slots__ = ("created", "future", "started")

    def __init__(self) -> None:
        self.created = time.monotonic()
        self.future: asyncio.Future[ExecutionResult] = asyncio.get_running_loop().create_future()
        # Nobody may be waiting for an abandoned or failed execution: never log it as lost.
        self.future.add_done_callback(_retrieve)
        self.started = False

    def start(self, execution: Coroutine[Any, Any, ExecutionResult]) -> None:
        """Run the group's execution in its own task (no subscriber can cancel it)."""
        self.started = True
        task = asyncio.ensure_future(execution)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Future[ExecutionResult]) -> None:
        if self.future.done():
            return
        if task.cancelled():
            self.future.set_exception(Abandoned())
        elif task.exception() is not None:
            self.future.set_exception(task.exception())  # type: ignore[arg-type]
        else:
            self.future.set_result(task.result())

    def abandon(self) -> None:
        """The claimer left before executing: its group falls back to executing again."""
        if not self.started and not self.future.done():
            self.future.set_exception(Abandoned())

    @property
    def abandoned(self) -> bool:
        """Whether this entry will never have a result."""
        return self.future.done() and isinstance(self.future.exception(), Abandoned)


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


class _Results:
    """Group results of recent events, by group key; bounded by age and count."""

    def __init__(self) -> None:
        self._items: OrderedDict[Hashable, _Entry] = OrderedDict()
        self.executions = 0
        self.shared = 0
        self.direct = 0

    def get(self, key: Hashable) -> _Entry | None:
        entry = self._items.get(key)
        if entry is not None and time.monotonic() - entry.created > RESULT_TTL:
            del self._items[key]
            return None
        return entry

    def new(self, key: Hashable) -> _Entry:
        entry = self._items[key] = _Entry()
        self._items.move_to_end(key)
        now = entry.created
        while self._items:
            oldest_key, oldest = next(iter(self._items.items()))
            if len(self._items) <= MAX_RESULTS and now - oldest.created <= RESULT_TTL:
                break
            del self._items[oldest_key]
        return entry

    def claim(self, key: Hashable) -> tuple[_Entry, bool]:
        """The entry of a group's event, and whether the caller is the first to ask."""
        entry = self.get(key)
        if entry is None or entry.abandoned:
            return self.new(key), True
        return entry, False

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()


results = _Results()


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
    body, name, variables, per_agent = prefix
    return (body, name, variables, scope_key(event.actor, per_agent=per_agent), event.key)


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
        if event is not None:
            key = event.group or group_key(
                self.schema,
                self.operation,
                self.fragment_definitions,
                self.variable_values.coerced,
                event,
            )
        if key is None:
            return super().execute_operation(serially)
        entry = results.get(key)
        if entry is None or entry.abandoned:
            entry = results.new(key)
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


# -- sending a group's result straight to the other subscribers of the group ---------------


class Sink:
    """Where one subscription operation's frames go: its WebSocket, id and message type."""

    __slots__ = ("head", "websocket")

    def __init__(self, websocket: Any, operation_id: str, message_type: str) -> None:
        self.websocket = websocket
        head = orjson.dumps({"id": operation_id, "type": message_type})
        self.head = head[:-1] + b',"payload":{"data":'

    async def send(self, data_json: bytes) -> None:
        """Send a pre-encoded `data` as this operation's next result (a text frame)."""
        await self.websocket.send_text((self.head + data_json + b"}}").decode())


# Set by the WebSocket protocol handlers (server.py) in each operation's task.
SINK: ContextVar[Sink | None] = ContextVar("deskql_subscription_sink", default=None)


async def fan_out(info: Any, events: AsyncIterator[SharedEvent]) -> AsyncIterator[SharedEvent]:
    """The events this subscriber must run through GraphQL itself; the rest are sent as is.

    The first subscriber of a group to reach an event yields it (and executes it for the
    group); the others wait for that result and send its pre-encoded JSON straight to their
    WebSocket, skipping GraphQL execution, strawberry's per-result machinery and encoding.
    After a result with errors, or when the claimer left first, the event is yielded as
    usual.
    """
    async with aclosing(events), aclosing(_fan_out(info, events)) as shared_events:
        async for event in shared_events:
            yield event


async def _fan_out(info: Any, events: AsyncIterator[SharedEvent]) -> AsyncIterator[SharedEvent]:
    sink = SINK.get()
    raw = info._raw_info
    prefix = None
    if sink is not None:
        prefix = group_prefix(raw.schema, raw.operation, raw.fragments, raw.variable_values)
    async for event in events:
        if prefix is None:
            yield event
            continue
        key = event_key(prefix, event)
        entry, first = results.claim(key)
        event = SharedEvent(make=event.make, key=event.key, actor=event.actor, group=key)
        if first:
            try:
                yield event
            finally:
                entry.abandon()
            continue
        try:
            result = await asyncio.shield(entry.future)
        except Exception:  # noqa: BLE001 - abandoned or failed: execute it here instead
            result = None
        if result is None or result.errors or not isinstance(result.data, EncodedData):
            yield event
            continue
        results.direct += 1
        try:
            await sink.send(result.data.json)  # type: ignore[union-attr]
        except Exception:  # noqa: BLE001 - the WebSocket is gone: the stream is over
            return
