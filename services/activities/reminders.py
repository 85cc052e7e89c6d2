"""Reminders of tasks and events (ACT-1): an outbox of due notifications (DESIGN "Outboxes,
one pattern").

A task or event with a reminder time has one PENDING `Reminder` row, written in the same
transaction as the record (`schedule`). Any server process's `ReminderWorker` claims due rows
with `SELECT ... FOR UPDATE SKIP LOCKED` and, in that same transaction, marks them SENT and
writes the reminder's Activity row and notifications (owner, and an event's attendees): the
claim and the delivery commit together, so a reminder is delivered exactly once however many
processes run, and a crash before the commit leaves it PENDING for the next pass. A reminder
whose delivery fails is retried on later passes; after MAX_ATTEMPTS it is CANCELLED with the
error."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from tortoise.expressions import F

from deskql import models
from deskql.models.activities import ReminderStatus
from deskql.models.enums import NotificationReason
from deskql.services import activity, durable_queue, uow
from deskql.settings import Settings

log = logging.getLogger("deskql.reminders")

PROCESS = f"{socket.gethostname()[:40]}:{os.getpid()}"

MAX_ATTEMPTS = 5
_workers: list[ReminderWorker] = []


async def schedule(
    *, task: models.Task | None = None, event: models.Event | None = None
) -> models.Reminder | None:
    """Make the record's pending reminder match its reminder time (inside its transaction):
    the old one is withdrawn, a new one written unless there is none or the task is done."""
    if task is not None:
        await models.Reminder.filter(task_id=task.id, status=ReminderStatus.PENDING).update(
            status=ReminderStatus.CANCELLED
        )
        if task.reminder_at is None or task.is_completed:
            return None
        row = await models.Reminder.create(task_id=task.id, remind_at=task.reminder_at)
    elif event is not None:
        await models.Reminder.filter(event_id=event.id, status=ReminderStatus.PENDING).update(
            status=ReminderStatus.CANCELLED
        )
        if event.reminder_at is None:
            return None
        row = await models.Reminder.create(event_id=event.id, remind_at=event.reminder_at)
    else:
        return None
    uow.on_commit(wake)
    return row


def wake() -> None:
    """Wake this process's workers (a reminder may be due sooner than they planned)."""
    for worker in _workers:
        worker.wake()


async def _deliver(reminder: models.Reminder) -> None:
    """The reminder's Activity row and notifications (inside the claiming transaction)."""
    if reminder.task_id is not None:  # type: ignore[attr-defined]
        task = await models.Task.filter(id=reminder.task_id).first()  # type: ignore[attr-defined]
        if task is None or task.assignee_id is None:  # type: ignore[attr-defined]
            return
        await activity.record(
            actor=None,
            kind="task.reminder",
            subject_type="Task",
            subject_id=task.id,
            ticket_id=task.ticket_id,  # type: ignore[attr-defined]
            contact_id=task.contact_id,  # type: ignore[attr-defined]
            account_id=task.account_id,  # type: ignore[attr-defined]
            department_id=task.department_id,  # type: ignore[attr-defined]
            changes={
                "title": task.title,
                "dueAt": activity.jsonable(task.due_at),
                "remindAt": activity.jsonable(reminder.remind_at),
            },
            direct={task.assignee_id: NotificationReason.REMINDER},  # type: ignore[attr-defined]
        )
        return
    event = await models.Event.filter(id=reminder.event_id).first()  # type: ignore[attr-defined]
    if event is None:
        return
    people = set(
        await models.EventAttendee.filter(event_id=event.id).values_list("agent_id", flat=True)
    )
    if event.owner_id is not None:  # type: ignore[attr-defined]
        people.add(event.owner_id)  # type: ignore[attr-defined]
    await activity.record(
        actor=None,
        kind="event.reminder",
        subject_type="Event",
        subject_id=event.id,
        ticket_id=event.ticket_id,  # type: ignore[attr-defined]
        contact_id=event.contact_id,  # type: ignore[attr-defined]
        account_id=event.account_id,  # type: ignore[attr-defined]
        department_id=event.department_id,  # type: ignore[attr-defined]
        changes={
            "title": event.title,
            "startsAt": activity.jsonable(event.starts_at),
            "remindAt": activity.jsonable(reminder.remind_at),
        },
        direct={pk: NotificationReason.REMINDER for pk in sorted(people)},
    )


