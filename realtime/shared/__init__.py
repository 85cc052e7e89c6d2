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

The parts: scope.py (a document's access scope), cache.py (the groups' results: `results`,
RESULT_TTL, MAX_RESULTS), executor.py (SharedEvent, EncodedData, the group keys,
SharedExecutor). Constants are read where they are defined: patch them there
(deskql.realtime.shared.cache.MAX_RESULTS), not on this package.
"""

from deskql.realtime.shared.cache import (
    MAX_RESULTS,
    RESULT_TTL,
    Abandoned,
    _Entry,
    _Results,
    results,
)
from deskql.realtime.shared.executor import (
    EncodedData,
    SharedEvent,
    SharedExecutor,
    event_key,
    group_key,
    group_prefix,
    key_of,
)
from deskql.realtime.shared.scope import (
    PERSONAL_TYPES,
    SCOPE_ONLY_RESOLVERS,
    _ByDocument,
    _scope_only,
    document_is_per_agent,
    scope_key,
)

__all__ = [
    "Abandoned",
    "EncodedData",
    "MAX_RESULTS",
    "PERSONAL_TYPES",
    "RESULT_TTL",
    "SCOPE_ONLY_RESOLVERS",
    "SharedEvent",
    "SharedExecutor",
    "_ByDocument",
    "_Entry",
    "_Results",
    "_scope_only",
    "document_is_per_agent",
    "event_key",
    "group_key",
    "group_prefix",
    "key_of",
    "results",
    "scope_key",
]
