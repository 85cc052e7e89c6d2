"""Tasks (ACT-1): to-dos with a subject, due time, priority, status, owner and reminder,
linked to a ticket, a contact or an account, in one department (ORG-5).

A task may be created due in the past: it is overdue at once (not refused). Completing it
withdraws its pending reminder; a completed task takes no new reminder. Every change writes
an Activity row; a new owner other than the actor is notified (ASSIGNED)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from deskql import models
from deskql.models.activities import TaskStatus
from deskql.models.enums import NotificationReason, TicketPriority
from deskql.services import activity, records, uow
from deskql.services.activities import common, reminders
from deskql.services.activities.common import UNCHANGED
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.policies import visible_tasks

OPEN = [s for s in TaskStatus if s is not TaskStatus.COMPLETED]
SORTS = {"DUE_AT": "due_at", "PRIORITY": "priority", "CREATED_AT": "created_at", "SUBJECT": "title"}


def _values(row: models.Task) -> dict[str, Any]:
    return {
        "title": row.title,
        "description": row.description,
        "due_at": row.due_at,
        "priority": row.priority,
        "status": row.status,
        "owner_id": row.assignee_id,  # type: ignore[attr-defined]
        "reminder_at": row.reminder_at,
        "ticket_id": row.ticket_id,  # type: ignore[attr-defined]
        "contact_id": row.contact_id,  # type: ignore[attr-defined]
        "account_id": row.account_id,  # type: ignore[attr-defined]
    }


def _direct(actor: Actor, owner_id: int | None) -> dict[int, NotificationReason]:
    if owner_id is None or owner_id == actor.agent_id:
        return {}
    return {owner_id: NotificationReason.ASSIGNED}


async def create_task(
    actor: Actor,
    *,
    subject: str,
    description: str = "",
    due_at: datetime | None = None,
    priority: TicketPriority = TicketPriority.MEDIUM,
    status: TaskStatus = TaskStatus.NOT_STARTED,
    owner_id: int | None = None,
    reminder_at: datetime | None = None,
    department_id: int | None = None,
    ticket_id: int | None = None,
    contact_id: int | None = None,
    account_id: int | None = None,
) -> models.Task:
    """Create a task (owned by the actor unless another owner is given)."""
    errors = Errors()
    title = common.text_field(errors, "subject", subject, max_length=255, required=True)
    text = common.text_field(errors, "description", description, max_length=common.TEXT_MAX)
    links = await common.resolve_links(
        actor,
        errors,
        department_id=department_id,
        ticket_id=ticket_id,
        contact_id=contact_id,
        account_id=account_id,
    )
    owner = actor.agent_id if owner_id is None else owner_id
    await common.check_agents(actor, errors, "ownerId", [owner], links and links.department_id)
    if reminder_at is not None and status is TaskStatus.COMPLETED:
        errors.add("reminderAt", "a completed task takes no reminder", ErrorCode.INVALID_STATE)
    errors.raise_if_any()
    assert links is not None and title is not None
    done = status is TaskStatus.COMPLETED
    async with uow.transaction():
        row = await models.Task.create(
            title=title,
            description=text or "",
            due_at=common.utc(due_at),
            priority=priority,
            status=status,
            is_completed=done,
            completed_at=common.now() if done else None,
            assignee_id=owner,
            reminder_at=common.utc(reminder_at),
            created_by_id=actor.agent_id,
            **links.columns(),
        )
        await reminders.schedule(task=row)
        await common.record(
            actor,
            "task.created",
            row,
            "Task",
            {k: activity.jsonable(v) for k, v in _values(row).items() if v not in (None, "")},
            _direct(actor, owner),
        )
    return row


async def require_task(actor: Actor, task_id: int, field: str = "id") -> models.Task:
    """A task the actor may see, else NOT_FOUND."""
    row = await visible_tasks(actor).filter(id=task_id).first()
    if row is None:
        raise ValidationFailed.one(field, "no such task", ErrorCode.NOT_FOUND)
    return row


async def update_task(
    actor: Actor,
    *,
    task_id: int,
    subject: Any = UNCHANGED,
    description: Any = UNCHANGED,
    due_at: Any = UNCHANGED,
    priority: Any = UNCHANGED,
    status: Any = UNCHANGED,
    owner_id: Any = UNCHANGED,
    reminder_at: Any = UNCHANGED,
    ticket_id: Any = UNCHANGED,
    contact_id: Any = UNCHANGED,
    account_id: Any = UNCHANGED,
) -> models.Task:
    """Change a task's fields (those given); the department follows a new ticket."""
    row = await require_task(actor, task_id)
    before = _values(row)
    errors = Errors()
    values: dict[str, Any] = {}
    if subject is not UNCHANGED:
        values["title"] = common.text_field(
            errors, "subject", subject, max_length=255, required=True
        )
    if description is not UNCHANGED:
        values["description"] = (
            common.text_field(errors, "description", description, max_length=common.TEXT_MAX) or ""
        )
    if due_at is not UNCHANGED:
        values["due_at"] = common.utc(due_at)
    if priority is not UNCHANGED and priority is not None:
        values["priority"] = priority
    if status is not UNCHANGED and status is not None:
        values["status"] = status
    if reminder_at is not UNCHANGED:
        values["reminder_at"] = common.utc(reminder_at)
    link_given = any(v is not UNCHANGED for v in (ticket_id, contact_id, account_id))
    links = None
    if link_given:
        links = await common.resolve_links(
            actor,
            errors,
            department_id=None if ticket_id not in (UNCHANGED, None) else row.department_id,  # type: ignore[attr-defined]
            ticket_id=before["ticket_id"] if ticket_id is UNCHANGED else ticket_id,
            contact_id=before["contact_id"] if contact_id is UNCHANGED else contact_id,
            account_id=before["account_id"] if account_id is UNCHANGED else account_id,
        )
    department_id = links.department_id if links else row.department_id  # type: ignore[attr-defined]
    owner = before["owner_id"]
    if owner_id is not UNCHANGED and owner_id is not None:
        owner = owner_id
        values["assignee_id"] = owner_id
    if owner_id is not UNCHANGED or links is not None:
        await common.check_agents(actor, errors, "ownerId", [owner] if owner else [], department_id)
    final_status = values.get("status", row.status)
    reminder = values.get("reminder_at", row.reminder_at)
    if reminder_at not in (UNCHANGED, None) and final_status is TaskStatus.COMPLETED:
        errors.add("reminderAt", "a completed task takes no reminder", ErrorCode.INVALID_STATE)
    errors.raise_if_any()
    if "status" in values:
        done = final_status is TaskStatus.COMPLETED
        if done != row.is_completed:
            values["is_completed"] = done
            values["completed_at"] = common.now() if done else None
        if done:
            values["reminder_at"] = reminder = None
    if links is not None:
        values.update(links.columns())
    async with uow.transaction():
        locked = await models.Task.filter(id=row.id).select_for_update().first()
        if locked is None:
            raise ValidationFailed.one("id", "no such task", ErrorCode.NOT_FOUND)
        await models.Task.filter(id=row.id).update(**values, updated_at=common.now())
        row = await models.Task.get(id=row.id)
        if reminder != before["reminder_at"] or "status" in values:
            await reminders.schedule(task=row)
        changes = activity.diff(before, _values(row))
        if changes:
            kind = (
                "task.completed"
                if row.is_completed and before["status"] is not TaskStatus.COMPLETED
                else "task.updated"
            )
            new_owner = owner if before["owner_id"] != owner else None
            await common.record(actor, kind, row, "Task", changes, _direct(actor, new_owner))
    return row


