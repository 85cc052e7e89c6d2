"""Execute a subscription event's selection once per group of subscribers, not once each.

One activity on a busy ticket wakes every subscriber of `ticketUpdates(ticketId)` in this
process. Each still re-reads its rows and re-checks its own access (DESIGN rule 2; the reads
are batched by realtime.batch), but the GraphQL result of the event is the same for every
subscriber who sent the same document and variables and sees the same things. So a stream
yields a `SharedEvent` instead of the bare object, and `SharedExecutor` (the schema's
execution context class) runs the selection once per

    (document, operation name, variables, access scope, event)

and hands the same result to every subscriber of that group; the result's `data` carries its
JSON encoding (`EncodedData`), so the frame is serialised once too (server.TextWebSocket).

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
from collections.abc import Awaitable, Hashable
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLSchema,
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
    """A subscription event that may share its GraphQL result with the subscriber's group."""

    value: Any
    key: Hashable
    actor: Actor


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


def _operation_is_per_agent(executor: Any) -> bool:
    operation = executor.operation
    name = operation.name.value if operation.name else None
    body = operation.loc.source.body if operation.loc else None
    if body is None:
        return True
    key = (id(executor.schema), body, name)
    found = _analysed.get(key)
    if found is None:
        if len(_analysed) > 1024:
            _analysed.clear()
        document = DocumentNode(definitions=(operation, *executor.fragment_definitions.values()))
        found = _analysed[key] = document_is_per_agent(executor.schema, document)
    return found


def scope_key(actor: Actor, *, per_agent: bool) -> Hashable:
    """What an event's result may depend on besides the document and the event."""
    scope: tuple[Any, ...] = (actor.role, tuple(sorted(actor.department_ids)))
    if per_agent:
        scope += (actor.agent_id, actor.token_id)
    return scope


class _Results:
    """Group results of recent events: key -> (created, task); bounded by age and count."""

    def __init__(self) -> None:
        self._items: OrderedDict[Hashable, tuple[float, asyncio.Future[ExecutionResult]]] = (
            OrderedDict()
        )
        self.executions = 0
        self.shared = 0

    def get(self, key: Hashable) -> asyncio.Future[ExecutionResult] | None:
        item = self._items.get(key)
        if item is None:
            return None
        if time.monotonic() - item[0] > RESULT_TTL:
            del self._items[key]
            return None
        return item[1]

    def put(self, key: Hashable, future: asyncio.Future[ExecutionResult]) -> None:
        now = time.monotonic()
        self._items[key] = (now, future)
        while self._items:
            oldest_key, (created, _) = next(iter(self._items.items()))
            if len(self._items) <= MAX_RESULTS and now - created <= RESULT_TTL:
                break
            del self._items[oldest_key]

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()


results = _Results()


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
        executor = super().build_per_event_executor(payload.value)
        executor.shared_event = payload
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        event = self.shared_event
        if event is None or self.operation.loc is None:
            return super().execute_operation(serially)
        key = (
            self.operation.loc.source.body,
            self.operation.name.value if self.operation.name else None,
            orjson.dumps(self.variable_values.coerced, option=orjson.OPT_SORT_KEYS, default=str),
            scope_key(event.actor, per_agent=_operation_is_per_agent(self)),
            event.key,
        )
        future = results.get(key)
        if future is None:
            results.executions += 1
            future = asyncio.ensure_future(self._execute_once(serially))
            results.put(key, future)
        else:
            results.shared += 1
        return self._await(future)

    async def _execute_once(self, serially: bool | None) -> ExecutionResult:
        result = super().execute_operation(serially)
        if self.is_awaitable(result):
            result = await result  # type: ignore[misc]
        return _encoded(result)  # type: ignore[arg-type]

    async def _await(self, future: Awaitable[ExecutionResult]) -> ExecutionResult:
        # Shielded: a subscriber leaving must not cancel its group's execution.
        return _copy(await asyncio.shield(future))
