"""`tasks`, `events`, `calls` and their mutations (ACT-1, ACT-2)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from deskql.resolvers import activities as r
from deskql.schema.activities.inputs import (
    AgentTelephonyPayload,
    AgentTelephonyUpdateInput,
    CallCreateInput,
    CallDialInput,
    CallFilter,
    CallIdInput,
    CallPayload,
    CallSort,
    CallUpdateInput,
    EventCreateInput,
    EventFilter,
    EventIdInput,
    EventPayload,
    EventSort,
    EventUpdateInput,
    TaskCreateInput,
    TaskFilter,
    TaskIdInput,
    TaskPayload,
    TaskSort,
    TaskUpdateInput,
)
from deskql.schema.activities.types import Call, Event, Task
from deskql.schema.connections import Connection
from deskql.schema.permissions import IsAuthenticated

First = Annotated[int | None, strawberry.argument(description="Page size, 0 to 100 (default 20).")]
After = Annotated[
    str | None, strawberry.argument(description="Cursor of the item after which the page starts.")
]
TaskFilterArg = Annotated[
    TaskFilter | None, strawberry.argument(description="Only tasks matching these criteria.")
]
TaskSortArg = Annotated[
    TaskSort | None, strawberry.argument(description="Order (default: due time, earliest first).")
]
EventFilterArg = Annotated[
    EventFilter | None, strawberry.argument(description="Only events matching these criteria.")
]
EventSortArg = Annotated[
    EventSort | None, strawberry.argument(description="Order (default: start, earliest first).")
]
CallFilterArg = Annotated[
    CallFilter | None, strawberry.argument(description="Only calls matching these criteria.")
]
CallSortArg = Annotated[
    CallSort | None, strawberry.argument(description="Order (default: start, latest first).")
]


@strawberry.type
class ActivityQueries:
    @strawberry.field(
        description="Tasks of your departments (ORG-5).", permission_classes=[IsAuthenticated]
    )
    async def tasks(
        self,
        info: strawberry.Info,
        filter: TaskFilterArg = None,
        sort: TaskSortArg = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Task]:
        return await r.task_list(info, filter=filter, sort=sort, first=first, after=after)

    @strawberry.field(
        description="Events of your departments (ORG-5).", permission_classes=[IsAuthenticated]
    )
    async def events(
        self,
        info: strawberry.Info,
        filter: EventFilterArg = None,
        sort: EventSortArg = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Event]:
        return await r.event_list(info, filter=filter, sort=sort, first=first, after=after)

    @strawberry.field(
        description="Calls of your departments (ORG-5).", permission_classes=[IsAuthenticated]
    )
    async def calls(
        self,
        info: strawberry.Info,
        filter: CallFilterArg = None,
        sort: CallSortArg = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Call]:
        return await r.call_list(info, filter=filter, sort=sort, first=first, after=after)


@strawberry.type
class ActivityMutations:
    @strawberry.mutation(description="Create a task (ACT-1).", permission_classes=[IsAuthenticated])
    async def task_create(self, info: strawberry.Info, input: TaskCreateInput) -> TaskPayload:
        return await r.task_create(info, input)

    @strawberry.mutation(description="Change a task.", permission_classes=[IsAuthenticated])
    async def task_update(self, info: strawberry.Info, input: TaskUpdateInput) -> TaskPayload:
        return await r.task_update(info, input)

    @strawberry.mutation(
        description="Complete a task; its pending reminder is withdrawn.",
        permission_classes=[IsAuthenticated],
    )
    async def task_complete(self, info: strawberry.Info, input: TaskIdInput) -> TaskPayload:
        return await r.task_complete(info, input)

    @strawberry.mutation(
        description="Delete a task (its owner, its creator or an administrator).",
        permission_classes=[IsAuthenticated],
    )
    async def task_delete(self, info: strawberry.Info, input: TaskIdInput) -> TaskPayload:
        return await r.task_delete(info, input)

    @strawberry.mutation(
        description="Create an event (ACT-1).", permission_classes=[IsAuthenticated]
    )
    async def event_create(self, info: strawberry.Info, input: EventCreateInput) -> EventPayload:
        return await r.event_create(info, input)

    @strawberry.mutation(description="Change an event.", permission_classes=[IsAuthenticated])
    async def event_update(self, info: strawberry.Info, input: EventUpdateInput) -> EventPayload:
        return await r.event_update(info, input)

    @strawberry.mutation(
        description="Delete an event (its owner, its creator or an administrator).",
        permission_classes=[IsAuthenticated],
    )
    async def event_delete(self, info: strawberry.Info, input: EventIdInput) -> EventPayload:
        return await r.event_delete(info, input)

    @strawberry.mutation(
        description="Log a call by hand (ACT-1).", permission_classes=[IsAuthenticated]
    )
    async def call_create(self, info: strawberry.Info, input: CallCreateInput) -> CallPayload:
        return await r.call_create(info, input)

    @strawberry.mutation(description="Change a call log.", permission_classes=[IsAuthenticated])
    async def call_update(self, info: strawberry.Info, input: CallUpdateInput) -> CallPayload:
        return await r.call_update(info, input)

    @strawberry.mutation(
        description="Delete a call log (its agent, its creator or an administrator).",
        permission_classes=[IsAuthenticated],
    )
    async def call_delete(self, info: strawberry.Info, input: CallIdInput) -> CallPayload:
        return await r.call_delete(info, input)

    @strawberry.mutation(
        description="Click-to-dial (ACT-2): the phone system rings your extension, then the "
        "customer; the call is logged RINGING and its events complete it. PBX_REFUSED or "
        "PBX_UNAVAILABLE when the phone system refuses or cannot be reached.",
        permission_classes=[IsAuthenticated],
    )
    async def call_dial(self, info: strawberry.Info, input: CallDialInput) -> CallPayload:
        return await r.call_dial(info, input)

    @strawberry.mutation(
        description="Set an agent's extension and phone number (yours; administrators any).",
        permission_classes=[IsAuthenticated],
    )
    async def agent_telephony_update(
        self, info: strawberry.Info, input: AgentTelephonyUpdateInput
    ) -> AgentTelephonyPayload:
        return await r.agent_telephony_update(info, input)
