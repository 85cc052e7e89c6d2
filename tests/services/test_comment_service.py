"""Comments on any record (COL-1) through services.comments and the registry of record types
(services.records): tickets as before, edit/delete with history, mentions on edit, and a record
type plugged in by one registration (a task here, as the activities branch will do)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from deskql import models
from deskql.models.enums import NotificationReason
from deskql.schema.ids import to_global_id
from deskql.services import auth, comments, follows, policies, records, tickets
from deskql.services.errors import ErrorCode, ValidationFailed
from tests.conftest import World


async def _actor(agent: models.Agent) -> auth.Actor:
    return await auth.load_actor(agent.id)


def _mention(agent: models.Agent) -> str:
    return f"@[{agent.last_name}]({to_global_id('Agent', agent.id)})"


async def _support_agent(world: World, email: str, name: str) -> models.Agent:
    agent = await models.Agent.create(email=email, first_name=name[:1], last_name=name)
    await models.DepartmentMembership.create(agent_id=agent.id, department_id=world.support.id)
    return agent


async def _notes(agent: models.Agent) -> list[tuple[str, NotificationReason]]:
    rows = await models.Notification.filter(agent_id=agent.id).order_by("id")
    kinds = {
        a.id: a.kind for a in await models.Activity.filter(id__in=[r.activity_id for r in rows])
    }
    return [(kinds[r.activity_id], r.reason) for r in rows]  # type: ignore[attr-defined]


def _code(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[str | None, str]]:
    return [(e.field, e.code) for e in exc.value.errors]


async def _ticket(world: World, actor: auth.Actor) -> models.Ticket:
    return await tickets.create_ticket(
        actor,
        subject="Printer on fire",
        department_id=world.support.id,
        contact_id=world.contact.id,
    )


async def test_ticket_comment_edit_and_delete_keep_the_previous_text(world: World) -> None:
    alice = await _actor(world.alice)
    ticket = await _ticket(world, alice)
    comment = await tickets.add_comment(alice, ticket_id=ticket.id, body="First try")
    assert (comment.subject_type, comment.ticket_id, comment.subject_id) == (  # type: ignore[attr-defined]
        "Ticket",
        ticket.id,
        None,
    )
    edited = await comments.edit_comment(alice, comment_id=comment.id, body="Second try")
    assert edited.body == "Second try"
    assert (await models.Comment.get(id=comment.id)).body == "Second try"
    deleted = await comments.delete_comment(alice, comment_id=comment.id)
    assert deleted.body == "Second try"
    assert not await models.Comment.exists(id=comment.id)
    rows = await models.Activity.filter(ticket_id=ticket.id, kind__contains="comment").order_by(
        "id"
    )
    assert [(r.kind, r.subject_type, r.subject_id) for r in rows] == [
        ("ticket.comment_added", "Ticket", ticket.id),
        ("ticket.comment_edited", "Ticket", ticket.id),
        ("ticket.comment_deleted", "Ticket", ticket.id),
    ]
    assert rows[1].changes == {
        "commentId": comment.id,
        "body": {"old": "First try", "new": "Second try"},
    }
    assert rows[2].changes == {
        "commentId": comment.id,
        "isPublic": False,
        "body": {"old": "Second try", "new": None},
    }
    assert all(r.department_id == world.support.id for r in rows)


async def test_only_the_author_or_an_administrator_changes_a_comment(world: World) -> None:
    alice = await _actor(world.alice)
    carol = await _actor(await _support_agent(world, "carol@zylker.com", "Carol"))
    admin = await _actor(world.admin)
    bob = await _actor(world.bob)  # Sales: may not see the Support ticket
    ticket = await _ticket(world, alice)
    comment = await tickets.add_comment(alice, ticket_id=ticket.id, body="Mine")
    before = await models.Activity.all().count()
    with pytest.raises(ValidationFailed) as exc:
        await comments.edit_comment(carol, comment_id=comment.id, body="Theirs")
    assert _code(exc) == [("commentId", ErrorCode.NOT_OWNER)]
    with pytest.raises(ValidationFailed) as exc:
        await comments.delete_comment(carol, comment_id=comment.id)
    assert _code(exc) == [("commentId", ErrorCode.NOT_OWNER)]
    with pytest.raises(ValidationFailed) as exc:
        await comments.edit_comment(bob, comment_id=comment.id, body="Theirs")
    assert _code(exc) == [("commentId", ErrorCode.NOT_FOUND)]
    with pytest.raises(ValidationFailed) as exc:
        await comments.edit_comment(alice, comment_id=comment.id, body="   ")
    assert _code(exc) == [("body", ErrorCode.REQUIRED)]
    assert (await models.Comment.get(id=comment.id)).body == "Mine"
    assert await models.Activity.all().count() == before
    await comments.edit_comment(admin, comment_id=comment.id, body="Fixed by admin")
    await comments.delete_comment(admin, comment_id=comment.id)
    assert not await models.Comment.exists(id=comment.id)


async def test_an_edit_notifies_only_the_agents_it_newly_mentions(world: World) -> None:
    alice = await _actor(world.alice)
    carol = await _support_agent(world, "carol@zylker.com", "Carol")
    dave = await _support_agent(world, "dave@zylker.com", "Dave")
    ticket = await _ticket(world, alice)
    comment = await tickets.add_comment(alice, ticket_id=ticket.id, body=f"Ask {_mention(carol)}")
    assert await _notes(carol) == [("ticket.comment_added", NotificationReason.MENTIONED)]
    await comments.edit_comment(
        alice, comment_id=comment.id, body=f"Ask {_mention(carol)} and {_mention(dave)}"
    )
    assert await _notes(carol) == [("ticket.comment_added", NotificationReason.MENTIONED)]
    assert await _notes(dave) == [("ticket.comment_edited", NotificationReason.MENTIONED)]
    await comments.edit_comment(alice, comment_id=comment.id, body=f"Just {_mention(dave)}")
    mentioned = await models.Mention.filter(comment_id=comment.id).values_list(
        "agent_id", flat=True
    )
    assert sorted(mentioned) == [dave.id]


# -- a record type plugged in by one registration ------------------------------------------


async def _load_task(actor: auth.Actor, pk: int, field: str) -> models.Task:
    task = await policies.visible_tasks(actor).filter(id=pk).first()
    if task is None:
        raise ValidationFailed.one(field, "no such task", ErrorCode.NOT_FOUND)
    return task


TASKS = records.RecordType(
    name="Task",
    kind="task",
    field="taskId",
    load=_load_task,
    visible=policies.visible_tasks,
    record_activity=records.generic_activity("Task", department_of=lambda task: task.department_id),
    owners=lambda task: [task.created_by_id] if task.created_by_id else [],
)


@pytest_asyncio.fixture
async def task_type(world: World) -> AsyncIterator[records.RecordType]:
    # The application registers its own Task type (services.activities.records): this test's
    # stands in for it and the application's comes back after (a test run after this one
    # must find Task commentable as always).
    records.find("Task")  # the application's types are registered first
    previous = records._REGISTRY.get("Task")
    records.register(TASKS)
    yield TASKS
    if previous is None:
        records._REGISTRY.pop("Task", None)
    else:
        records._REGISTRY["Task"] = previous


async def test_a_registered_type_takes_comments_with_the_same_notifications(
    world: World, task_type: records.RecordType
) -> None:
    alice = await _actor(world.alice)
    carol = await _support_agent(world, "carol@zylker.com", "Carol")
    dave = await _support_agent(world, "dave@zylker.com", "Dave")
    erin = await _support_agent(world, "erin@zylker.com", "Erin")
    task = await models.Task.create(
        department_id=world.support.id, title="Call back", created_by_id=erin.id
    )
    await follows.follow_record(await _actor(dave), type_name="Task", record_id=task.id)
    assert await follows.is_following_record(
        await _actor(dave), type_name="Task", record_id=task.id
    )
    comment = await comments.add_comment(
        alice,
        type_name="Task",
        record_id=task.id,
        # Bob is in Sales: mentioned, but he may not see the task, so he is not told.
        body=f"{_mention(carol)} and {_mention(world.bob)}, see this",
    )
    assert (comment.subject_type, comment.subject_id, comment.ticket_id) == (  # type: ignore[attr-defined]
        "Task",
        task.id,
        None,
    )
    assert await _notes(carol) == [("task.comment_added", NotificationReason.MENTIONED)]
    assert await _notes(dave) == [("task.comment_added", NotificationReason.FOLLOWING)]
    assert await _notes(erin) == [("task.comment_added", NotificationReason.OWNER)]
    assert await _notes(world.bob) == []
    assert await _notes(world.alice) == []
    row = await models.Activity.get(kind="task.comment_added")
    assert (row.subject_type, row.subject_id, row.department_id, row.ticket_id) == (
        "Task",
        task.id,
        world.support.id,
        None,
    )
    # Scoped by the task's department: Bob neither sees nor comments on it.
    bob = await _actor(world.bob)
    assert not await comments.visible_comments(bob).filter(id=comment.id).exists()
    assert await comments.visible_comments(alice).filter(id=comment.id).exists()
    assert (
        await policies.visible(await _actor(world.admin), models.Comment)
        .filter(id=comment.id)
        .exists()
    )
    with pytest.raises(ValidationFailed) as exc:
        await comments.add_comment(bob, type_name="Task", record_id=task.id, body="Hi")
    assert _code(exc) == [("taskId", ErrorCode.NOT_FOUND)]
    with pytest.raises(ValidationFailed) as exc:
        await follows.follow_record(bob, type_name="Task", record_id=task.id)
    assert _code(exc) == [("taskId", ErrorCode.NOT_FOUND)]
    listed = await comments.list_comments(alice, type_name="Task", record_id=task.id)
    assert [c.id for c in await listed] == [comment.id]
    # Deleting the record: its comments and follows go with it.
    await records.forget_record("Task", task.id)
    assert not await models.Comment.exists(id=comment.id)
    assert not await models.Follow.filter(subject_type="Task").exists()


async def test_an_unregistered_type_takes_no_comments(world: World) -> None:
    admin = await _actor(world.admin)
    with pytest.raises(ValidationFailed) as exc:
        await comments.add_comment(admin, type_name="Department", record_id=1, body="Hi")
    assert _code(exc) == [("recordId", ErrorCode.INVALID)]


async def test_ticket_comments_are_scoped_as_before(world: World) -> None:
    alice = await _actor(world.alice)
    ticket = await _ticket(world, alice)
    comment = await tickets.add_comment(alice, ticket_id=ticket.id, body="Note")
    seen: dict[str, Any] = {}
    for name, agent in (("alice", world.alice), ("bob", world.bob), ("admin", world.admin)):
        actor = await _actor(agent)
        seen[name] = await policies.visible(actor, models.Comment).filter(id=comment.id).exists()
    assert seen == {"alice": True, "bob": False, "admin": True}
