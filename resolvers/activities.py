"""Task, event and call resolvers: decode ids, call services.activities, build payloads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.dataloader import DataLoader

from deskql import models
from deskql.resolvers.common import given, mutate, page
from deskql.schema.connections import (
    Connection,
    Edge,
    PageInfo,
    check_first,
    decode_cursor,
    encode_cursor,
)
from deskql.schema.context import actor_of
from deskql.schema.ids import decode_id, input_id, input_ids, optional_input_id
from deskql.schema.tickets import SortDirection
from deskql.schema.types import Agent
from deskql.services.activities import calls, dial, events, tasks
from deskql.services.activities.common import UNCHANGED
from deskql.services.errors import PermissionDenied

if TYPE_CHECKING:
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


def _task(row: models.Task) -> Task:
    from deskql.schema.activities.types import Task

    return Task.from_row(row)


def _event(row: models.Event) -> Event:
    from deskql.schema.activities.types import Event

    return Event.from_row(row)


def _call(row: models.Call) -> Call:
    from deskql.schema.activities.types import Call

    return Call.from_row(row)


def _opt(value: Any, type_name: str, field: str) -> Any:
    """An optional id input that may be UNSET (unchanged), null (clear) or an id."""
    if value is strawberry.UNSET:
        return UNCHANGED
    return optional_input_id(value, type_name, field)


def _changes(input_obj: Any, names: dict[str, str]) -> dict[str, Any]:
    return given(input_obj, names)


def _filter_id(value: str | None, type_name: str) -> int | None:
    return None if value is None else decode_id(value, type_name)


# -- tasks ------------------------------------------------------------------------------------


async def task_create(info: strawberry.Info, input: TaskCreateInput) -> TaskPayload:
    """`taskCreate`."""
    from deskql.schema.activities.inputs import TaskPayload

    async def run() -> dict[str, Any]:
        row = await tasks.create_task(
            actor_of(info),
            subject=input.subject,
            description=input.description,
            due_at=input.due_at,
            priority=input.priority,
            status=input.status,
            owner_id=optional_input_id(input.owner_id, "Agent", "ownerId"),
            reminder_at=input.reminder_at,
            department_id=optional_input_id(input.department_id, "Department", "departmentId"),
            ticket_id=optional_input_id(input.ticket_id, "Ticket", "ticketId"),
            contact_id=optional_input_id(input.contact_id, "Contact", "contactId"),
            account_id=optional_input_id(input.account_id, "Account", "accountId"),
        )
        return {"task": _task(row)}

    return await mutate(TaskPayload, run)


async def task_update(info: strawberry.Info, input: TaskUpdateInput) -> TaskPayload:
    """`taskUpdate`."""
    from deskql.schema.activities.inputs import TaskPayload

    async def run() -> dict[str, Any]:
        values = _changes(
            input,
            {
                "subject": "subject",
                "description": "description",
                "due_at": "due_at",
                "priority": "priority",
                "status": "status",
                "reminder_at": "reminder_at",
            },
        )
        row = await tasks.update_task(
            actor_of(info),
            task_id=input_id(input.id, "Task", "id"),
            owner_id=_opt(input.owner_id, "Agent", "ownerId"),
            ticket_id=_opt(input.ticket_id, "Ticket", "ticketId"),
            contact_id=_opt(input.contact_id, "Contact", "contactId"),
            account_id=_opt(input.account_id, "Account", "accountId"),
            **values,
        )
        return {"task": _task(row)}

    return await mutate(TaskPayload, run)


async def task_complete(info: strawberry.Info, input: TaskIdInput) -> TaskPayload:
    """`taskComplete`."""
    from deskql.schema.activities.inputs import TaskPayload

    async def run() -> dict[str, Any]:
        row = await tasks.complete_task(actor_of(info), task_id=input_id(input.id, "Task", "id"))
        return {"task": _task(row)}

    return await mutate(TaskPayload, run)


async def task_delete(info: strawberry.Info, input: TaskIdInput) -> TaskPayload:
    """`taskDelete`."""
    from deskql.schema.activities.inputs import TaskPayload

    async def run() -> dict[str, Any]:
        row = await tasks.delete_task(actor_of(info), task_id=input_id(input.id, "Task", "id"))
        return {"task": _task(row)}

    return await mutate(TaskPayload, run)


def task_query(
    info: strawberry.Info,
    filter: TaskFilter | None,
    sort: TaskSort | None,
    **links: int | None,
) -> Any:
    """The service query for a task list (filters decoded)."""
    f = filter
    kwargs: dict[str, Any] = {}
    if f is not None:
        kwargs = {
            "owner_id": _filter_id(f.owner_id, "Agent"),
            "statuses": f.status,
            "open_only": bool(f.open),
            "overdue": f.overdue,
            "due_before": f.due_before,
            "due_after": f.due_after,
            "department_id": _filter_id(f.department_id, "Department"),
            "ticket_id": _filter_id(f.ticket_id, "Ticket"),
            "contact_id": _filter_id(f.contact_id, "Contact"),
            "account_id": _filter_id(f.account_id, "Account"),
        }
        if f.open is False:
            kwargs["open_only"] = False
            kwargs["statuses"] = (f.status or []) or [models.TaskStatus.COMPLETED]
    for key, value in links.items():
        if value is not None:
            kwargs[key] = value
    if sort is not None:
        kwargs["sort"] = sort.field.value
        kwargs["descending"] = sort.direction is SortDirection.DESC
    return tasks.list_tasks(actor_of(info), **kwargs)


async def task_list(
    info: strawberry.Info,
    *,
    filter: TaskFilter | None,
    sort: TaskSort | None,
    first: int | None,
    after: str | None,
    **links: int | None,
) -> Connection[Task]:
    """`tasks`, and the task lists of tickets, contacts and accounts."""
    query = task_query(info, filter, sort, **links)
    return await page(info, query, first=first, after=after, convert=_task)


# -- events -----------------------------------------------------------------------------------


async def event_create(info: strawberry.Info, input: EventCreateInput) -> EventPayload:
    """`eventCreate`."""
    from deskql.schema.activities.inputs import EventPayload

    async def run() -> dict[str, Any]:
        row = await events.create_event(
            actor_of(info),
            title=input.title,
            starts_at=input.starts_at,
            ends_at=input.ends_at,
            description=input.description,
            location=input.location,
            owner_id=optional_input_id(input.owner_id, "Agent", "ownerId"),
            attendee_ids=input_ids(input.attendee_ids, "Agent", "attendeeIds"),
            reminder_at=input.reminder_at,
            department_id=optional_input_id(input.department_id, "Department", "departmentId"),
            ticket_id=optional_input_id(input.ticket_id, "Ticket", "ticketId"),
            contact_id=optional_input_id(input.contact_id, "Contact", "contactId"),
            account_id=optional_input_id(input.account_id, "Account", "accountId"),
        )
        return {"event": _event(row)}

    return await mutate(EventPayload, run)


async def event_update(info: strawberry.Info, input: EventUpdateInput) -> EventPayload:
    """`eventUpdate`."""
    from deskql.schema.activities.inputs import EventPayload

    async def run() -> dict[str, Any]:
        values = _changes(
            input,
            {
                "title": "title",
                "description": "description",
                "location": "location",
                "starts_at": "starts_at",
                "ends_at": "ends_at",
                "reminder_at": "reminder_at",
            },
        )
        attendees: Any = UNCHANGED
        if input.attendee_ids is not strawberry.UNSET and input.attendee_ids is not None:
            attendees = input_ids(input.attendee_ids, "Agent", "attendeeIds")
        row = await events.update_event(
            actor_of(info),
            event_id=input_id(input.id, "Event", "id"),
            owner_id=_opt(input.owner_id, "Agent", "ownerId"),
            attendee_ids=attendees,
            **values,
        )
        return {"event": _event(row)}

    return await mutate(EventPayload, run)


async def event_delete(info: strawberry.Info, input: EventIdInput) -> EventPayload:
    """`eventDelete`."""
    from deskql.schema.activities.inputs import EventPayload

    async def run() -> dict[str, Any]:
        row = await events.delete_event(actor_of(info), event_id=input_id(input.id, "Event", "id"))
        return {"event": _event(row)}

    return await mutate(EventPayload, run)


async def event_list(
    info: strawberry.Info,
    *,
    filter: EventFilter | None,
    sort: EventSort | None,
    first: int | None,
    after: str | None,
    **links: int | None,
) -> Connection[Event]:
    """`events`, and the event lists of tickets, contacts and accounts."""
    kwargs: dict[str, Any] = {}
    f = filter
    if f is not None:
        kwargs = {
            "owner_id": _filter_id(f.owner_id, "Agent"),
            "attendee_id": _filter_id(f.attendee_id, "Agent"),
            "starts_before": f.starts_before,
            "starts_after": f.starts_after,
            "upcoming": f.upcoming,
            "ticket_id": _filter_id(f.ticket_id, "Ticket"),
            "contact_id": _filter_id(f.contact_id, "Contact"),
            "account_id": _filter_id(f.account_id, "Account"),
        }
    kwargs.update({k: v for k, v in links.items() if v is not None})
    if sort is not None:
        kwargs["sort"] = sort.field.value
        kwargs["descending"] = sort.direction is SortDirection.DESC
    query = events.list_events(actor_of(info), **kwargs)
    return await page(info, query, first=first, after=after, convert=_event)


def _attendee_loader(info: strawberry.Info) -> DataLoader[int, list[int]]:
    # Kept on the request's Loaders object: a page of events asks once for all attendees.
    loaders = info.context.loaders
    loader = getattr(loaders, "_event_attendees", None)
    if loader is None:

        async def load(keys: Sequence[int]) -> list[list[int]]:
            found = await events.attendee_ids(list(set(keys)))
            return [found[k] for k in keys]

        loader = DataLoader(load_fn=load)
        loaders._event_attendees = loader
    return loader


async def attendees(info: strawberry.Info, event_pk: int) -> list[Agent]:
    """`Event.attendees` (batched per request)."""
    ids = await _attendee_loader(info).load(event_pk)
    return [a for a in await info.context.loaders.agent.load_many(ids) if a is not None]


# -- calls ------------------------------------------------------------------------------------


async def call_create(info: strawberry.Info, input: CallCreateInput) -> CallPayload:
    """`callCreate`."""
    from deskql.schema.activities.inputs import CallPayload

    async def run() -> dict[str, Any]:
        row = await calls.create_call(
            actor_of(info),
            direction=input.direction,
            number=input.number,
            started_at=input.started_at,
            duration_seconds=input.duration_seconds,
            agent_id=optional_input_id(input.agent_id, "Agent", "agentId"),
            outcome=input.outcome,
            recording_url=input.recording_url,
            notes=input.notes,
            department_id=optional_input_id(input.department_id, "Department", "departmentId"),
            ticket_id=optional_input_id(input.ticket_id, "Ticket", "ticketId"),
            contact_id=optional_input_id(input.contact_id, "Contact", "contactId"),
            account_id=optional_input_id(input.account_id, "Account", "accountId"),
            region=info.context.settings.telephony_default_region,
        )
        return {"call": _call(row)}

    return await mutate(CallPayload, run)


async def call_update(info: strawberry.Info, input: CallUpdateInput) -> CallPayload:
    """`callUpdate`."""
    from deskql.schema.activities.inputs import CallPayload

    async def run() -> dict[str, Any]:
        values = _changes(
            input,
            {
                "outcome": "outcome",
                "duration_seconds": "duration_seconds",
                "recording_url": "recording_url",
                "notes": "notes",
            },
        )
        row = await calls.update_call(
            actor_of(info),
            call_id=input_id(input.id, "Call", "id"),
            ticket_id=_opt(input.ticket_id, "Ticket", "ticketId"),
            contact_id=_opt(input.contact_id, "Contact", "contactId"),
            account_id=_opt(input.account_id, "Account", "accountId"),
            **values,
        )
        return {"call": _call(row)}

    return await mutate(CallPayload, run)


async def call_delete(info: strawberry.Info, input: CallIdInput) -> CallPayload:
    """`callDelete`."""
    from deskql.schema.activities.inputs import CallPayload

    async def run() -> dict[str, Any]:
        row = await calls.delete_call(actor_of(info), call_id=input_id(input.id, "Call", "id"))
        return {"call": _call(row)}

    return await mutate(CallPayload, run)


async def call_dial(info: strawberry.Info, input: CallDialInput) -> CallPayload:
    """`callDial`."""
    from deskql.schema.activities.inputs import CallPayload

    async def run() -> dict[str, Any]:
        row = await dial.dial(
            actor_of(info),
            info.context.settings,
            contact_id=optional_input_id(input.contact_id, "Contact", "contactId"),
            number=input.number,
            ticket_id=optional_input_id(input.ticket_id, "Ticket", "ticketId"),
            department_id=optional_input_id(input.department_id, "Department", "departmentId"),
        )
        return {"call": _call(row)}

    return await mutate(CallPayload, run)


async def call_list(
    info: strawberry.Info,
    *,
    filter: CallFilter | None,
    sort: CallSort | None,
    first: int | None,
    after: str | None,
    **links: int | None,
) -> Connection[Call]:
    """`calls`, and the call lists of tickets, contacts and accounts."""
    kwargs: dict[str, Any] = {}
    f = filter
    if f is not None:
        kwargs = {
            "agent_id": _filter_id(f.agent_id, "Agent"),
            "direction": f.direction,
            "outcome": f.outcome,
            "started_before": f.started_before,
            "started_after": f.started_after,
            "ticket_id": _filter_id(f.ticket_id, "Ticket"),
            "contact_id": _filter_id(f.contact_id, "Contact"),
            "account_id": _filter_id(f.account_id, "Account"),
        }
    kwargs.update({k: v for k, v in links.items() if v is not None})
    if sort is not None:
        kwargs["sort"] = sort.field.value
        kwargs["descending"] = sort.direction is SortDirection.DESC
    query = calls.list_calls(actor_of(info), **kwargs)
    return await page(info, query, first=first, after=after, convert=_call)


async def agent_telephony_update(
    info: strawberry.Info, input: AgentTelephonyUpdateInput
) -> AgentTelephonyPayload:
    """`agentTelephonyUpdate`."""
    from deskql.schema.activities.inputs import AgentTelephonyPayload

    async def run() -> dict[str, Any]:
        row = await dial.update_telephony_profile(
            actor_of(info),
            info.context.settings,
            agent_id=optional_input_id(input.agent_id, "Agent", "agentId"),
            extension=input.extension,
            phone_number=input.phone_number,
        )
        return {"agent": Agent.from_row(row)}

    return await mutate(AgentTelephonyPayload, run)


# -- comments on records ---------------------------------------------------------------------


async def record_comments(
    info: strawberry.Info, type_name: str, pk: int, *, first: int | None, after: str | None
) -> Connection[Any]:
    """`comments` of a contact, account, task, event or call, oldest first."""
    from deskql.schema.types import Comment
    from deskql.services import comments

    query = await comments.list_comments(actor_of(info), type_name=type_name, record_id=pk)
    return await page(info, query, first=first, after=after, convert=Comment.from_row)


# -- me.openActivities ---------------------------------------------------------------------


async def open_activities(
    info: strawberry.Info, agent_pk: int, *, first: int | None, after: str | None
) -> Connection[Any]:
    """`me.openActivities`: your open tasks (by due time, undated last) and your events not yet
    over (by start), merged into one list by their time."""
    actor = actor_of(info)
    if agent_pk != actor.agent_id:
        raise PermissionDenied("openActivities is only available on `me`")
    size = check_first(first, info.context.settings.max_page_size)
    start = decode_cursor(after) + 1 if after else 0
    want = start + size + 1
    task_q = tasks.list_tasks(actor, owner_id=actor.agent_id, open_only=True)
    event_q = events.mine(actor).order_by("starts_at", "id")
    # Dated and undated tasks apart: backends disagree on where NULLs sort.
    task_rows = await task_q.filter(due_at__isnull=False).limit(want)
    task_rows += await task_q.filter(due_at__isnull=True).order_by("id").limit(want)
    event_rows = await event_q.limit(want)
    from deskql.services.activities.common import utc

    def key(item: tuple[str, Any]) -> tuple[int, float, int, int]:
        # Undated tasks sort after everything dated; at one time, tasks before events.
        kind, row = item
        when = utc(row.due_at if kind == "task" else row.starts_at)
        return (
            1 if when is None else 0,
            when.timestamp() if when is not None else 0.0,
            0 if kind == "task" else 1,
            row.id,
        )

    merged = sorted([("task", r) for r in task_rows] + [("event", r) for r in event_rows], key=key)
    window = merged[start : start + size + 1]
    has_next = len(window) > size
    edges = [
        Edge(
            cursor=encode_cursor(start + i),
            node=_task(row) if kind == "task" else _event(row),
        )
        for i, (kind, row) in enumerate(window[:size])
    ]

    class _Count:
        async def count(self) -> int:
            return await task_q.count() + await event_q.count()

    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=start > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count_query=_Count(),
    )
