"""Notifications written with each Activity (COL-1, COL-3), mentions, and the unit of work
that publishes events only after commit; without GraphQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from deskql import models
from deskql.db import count_statements
from deskql.models.enums import NotificationReason
from deskql.realtime import topics
from deskql.schema.ids import to_global_id
from deskql.services import auth, customers, follows, notifications, tickets, uow
from deskql.services.errors import ErrorCode, ValidationFailed
from tests.conftest import World


async def _actor(agent: models.Agent) -> auth.Actor:
    return await auth.load_actor(agent.id)


async def _ticket(world: World, actor: auth.Actor, **kwargs: Any) -> models.Ticket:
    return await tickets.create_ticket(
        actor,
        subject="Printer on fire",
        department_id=world.support.id,
        contact_id=world.contact.id,
        **kwargs,
    )


async def _support_agent(world: World, email: str, name: str) -> models.Agent:
    agent = await models.Agent.create(email=email, first_name=name[:1], last_name=name)
    await models.DepartmentMembership.create(agent_id=agent.id, department_id=world.support.id)
    return agent


def _mention(agent: models.Agent) -> str:
    return f"@[{agent.last_name}]({to_global_id('Agent', agent.id)})"


async def _notes(agent: models.Agent) -> list[tuple[str, NotificationReason]]:
    rows = await models.Notification.filter(agent_id=agent.id).order_by("id")
    kinds = {
        a.id: a.kind for a in await models.Activity.filter(id__in=[r.activity_id for r in rows])
    }
    return [(kinds[r.activity_id], r.reason) for r in rows]  # type: ignore[attr-defined]


@pytest_asyncio.fixture
async def published(world: World) -> AsyncIterator[list[tuple[str, dict[str, Any]]]]:
    """Events the unit of work publishes, captured in order."""
    got: list[tuple[str, dict[str, Any]]] = []

    async def publisher(events: list[tuple[str, dict[str, Any]]]) -> None:
        got.extend(events)

    uow.set_publisher(publisher)
    yield got
    uow.clear_publisher(publisher)


async def test_followers_are_notified_but_never_the_actor(world: World) -> None:
    alice = await _actor(world.alice)
    dave = await _support_agent(world, "dave@zylker.com", "Dave")
    ticket = await _ticket(world, alice)
    await follows.follow_ticket(alice, ticket_id=ticket.id)
    await follows.follow_ticket(await _actor(dave), ticket_id=ticket.id)
    await tickets.update_ticket(
        alice, ticket_id=ticket.id, version=ticket.version, changes={"subject": "Smoke"}
    )
    assert await _notes(dave) == [("ticket.updated", NotificationReason.FOLLOWING)]
    assert await _notes(world.alice) == []
    note = await models.Notification.get(agent_id=dave.id)
    assert (note.ticket_id, note.contact_id) == (ticket.id, world.contact.id)


async def test_contact_and_account_followers_hear_of_their_tickets(world: World) -> None:
    admin = await _actor(world.admin)
    account = await models.Account.create(name="Zylker Ltd")
    world.contact.account_id = account.id  # type: ignore[attr-defined]
    await world.contact.save()
    dave = await _support_agent(world, "dave@zylker.com", "Dave")
    erin = await _support_agent(world, "erin@zylker.com", "Erin")
    await follows.follow_contact(await _actor(dave), contact_id=world.contact.id)
    await follows.follow_account(await _actor(erin), account_id=account.id)
    await _ticket(world, admin)
    assert await _notes(dave) == [("ticket.created", NotificationReason.FOLLOWING)]
    assert await _notes(erin) == [("ticket.created", NotificationReason.FOLLOWING)]


async def test_contact_activity_reaches_contact_followers(world: World) -> None:
    bob = await _actor(world.bob)
    await follows.follow_contact(bob, contact_id=world.contact.id)
    admin = await _actor(world.admin)
    await customers.update_contact(
        admin, contact_id=world.contact.id, changes={"phone": "+48 123 456 789"}
    )
    notes = await _notes(world.bob)
    assert len(notes) == 1 and notes[0][1] is NotificationReason.FOLLOWING


async def test_one_notification_per_agent_with_the_strongest_reason(world: World) -> None:
    alice = await _actor(world.alice)
    dave = await _support_agent(world, "dave@zylker.com", "Dave")
    ticket = await _ticket(world, alice)
    await follows.follow_ticket(await _actor(dave), ticket_id=ticket.id)
    await follows.follow_contact(await _actor(dave), contact_id=world.contact.id)
    comment = await tickets.add_comment(
        alice, ticket_id=ticket.id, body=f"{_mention(dave)} and again {_mention(dave)}, look"
    )
    assert await _notes(dave) == [("ticket.comment_added", NotificationReason.MENTIONED)]
    assert await models.Mention.filter(comment_id=comment.id).values_list(
        "agent_id", flat=True
    ) == [dave.id]


async def test_mentions_ignore_bad_ids_and_agents_who_cannot_see(world: World) -> None:
    alice = await _actor(world.alice)
    ticket = await _ticket(world, alice)
    body = (
        f"{_mention(world.bob)} @[Ghost]({to_global_id('Agent', 9999)}) "
        f"@[Team]({to_global_id('Team', 1)}) @[x](!!notbase64!!) @[Alice]({_mention(world.alice)})"
    )
    await tickets.add_comment(alice, ticket_id=ticket.id, body=body)
    # Bob works in Sales: mentioned, but he may not see a Support ticket.
    assert await models.Notification.all().count() == 0


async def test_assignment_to_a_team_notifies_its_members(world: World) -> None:
    admin = await _actor(world.admin)
    dave = await _support_agent(world, "dave@zylker.com", "Dave")
    team = await models.Team.create(name="Tier 2", department_id=world.support.id)
    for agent in (world.alice, dave):
        await models.TeamMembership.create(team_id=team.id, agent_id=agent.id)
    ticket = await _ticket(world, admin)
    await tickets.update_ticket(
        await _actor(dave),
        ticket_id=ticket.id,
        version=ticket.version,
        changes={"assignee_team_id": team.id},
    )
    assert await _notes(world.alice) == [("ticket.updated", NotificationReason.ASSIGNED)]
    assert await _notes(dave) == []  # the actor


async def test_assigned_agent_is_notified_on_create(world: World) -> None:
    admin = await _actor(world.admin)
    await _ticket(world, admin, assignee_agent_id=world.alice.id)
    assert await _notes(world.alice) == [("ticket.created", NotificationReason.ASSIGNED)]


async def test_no_notifications_for_spam_tickets(world: World) -> None:
    alice = await _actor(world.alice)
    dave = await _support_agent(world, "dave@zylker.com", "Dave")
    ticket = await _ticket(world, alice)
    await follows.follow_ticket(await _actor(dave), ticket_id=ticket.id)
    await models.Ticket.filter(id=ticket.id).update(is_spam=True)
    await tickets.add_comment(alice, ticket_id=ticket.id, body=f"spam? {_mention(dave)}")
    assert await _notes(dave) == []
    assert await models.Activity.filter(kind="ticket.comment_added").count() == 1


async def test_no_notifications_for_agents_who_lost_access(world: World) -> None:
    alice = await _actor(world.alice)
    dave = await _support_agent(world, "dave@zylker.com", "Dave")
    erin = await _support_agent(world, "erin@zylker.com", "Erin")
    ticket = await _ticket(world, alice)
    for agent in (dave, erin):
        await follows.follow_ticket(await _actor(agent), ticket_id=ticket.id)
    await models.DepartmentMembership.filter(agent_id=dave.id).delete()
    await models.Agent.filter(id=erin.id).update(is_active=False)
    await tickets.add_comment(alice, ticket_id=ticket.id, body="hello")
    assert await models.Notification.all().count() == 0


async def test_a_refused_change_writes_and_publishes_nothing(world: World, published: list) -> None:
    alice = await _actor(world.alice)
    dave = await _support_agent(world, "dave@zylker.com", "Dave")
    ticket = await _ticket(world, alice, tags=[f"t{i}" for i in range(9)])
    await follows.follow_ticket(await _actor(dave), ticket_id=ticket.id)
    published.clear()
    activities = await models.Activity.all().count()
    with pytest.raises(ValidationFailed) as err:
        # The limit is checked inside the transaction: it rolls back.
        await tickets.add_tags(alice, ticket_id=ticket.id, names=["a1", "a2"])
    assert err.value.errors[0].code is ErrorCode.LIMIT_EXCEEDED
    assert await models.Activity.all().count() == activities
    assert await models.Notification.all().count() == 0
    assert published == []


async def test_events_are_published_after_commit_only(world: World, published: list) -> None:
    alice = await _actor(world.alice)
    dave = await _support_agent(world, "dave@zylker.com", "Dave")
    ticket = await _ticket(world, alice)
    await follows.follow_ticket(await _actor(dave), ticket_id=ticket.id)
    published.clear()
    seen_inside: list[int] = []
    async with uow.transaction():
        await tickets.add_comment(alice, ticket_id=ticket.id, body="nested")
        seen_inside.append(len(published))
    assert seen_inside == [0]
    channels = [channel for channel, _ in published]
    assert channels == [
        topics.ticket(ticket.id),
        topics.department(world.support.id),
        topics.agent(dave.id),
    ]
    note = await models.Notification.get(agent_id=dave.id)
    assert published[2][1] == {
        "type": "notification",
        "id": note.id,
        "agent": dave.id,
        "activity": note.activity_id,  # type: ignore[attr-defined]
    }
    # A rolled-back outer transaction publishes nothing, even for inner work that succeeded.
    published.clear()
    with pytest.raises(RuntimeError):
        async with uow.transaction():
            await tickets.add_comment(alice, ticket_id=ticket.id, body="lost")
            raise RuntimeError("boom")
    assert published == []
    assert await models.Comment.filter(body="lost").count() == 0


async def test_list_mark_read_and_unread_count(world: World) -> None:
    alice = await _actor(world.alice)
    dave_row = await _support_agent(world, "dave@zylker.com", "Dave")
    dave = await _actor(dave_row)
    ticket = await _ticket(world, alice)
    await follows.follow_ticket(dave, ticket_id=ticket.id)
    for i in range(5):
        await tickets.add_comment(alice, ticket_id=ticket.id, body=f"c{i}")
    rows = await notifications.list_notifications(dave)
    assert [r.id for r in rows] == sorted((r.id for r in rows), reverse=True)
    assert await notifications.unread_count(dave) == 5
    # Keyset: the page after the 2nd newest is the same whatever arrives meanwhile.
    page = await notifications.list_notifications(dave, before_id=rows[1].id)
    await tickets.add_comment(alice, ticket_id=ticket.id, body="newer")
    again = await notifications.list_notifications(dave, before_id=rows[1].id)
    assert [r.id for r in page] == [r.id for r in again] == [r.id for r in rows[2:]]
    newer = await notifications.list_notifications(dave, newer_than_id=rows[0].id)
    assert len(newer) == 1

    marked = await notifications.mark_read(dave, notification_ids=[rows[0].id, rows[0].id])
    assert [m.read_at is not None for m in marked] == [True]
    assert await notifications.unread_count(dave) == 5
    unread = await notifications.list_notifications(dave, unread_only=True)
    assert rows[0].id not in [r.id for r in unread]

    # Someone else's notification: refused, and nothing is marked.
    other = await models.Notification.create(
        agent_id=world.bob.id, activity_id=rows[0].activity_id, reason="FOLLOWING"
    )
    with pytest.raises(ValidationFailed) as err:
        await notifications.mark_read(dave, notification_ids=[rows[1].id, other.id])
    assert err.value.errors[0].code is ErrorCode.NOT_FOUND
    assert (await models.Notification.get(id=rows[1].id)).read_at is None
    for bad, code in (([], ErrorCode.REQUIRED), (list(range(1, 102)), ErrorCode.LIMIT_EXCEEDED)):
        with pytest.raises(ValidationFailed) as err:
            await notifications.mark_read(dave, notification_ids=bad)
        assert err.value.errors[0].code is code

    assert await notifications.mark_all_read(dave, up_to_id=rows[2].id) == 3
    assert await notifications.unread_count(dave) == 2
    assert await notifications.mark_all_read(dave) == 2
    assert await notifications.unread_count(dave) == 0
    assert (await models.Notification.get(id=other.id)).read_at is None


def test_mention_syntax() -> None:
    gid = to_global_id("Agent", 42)
    assert notifications.mentioned_agent_ids(f"hi @[Ann Lee]({gid}) @[x]({gid})") == [42]
    assert notifications.mentioned_agent_ids(f"@Ann ({gid}) [Ann]({gid}) @[]({gid})") == []
    assert notifications.mentioned_agent_ids(f"@[Ann]({to_global_id('Ticket', 3)})") == []


async def test_notifications_about_tickets_no_longer_visible_are_hidden(world: World) -> None:
    alice = await _actor(world.alice)
    dave_row = await _support_agent(world, "dave@zylker.com", "Dave")
    ticket = await _ticket(world, alice)
    await follows.follow_ticket(await _actor(dave_row), ticket_id=ticket.id)
    await tickets.add_comment(alice, ticket_id=ticket.id, body="one")
    dave = await _actor(dave_row)
    assert await notifications.unread_count(dave) == 1
    await models.Ticket.filter(id=ticket.id).update(department_id=world.sales.id)
    assert await notifications.unread_count(dave) == 0
    assert await notifications.list_notifications(dave) == []
    with pytest.raises(ValidationFailed):
        note = await models.Notification.get(agent_id=dave_row.id)
        await notifications.mark_read(dave, notification_ids=[note.id])


async def test_without_savepoints_a_failed_nested_block_rolls_back_everything(
    world: World, published: list
) -> None:
    alice = await _actor(world.alice)
    ticket = await _ticket(world, alice, tags=[f"t{i}" for i in range(9)])
    published.clear()
    activities = await models.Activity.all().count()
    with pytest.raises(uow.NestedFailed):
        async with uow.transaction(savepoints=False):
            await tickets.add_comment(alice, ticket_id=ticket.id, body="kept?")
            with pytest.raises(ValidationFailed):  # caught here: no savepoint to go back to
                await tickets.add_tags(alice, ticket_id=ticket.id, names=["a1", "a2"])
            await tickets.add_comment(alice, ticket_id=ticket.id, body="after")
    assert await models.Comment.all().count() == 0
    assert await models.Activity.all().count() == activities
    assert published == []
    # Nested blocks that succeed join the transaction and commit with it.
    async with uow.transaction(savepoints=False):
        await tickets.add_comment(alice, ticket_id=ticket.id, body="one")
        await tickets.add_comment(alice, ticket_id=ticket.id, body="two")
    assert sorted(await models.Comment.all().values_list("body", flat=True)) == ["one", "two"]
    comment_activities = set(
        await models.Activity.filter(kind="ticket.comment_added").values_list("id", flat=True)
    )
    announced = [m["id"] for _, m in published if m.get("type") == "activity"]
    assert len(comment_activities) == 2
    assert sorted(set(announced)) == sorted(comment_activities)  # after the commit only


async def test_followers_read_ahead_are_dropped_when_a_follow_is_written(world: World) -> None:
    alice = await _actor(world.alice)
    dave = await _support_agent(world, "dave@zylker.com", "Dave")
    erin = await _support_agent(world, "erin@zylker.com", "Erin")
    await follows.follow_contact(await _actor(dave), contact_id=world.contact.id)
    async with uow.transaction():
        await notifications.read_followers(contact_ids=[world.contact.id])
        with count_statements() as sql:
            first = await _ticket(world, alice)
        assert not [s for s in sql.sql if 'FROM "follow"' in s]  # read ahead; new ticket: none
        await follows.follow_contact(await _actor(erin), contact_id=world.contact.id)
        second = await _ticket(world, alice)
    firsts = await models.Notification.filter(ticket_id=first.id).values_list("agent_id", flat=True)
    seconds = await models.Notification.filter(ticket_id=second.id).values_list(
        "agent_id", flat=True
    )
    assert sorted(firsts) == [dave.id]
    assert sorted(seconds) == sorted([dave.id, erin.id])


async def test_contacts_read_ahead_are_used_and_dropped_when_a_contact_changes(
    world: World,
) -> None:
    admin = await _actor(world.admin)
    async with uow.transaction():
        found = await customers.read_contacts(["Melissa@Example.com", "x@example.org", "bad"])
        assert [c.id for c in found] == [world.contact.id]
        with count_statements() as sql:
            melissa = await customers.find_or_create_contact(None, email="melissa@example.com")
        assert sql.sql == [] and melissa.id == world.contact.id
        x = await customers.find_or_create_contact(None, email="x@example.org", name="X Y")
        with count_statements() as sql:
            again = await customers.find_or_create_contact(None, email="x@example.org")
        assert sql.sql == [] and again.id == x.id
        await customers.update_contact(
            admin, contact_id=world.contact.id, changes={"email": "m2@example.com"}
        )
        # The address is free now: a contact is made for it, not the one read ahead.
        fresh = await customers.find_or_create_contact(None, email="melissa@example.com")
        assert fresh.id not in (world.contact.id, x.id)
    emails = sorted(await models.Contact.all().values_list("email", flat=True))
    assert emails == ["m2@example.com", "melissa@example.com", "x@example.org"]


async def test_written_rows_and_their_envelopes_for_many_followers(
    world: World, published: list
) -> None:
    # The rows a ticket's followers get are written in one statement on PostgreSQL (no model
    # per row) and by bulk_create on SQLite: the same columns either way, and each agent's
    # envelope names its own notification; a deactivated follower and one of another
    # department get nothing (ORG-5).
    from datetime import UTC, datetime, timedelta

    alice = await _actor(world.alice)
    ticket = await _ticket(world, alice)
    agents = [await _support_agent(world, f"f{i}@zylker.com", f"Follower{i}") for i in range(5)]
    for agent in agents:
        await follows.follow_ticket(await _actor(agent), ticket_id=ticket.id)
    # Bob (Sales only) follows it from before it moved to Support, say.
    await models.Follow.create(agent_id=world.bob.id, ticket_id=ticket.id)
    await models.Agent.filter(id=agents[4].id).update(is_active=False)
    published.clear()
    before = datetime.now(UTC) - timedelta(seconds=5)
    await tickets.add_comment(alice, ticket_id=ticket.id, body=f"{_mention(agents[0])} look")
    activity = await models.Activity.get(kind="ticket.comment_added")
    rows = await models.Notification.filter(activity_id=activity.id).order_by("agent_id")
    assert [r.agent_id for r in rows] == [a.id for a in agents[:4]]  # type: ignore[attr-defined]
    assert [r.reason for r in rows] == [NotificationReason.MENTIONED] + [
        NotificationReason.FOLLOWING
    ] * 3
    for row in rows:
        linked = (row.ticket_id, row.contact_id, row.account_id)
        assert linked == (ticket.id, world.contact.id, None)
        assert row.read_at is None and before < row.created_at <= datetime.now(UTC)
    envelopes = {m["agent"]: m for _, m in published if m["type"] == "notification"}
    assert envelopes == {
        row.agent_id: {  # type: ignore[attr-defined]
            "type": "notification",
            "id": row.id,
            "agent": row.agent_id,  # type: ignore[attr-defined]
            "activity": activity.id,
        }
        for row in rows
    }
    assert all(
        channel == topics.agent(message["agent"])
        for channel, message in published
        if message["type"] == "notification"
    )