def claim_token() -> str:
    """A mark no other claim shares ("host:pid#random"): the rows a claim won are those with
    its mark (a timestamp is not enough: two processes waking for the same due time took the
    same microsecond, and both delivered)."""
    return f"{PROCESS}#{uuid.uuid4().hex[:12]}"


async def _claim_and_deliver(limit: int) -> int:
    now = datetime.now(UTC)
    token = claim_token()
    async with uow.transaction():
        # `.only("id")` keeps FOR UPDATE SKIP LOCKED (tortoise drops it from values_list):
        # other processes pass over the rows this one holds instead of queueing behind them.
        locked = (
            await models.Reminder.filter(status=ReminderStatus.PENDING, remind_at__lte=now)
            .select_for_update(skip_locked=True)
            .order_by("remind_at", "id")
            .limit(limit)
            .only("id")
        )
        ids = [row.id for row in locked]
        if not ids:
            return 0
        # Re-checks PENDING on the latest row version (SQLite has no row locks): a row another
        # process delivered meanwhile is not updated and not ours.
        await models.Reminder.filter(id__in=ids, status=ReminderStatus.PENDING).update(
            status=ReminderStatus.SENT, fired_at=now, fired_by=token, attempts=F("attempts") + 1
        )
        rows = await models.Reminder.filter(
            id__in=ids, status=ReminderStatus.SENT, fired_by=token
        ).order_by("remind_at", "id")
        for row in rows:
            await _deliver(row)
        return len(rows)


async def _one_by_one(limit: int) -> int:
    """After a failed batch: each due reminder alone, so one bad row cannot hold up the rest."""
    now = datetime.now(UTC)
    due = (
        await models.Reminder.filter(status=ReminderStatus.PENDING, remind_at__lte=now)
        .order_by("remind_at", "id")
        .limit(limit)
        .values_list("id", flat=True)
    )
    done = 0
    for pk in due:
        try:
            async with uow.transaction():
                row = (
                    await models.Reminder.filter(id=pk, status=ReminderStatus.PENDING)
                    .select_for_update(skip_locked=True)
                    .first()
                )
                if row is None:
                    continue
                await models.Reminder.filter(id=pk).update(
                    status=ReminderStatus.SENT,
                    fired_at=datetime.now(UTC),
                    fired_by=claim_token(),
                    attempts=F("attempts") + 1,
                )
                await _deliver(row)
            done += 1
        except Exception as exc:  # noqa: BLE001 - recorded on the row, retried later
            log.exception("reminder %s failed", pk)
            row = await models.Reminder.get(id=pk)
            attempts = row.attempts + 1
            await models.Reminder.filter(id=pk, status=ReminderStatus.PENDING).update(
                attempts=attempts,
                last_error=f"{type(exc).__name__}: {exc}"[:2000],
                status=ReminderStatus.CANCELLED
                if attempts >= MAX_ATTEMPTS
                else ReminderStatus.PENDING,
                remind_at=now + timedelta(seconds=2**attempts),
            )
    return done


async def run_once(*, limit: int = 100) -> int:
    """Deliver the reminders due now (one batch); returns how many were delivered."""
    try:
        return await _claim_and_deliver(limit)
    except Exception:  # noqa: BLE001 - fall back to one transaction per reminder
        log.exception("reminder batch failed; retrying one by one")
        return await _one_by_one(limit)


async def seconds_to_next() -> float | None:
    """Seconds until the next pending reminder is due (None when there is none)."""
    row = (
        await models.Reminder.filter(status=ReminderStatus.PENDING)
        .order_by("remind_at")
        .only("remind_at")
        .first()
    )
    if row is None:
        return None
    due = row.remind_at
    due = due.replace(tzinfo=UTC) if due.tzinfo is None else due
    return (due - datetime.now(UTC)).total_seconds()


class ReminderWorker(durable_queue.QueueWorker):
    """Delivers due reminders from this process (any number of processes may run one)."""

    name = "reminders"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings.reminder_interval_ms, _workers)
        self.batch = settings.reminder_batch_size

    async def run_once(self) -> int:
        """Deliver one batch of due reminders."""
        return await run_once(limit=self.batch)

    async def next_due(self) -> float | None:
        """Sleep until the next reminder is due (at most the interval)."""
        return await seconds_to_next()
