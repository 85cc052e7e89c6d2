"""Comments with @mentions on contacts, accounts, tasks, events and calls (COL-1), through the
generic mechanism (recordCommentAdd, commentEdit, commentDelete): the mentioned agent and the
contact's followers are notified (COL-2); a record of another department is NOT_FOUND; only the
author (or an administrator) edits or deletes, each an Activity row with the previous text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from deskql import models
from deskql.models.enums import NotificationReason
from deskql.services.activities import calls, events, tasks
from tests.activities.conftest import actor
from tests.conftest import GQLClient, World, gid, make_agent

ADD = """mutation($id: ID!, $body: String!) { recordCommentAdd(input: {recordId: $id, body: $body})
  { errors { field message code } comment { id body subjectType subjectId author { email } } } }"""
EDIT = """mutation($id: ID!, $body: String!) { commentEdit(input: {commentId: $id, body: $body})
  { errors { field message code } comment { body } } }"""
DELETE = """mutation($id: ID!) { commentDelete(input: {commentId: $id})
  { errors { field message code } comment { body } } }"""


async def _records(world: World) -> dict[str, str]:
    alice = await actor(world.alice)
    account = await models.Account.create(name="Zylker Inc")
    task = await tasks.create_task(alice, subject="Follow up", contact_id=world.contact.id)
    now = datetime.now(UTC)
    event = await events.create_event(
        alice,
        title="Visit",
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=1, hours=1),
        contact_id=world.contact.id,
    )
    call = await calls.create_call(
        alice,
        direction=models.CallDirection.INBOUND,
        number="+14155550100",
        contact_id=world.contact.id,
    )
    return {
        "Contact": gid("Contact", world.contact.id),
        "Account": gid("Account", account.id),
        "Task": gid("Task", task.id),
        "Event": gid("Event", event.id),
        "Call": gid("Call", call.id),
    }


async def test_comments_with_mentions_on_every_activity_record(
    gql: GQLClient, world: World
) -> None:
    carol, _ = await make_agent("carol@zylker.com", "Carol", depts=[world.support.id])
    await models.Follow.create(agent_id=world.admin.id, contact_id=world.contact.id)
    ids = await _records(world)
    mention = f"@[Carol]({gid('Agent', carol.id)}) please look"
    for type_name, record_id in ids.items():
        res = await gql.as_(world.alice_token)(ADD, {"id": record_id, "body": mention})
        out = res.data["recordCommentAdd"]
        assert out["errors"] == [], type_name
        assert out["comment"]["subjectType"] == type_name
        assert out["comment"]["subjectId"] == record_id
        row = await models.Activity.get(kind=f"{type_name.lower()}.comment_added")
        told = dict(
            await models.Notification.filter(activity_id=row.id).values_list("agent_id", "reason")
        )
        assert told[carol.id] is NotificationReason.MENTIONED, type_name
        if type_name != "Account":  # the account is not the followed contact's
            assert told[world.admin.id] is NotificationReason.FOLLOWING, type_name
    # Each record lists its comment.
    res = await gql.as_(world.alice_token)(
        """query($t: ID!, $c: ID!) {
          node(id: $t) { ... on Task { comments { totalCount nodes { body } } } }
          contact(id: $c) { comments { totalCount } }
        }""",
        {"t": ids["Task"], "c": ids["Contact"]},
    )
    assert res.data["node"]["comments"] == {"totalCount": 1, "nodes": [{"body": mention}]}
    assert res.data["contact"]["comments"]["totalCount"] == 1


async def test_comment_on_a_record_of_another_department_is_not_found(
    gql: GQLClient, world: World
) -> None:
    ids = await _records(world)
    before = (await models.Comment.all().count(), await models.Activity.all().count())
    for type_name in ("Task", "Event", "Call"):
        res = await gql.as_(world.bob_token)(ADD, {"id": ids[type_name], "body": "mine?"})
        errors = res.data["recordCommentAdd"]["errors"]
        assert [e["code"] for e in errors] == ["NOT_FOUND"], type_name
    assert (await models.Comment.all().count(), await models.Activity.all().count()) == before
    # Contacts and accounts are organisation-wide: Bob may comment there.
    res = await gql.as_(world.bob_token)(ADD, {"id": ids["Contact"], "body": "hello"})
    assert res.data["recordCommentAdd"]["errors"] == []


async def test_only_the_author_or_an_administrator_edits_and_deletes(
    gql: GQLClient, world: World
) -> None:
    carol, carol_token = await make_agent("carol@zylker.com", "Carol", depts=[world.support.id])
    ids = await _records(world)
    res = await gql.as_(world.alice_token)(ADD, {"id": ids["Call"], "body": "first text"})
    comment_id = res.data["recordCommentAdd"]["comment"]["id"]
    before = await models.Activity.all().count()
    res = await gql.as_(carol_token)(EDIT, {"id": comment_id, "body": "carol's text"})
    assert [e["code"] for e in res.data["commentEdit"]["errors"]] == ["NOT_OWNER"]
    res = await gql.as_(carol_token)(DELETE, {"id": comment_id})
    assert [e["code"] for e in res.data["commentDelete"]["errors"]] == ["NOT_OWNER"]
    assert await models.Activity.all().count() == before
    res = await gql.as_(world.alice_token)(EDIT, {"id": comment_id, "body": "second text"})
    assert res.data["commentEdit"]["comment"] == {"body": "second text"}
    edited = await models.Activity.get(kind="call.comment_edited")
    assert edited.changes["body"] == {"old": "first text", "new": "second text"}
    res = await gql.as_(world.admin_token)(DELETE, {"id": comment_id})
    assert res.data["commentDelete"]["errors"] == []
    deleted = await models.Activity.get(kind="call.comment_deleted")
    assert deleted.changes["body"]["old"] == "second text"
    assert await models.Comment.all().count() == 0


async def test_deleting_a_task_deletes_its_comments(gql: GQLClient, world: World) -> None:
    ids = await _records(world)
    await gql.as_(world.alice_token)(ADD, {"id": ids["Task"], "body": "note"})
    res = await gql.as_(world.alice_token)(
        "mutation($id: ID!) { taskDelete(input: {id: $id}) { errors { code } } }",
        {"id": ids["Task"]},
    )
    assert res.data["taskDelete"]["errors"] == []
    assert await models.Comment.filter(subject_type="Task").count() == 0
