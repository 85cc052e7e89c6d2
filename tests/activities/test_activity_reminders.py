"""Reminders (ACT-1): due reminders reach the owner's (and an event's attendees')
notification center once, however many workers claim at the same time (real concurrency on
PostgreSQL); completing a task or moving its reminder withdraws the old one; the worker loop
wakes up when the next reminder is due."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from deskql import models
from deskql.models.activities import ReminderStatus
from deskql.models.enums import NotificationReason
from deskql.services.activities import events, reminders, tasks
from deskql.settings import Settings
from tests.activities.conftest import actor
from tests.conftest import World, make_agent


def _at(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


async def _reminded(agent_id: int) -> list[models.Notification]:
    return await models.Notification.filter(
        agent_id=agent_id, reason=NotificationReason.REMINDER
    ).order_by("id")


async def test_a_due_task_reminder_notifies_its_owner_once(world: World) -> None:
    alice = await actor(world.alice)
    task = await tasks.create_task(
        alice, subject="Call back", contact_id=world.contact.id, reminder_at=_at(-1)
    )
    later = await tasks.create_task(
        alice, subject="Not yet", contact_id=world.contact.id, reminder_at=_at(3600)
    )
    assert await reminders.run_once() == 1
    assert await reminders.run_once() == 0
    notes = await _reminded(world.alice.id)
    assert len(notes) == 1
    row = await models.Activity.get(id=notes[0].activity_id)  # type: ignore[attr-defined]
    assert (row.kind, row.subject_id, row.changes["title"]) == (
        "task.reminder",
        task.id,
        "Call back",
    )
    sent = await models.Reminder.get(task_id=task.id)
    assert sent.status is ReminderStatus.SENT and sent.fired_at is not None
    assert (await models.Reminder.get(task_id=later.id)).status is ReminderStatus.PENDING
    assert 3500 < (await reminders.seconds_to_next() or 0) <= 3600


async def test_completing_or_moving_withdraws_the_pending_reminder(world: World) -> None:
    alice = await actor(world.alice)
    task = await tasks.create_task(
        alice, subject="Moves", contact_id=world.contact.id, reminder_at=_at(3600)
    )
    await tasks.update_task(alice, task_id=task.id, reminder_at=_at(-1))
    statuses = (
        await models.Reminder.filter(task_id=task.id)
        .order_by("id")
        .values_list("status", flat=True)
    )
    assert statuses == [ReminderStatus.CANCELLED, ReminderStatus.PENDING]
    done = await tasks.create_task(
        alice, subject="Done first", contact_id=world.contact.id, reminder_at=_at(-1)
    )
    await tasks.complete_task(alice, task_id=done.id)
    assert (await models.Reminder.get(task_id=done.id)).status is ReminderStatus.CANCELLED
    assert await reminders.run_once() == 1
    notes = await _reminded(world.alice.id)
    assert len(notes) == 1
    assert (await models.Activity.get(id=notes[0].activity_id)).subject_id == task.id  # type: ignore[attr-defined]


async def test_event_reminder_reaches_owner_and_attendees(world: World) -> None:
    carol, _ = await make_agent("carol@zylker.com", "Carol", depts=[world.support.id])
    admin = await actor(world.admin)
    event = await events.create_event(
        admin,
        title="Demo",
        starts_at=_at(600),
        ends_at=_at(1200),
        owner_id=world.alice.id,
        attendee_ids=[carol.id],
        department_id=world.support.id,
        contact_id=world.contact.id,
        reminder_at=_at(-1),
    )
    assert await reminders.run_once() == 1
    for agent in (world.alice, carol):
        notes = await _reminded(agent.id)
        assert len(notes) == 1, agent.email
    assert await _reminded(world.admin.id) == []
    row = await models.Activity.get(kind="event.reminder")
    assert row.subject_id == event.id


async def test_concurrent_claims_deliver_each_reminder_once(world: World) -> None:
    alice = await actor(world.alice)
    n = 60
    for i in range(n):
        await tasks.create_task(
            alice, subject=f"r{i}", contact_id=world.contact.id, reminder_at=_at(-1)
        )
    # Eight claimers at once, small batches: on PostgreSQL each runs on its own connection.
    results = await asyncio.gather(*[reminders.run_once(limit=5) for _ in range(8)])
    while await reminders.run_once(limit=5):
        pass
    assert sum(results) <= n
    notes = await _reminded(world.alice.id)
    assert len(notes) == n
    activity_ids = [note.activity_id for note in notes]  # type: ignore[attr-defined]
    subjects = await models.Activity.filter(id__in=activity_ids).values_list(
        "subject_id", flat=True
    )
    assert len(set(subjects)) == n
    assert await models.Reminder.filter(status=ReminderStatus.SENT).count() == n


async def test_worker_wakes_when_the_reminder_is_due(world: World, settings: Settings) -> None:
    from dataclasses import replace

    worker = reminders.ReminderWorker(replace(settings, reminder_interval_ms=5000))
    worker.start()
    try:
        alice = await actor(world.alice)
        await tasks.create_task(
            alice, subject="Soon", contact_id=world.contact.id, reminder_at=_at(0.5)
        )
        for _ in range(40):
            if await _reminded(world.alice.id):
                break
            await asyncio.sleep(0.1)
        notes = await _reminded(world.alice.id)
        assert len(notes) == 1  # well before the 5 s interval
    finally:
        await worker.stop()
