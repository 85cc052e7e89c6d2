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

`notificationCreated` is shared too, though each agent's event carries its own notification
(id, cursor, reason, read state) and unread count: those are plain data fields of the two
PERSONAL_TYPES, whose objects are the subscriber's own. The group (same document, variables,
access and activity) executes once; for each other member `personal_plan` names the response
keys that hold such fields, and `personalise` copies the group's result along them, filled
with the member's own values serialized by the fields' own GraphQL types. The rest (the
activity, the ticket) is the group's. A document that selects anything else on a personal
type (a resolver not in SCOPE_ONLY_RESOLVERS, a list, @skip/@include) has no plan: each
subscriber executes it.
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
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Undefined,
    Visitor,
    get_named_type,
    get_nullable_type,
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


# -- personal events: one execution per group, each member's own values filled in --------

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


async def fan_out(
    info: Any, events: AsyncIterator[SharedEvent], *, personal: bool = False
) -> AsyncIterator[SharedEvent]:
    """The events this subscriber must run through GraphQL itself; the rest are sent as is.

    The first subscriber of a group to reach an event yields it (and executes it for the
    group); the others wait for that result and send its pre-encoded JSON straight to their
    WebSocket, skipping GraphQL execution, strawberry's per-result machinery and encoding.
    With `personal`, each member's own values are filled into a copy first (`personalise`),
    and a document without a plan is executed by every member. After a result with errors,
    or when the claimer left first, the event is yielded as usual.
    """
    async with aclosing(events), aclosing(_fan_out(info, events, personal)) as shared_events:
        async for event in shared_events:
            yield event


async def _fan_out(
    info: Any, events: AsyncIterator[SharedEvent], personal: bool
) -> AsyncIterator[SharedEvent]:
    sink = SINK.get()
    raw = info._raw_info
    prefix = plan = None
    if sink is not None:
        prefix = group_prefix(raw.schema, raw.operation, raw.fragments, raw.variable_values)
        if personal:
            plan = _personal_plan(raw.schema, raw.operation, raw.fragments)
            if plan is None:
                prefix = None  # each member executes its own event
    async for event in events:
        if prefix is None:
            yield event
            continue
        key = event_key(prefix, event)
        entry, first = results.claim(key)
        event = SharedEvent(
            make=event.make, key=event.key, actor=event.actor, group=key, personal=personal
        )
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
        encoded = result.data.json
        if plan is not None:
            try:
                encoded = orjson.dumps(personalise(result.data, event.make(), plan))
            except Mismatch:
                yield event
                continue
        results.direct += 1
        try:
            await sink.send(encoded)  # type: ignore[union-attr]
        except Exception:  # noqa: BLE001 - the WebSocket is gone: the stream is over
            return
