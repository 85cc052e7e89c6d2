"""Task resolvers: create, update, complete, delete and list tasks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from deskql import models
from deskql.resolvers.activities.common import _changes, _filter_id, _opt, _task
from deskql.resolvers.common import mutate, page
from deskql.schema.connections import (
    Connection,
)
from deskql.schema.context import actor_of
from deskql.schema.ids import input_id, optional_input_id
from deskql.schema.tickets import SortDirection
from deskql.services.activities import tasks

if TYPE_CHECKING:
    from deskql.schema.activities.inputs import (
        TaskCreateInput,
        TaskFilter,
        TaskIdInput,
        TaskPayload,
        TaskSort,
        TaskUpdateInput,
    )
    from deskql.schema.activities.types import Task


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