async def complete_task(actor: Actor, *, task_id: int) -> models.Task:
    """Mark a task COMPLETED (its pending reminder is withdrawn)."""
    row = await require_task(actor, task_id)
    if row.status is TaskStatus.COMPLETED:
        raise ValidationFailed.one("id", "the task is completed already", ErrorCode.INVALID_STATE)
    return await update_task(actor, task_id=task_id, status=TaskStatus.COMPLETED)


async def delete_task(actor: Actor, *, task_id: int) -> models.Task:
    """Delete a task (its owner, its creator or an administrator)."""
    row = await require_task(actor, task_id)
    allowed = {row.assignee_id, row.created_by_id}  # type: ignore[attr-defined]
    if not actor.is_admin and actor.agent_id not in allowed:
        raise ValidationFailed.one(
            "id",
            "only its owner, its creator or an administrator may delete it",
            ErrorCode.NOT_OWNER,
        )
    async with uow.transaction():
        await common.record(
            actor, "task.deleted", row, "Task", {"title": row.title, "taskId": row.id}
        )
        await records.forget_record("Task", row.id)
        await models.Task.filter(id=row.id).delete()
    return row


def list_tasks(
    actor: Actor,
    *,
    owner_id: int | None = None,
    statuses: list[TaskStatus] | None = None,
    open_only: bool = False,
    overdue: bool | None = None,
    due_before: datetime | None = None,
    due_after: datetime | None = None,
    ticket_id: int | None = None,
    contact_id: int | None = None,
    account_id: int | None = None,
    department_id: int | None = None,
    sort: str = "DUE_AT",
    descending: bool = False,
) -> QuerySet[models.Task]:
    """The tasks the actor may see, filtered and sorted (ties by id)."""
    qs = common.link_filter(
        visible_tasks(actor), ticket_id=ticket_id, contact_id=contact_id, account_id=account_id
    )
    if owner_id is not None:
        qs = qs.filter(assignee_id=owner_id)
    if statuses:
        qs = qs.filter(status__in=list(statuses))
    if open_only:
        qs = qs.filter(is_completed=False)
    now = common.now()
    if overdue is True:
        qs = qs.filter(is_completed=False, due_at__lt=now)
    elif overdue is False:
        qs = qs.filter(Q(is_completed=True) | Q(due_at__isnull=True) | Q(due_at__gte=now))
    if due_before is not None:
        qs = qs.filter(due_at__lt=common.utc(due_before))
    if due_after is not None:
        qs = qs.filter(due_at__gte=common.utc(due_after))
    if department_id is not None:
        qs = qs.filter(department_id=department_id)
    column = SORTS[sort]
    sign = "-" if descending else ""
    return qs.order_by(f"{sign}{column}", f"{sign}id")


async def overdue_count(department_id: int) -> int:
    """Open tasks of a department past their due time (dashboard)."""
    return await models.Task.filter(
        department_id=department_id, is_completed=False, due_at__lt=common.now()
    ).count()
