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
their operation id (realtime/sink.py; realtime/direct.py writes it for idle subscribers
without waking them): no GraphQL execution, no strawberry result handling, no encoding per
subscriber.

The access scope is what the fields' values may depend on. Most fields depend only on the
role and the department set (they filter by `policies.can_see_department` and friends); a few
depend on who asks (`Agent.notifications`/`following` are "only on `me`", `followers` lists
the asker even outside shared departments). `document_is_per_agent` reads the document: plain
data fields and the resolver fields in SCOPE_ONLY_RESOLVERS keep the scope at
(role, departments); any other resolver field, including any added later, adds the agent
(and token) to the key: slower, never wrong.

`notificationCreated` is shared too, though each agent's event carries its own notification
(id, cursor, reason, read state) and unread count: those are plain data fields of the two
PERSONAL_TYPES, whose objects are the subscriber's own. The group (same document, variables,
access and activity) executes once, and each other member gets the group's result with its
own values filled in (realtime/personal.py). The rest (the activity, the ticket) is the
group's.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Hashable
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

from deskql.services.auth import Actor

# Resolver-backed fields whose value depends only on the object and the asker's role and
# department set (reviewed one by one); plain data fields need no entry.
SCOPE_ONLY_RESOLVERS: frozenset[tuple[str, str]] = frozenset(
    {
        ("Subscription", "ticketUpdates"),
        ("Subscription", "dashboardUpdates"),
        ("Activity", "actor"),
        ("Activity", "subjectId"),
        ("Agent", "departments"),
        ("Thread", "bodyHtml"),
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
        ("Subscription", "notificationCreated"),
        ("Notification", "activity"),
        ("Notification", "ticket"),
    }
)
# Types whose objects differ for each member of a group of a personal event (each agent has
# its own notification): their plain data fields are filled in per member (`personalise`).
PERSONAL_TYPES: frozenset[str] = frozenset({"NotificationCreatedEvent", "Notification"})
# How long a computed group result is kept for the group's slower members, and how many.
RESULT_TTL = 5.0
MAX_RESULTS = 4096


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


def _scope_only(type_name: str, field_name: str) -> bool:
    # A connection's own fields (nodes, totalCount) only read the connection object, which
    # its parent field built for the scope.
    return (type_name, field_name) in SCOPE_ONLY_RESOLVERS or (
        type_name.endswith("Connection") and field_name in {"nodes", "totalCount"}
    )


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
        if has_resolver and not _scope_only(parent.name, node.name.value):
            self.per_agent = True


def document_is_per_agent(schema: GraphQLSchema, document: DocumentNode) -> bool:
    """Whether a document selects a field whose value depends on who asks (not only on the
    role and departments)."""
    type_info = TypeInfo(schema)
    visitor = _PerAgentFields(type_info)
    visit(document, TypeInfoVisitor(type_info, visitor))
    return visitor.per_agent


class _ByDocument:
    """An analysis of a subscription's document, made once per (schema, document text,
    operation name) and kept for the next subscriber (at most 1,024 documents)."""

    def __init__(
        self,
        analyse: Callable[
            [GraphQLSchema, OperationDefinitionNode, dict[str, FragmentDefinitionNode]], Any
        ],
        without_source: Any,
    ) -> None:
        self.analyse = analyse
        self.without_source = without_source  # the answer when the text is unknown
        self.found: dict[tuple[int, str, str | None], Any] = {}

    def __call__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
    ) -> Any:
        body = operation.loc.source.body if operation.loc else None
        if body is None:
            return self.without_source
        key = (id(schema), body, operation.name.value if operation.name else None)
        if key not in self.found:
            if len(self.found) > 1024:
                self.found.clear()
            self.found[key] = self.analyse(schema, operation, fragments)
        return self.found[key]


_is_per_agent = _ByDocument(
    lambda schema, operation, fragments: document_is_per_agent(
        schema, DocumentNode(definitions=(operation, *fragments.values()))
    ),
    without_source=True,
)


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
        self._watchers: dict[Hashable, list[asyncio.Future[_Entry]]] = {}
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
        for waiter in self._watchers.pop(key, ()):
            if not waiter.done():
                waiter.set_result(entry)
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

    def watch(self, key: Hashable) -> asyncio.Future[_Entry]:
        """The entry of a group's event as soon as a subscriber claims it (at once if one
        has); realtime/direct.py waits on it for the group's result."""
        waiter: asyncio.Future[_Entry] = asyncio.get_running_loop().create_future()
        entry = self.get(key)
        if entry is not None and not entry.abandoned:
            waiter.set_result(entry)
        else:
            self._watchers.setdefault(key, []).append(waiter)
        return waiter

    def unwatch(self, key: Hashable, waiter: asyncio.Future[_Entry]) -> None:
        """Stop waiting for a claim (after a timeout)."""
        waiters = self._watchers.get(key)
        if waiters is not None and waiter in waiters:
            waiters.remove(waiter)
            if not waiters:
                del self._watchers[key]

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()
        for waiters in self._watchers.values():
            for waiter in waiters:
                waiter.cancel()
        self._watchers.clear()


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
