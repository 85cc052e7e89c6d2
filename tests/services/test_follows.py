"""Following tickets, contacts and accounts (TIC-13, COL-2), without GraphQL."""

from __future__ import annotations

import pytest

from deskql import models
from deskql.services import auth, follows, tickets
from deskql.services.errors import ErrorCode, ValidationFailed
from tests.conftest import World


async def _actor(agent: models.Agent) -> auth.Actor:
    return await auth.load_actor(agent.id)


async def _ticket(world: World, actor: auth.Actor, **kwargs: object) -> models.Ticket:
    return await tickets.create_ticket(
        actor,
        subject="Printer on fire",
        department_id=world.support.id,
        contact_id=world.contact.id,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_follow_is_idempotent_and_unfollow_removes(world: World) -> None:
    alice = await _actor(world.alice)
    ticket = await _ticket(world, alice)
    await follows.follow_ticket(alice, ticket_id=ticket.id)
    await follows.follow_ticket(alice, ticket_id=ticket.id)
    assert await models.Follow.filter(agent_id=world.alice.id, ticket_id=ticket.id).count() == 1
    assert await follows.is_following(alice, ticket_id=ticket.id)
    await follows.unfollow_ticket(alice, ticket_id=ticket.id)
    assert not await follows.is_following(alice, ticket_id=ticket.id)
    # Unfollowing what one does not follow is a no-op, not an error.
    await follows.unfollow_ticket(alice, ticket_id=ticket.id)


async def test_cannot_follow_a_ticket_of_another_department(world: World) -> None:
    alice, bob = await _actor(world.alice), await _actor(world.bob)
    ticket = await _ticket(world, alice)
    with pytest.raises(ValidationFailed) as err:
        await follows.follow_ticket(bob, ticket_id=ticket.id)
    assert err.value.errors[0].code is ErrorCode.NOT_FOUND
    assert err.value.errors[0].field == "ticketId"
    assert await models.Follow.filter(agent_id=world.bob.id).count() == 0


async def test_follow_missing_records_is_not_found(world: World) -> None:
    alice = await _actor(world.alice)
    for call, field in (
        (follows.follow_ticket(alice, ticket_id=999), "ticketId"),
        (follows.follow_contact(alice, contact_id=999), "contactId"),
        (follows.follow_account(alice, account_id=999), "accountId"),
    ):
        with pytest.raises(ValidationFailed) as err:
            await call
        assert (err.value.errors[0].field, err.value.errors[0].code) == (
            field,
            ErrorCode.NOT_FOUND,
        )
    assert await models.Follow.all().count() == 0


async def test_follow_contact_and_account(world: World) -> None:
    bob = await _actor(world.bob)
    account = await models.Account.create(name="Zylker Ltd")
    await follows.follow_contact(bob, contact_id=world.contact.id)
    await follows.follow_account(bob, account_id=account.id)
    assert [c.id for c in await follows.followed_contacts(bob)] == [world.contact.id]
    assert [a.id for a in await follows.followed_accounts(bob)] == [account.id]
    await follows.unfollow_account(bob, account_id=account.id)
    assert await follows.followed_accounts(bob) == []


async def test_assignee_follows_automatically_and_may_unfollow(world: World) -> None:
    admin = await _actor(world.admin)
    ticket = await _ticket(world, admin, assignee_agent_id=world.alice.id)
    assert await models.Follow.exists(agent_id=world.alice.id, ticket_id=ticket.id)
    alice = await _actor(world.alice)
    await follows.unfollow_ticket(alice, ticket_id=ticket.id)
    assert not await models.Follow.exists(agent_id=world.alice.id, ticket_id=ticket.id)
    # Re-assignment to someone else makes them follow; it does not re-follow alice.
    carol = await models.Agent.create(email="carol@zylker.com", first_name="C", last_name="Carol")
    await models.DepartmentMembership.create(agent_id=carol.id, department_id=world.support.id)
    await tickets.update_ticket(
        admin, ticket_id=ticket.id, version=ticket.version, changes={"assignee_agent_id": carol.id}
    )
    assert await models.Follow.exists(agent_id=carol.id, ticket_id=ticket.id)
    assert not await models.Follow.exists(agent_id=world.alice.id, ticket_id=ticket.id)


async def test_followers_lists_only_agents_the_viewer_may_see(world: World) -> None:
    alice, bob = await _actor(world.alice), await _actor(world.bob)
    await follows.follow_contact(alice, contact_id=world.contact.id)
    await follows.follow_contact(bob, contact_id=world.contact.id)
    admin = await _actor(world.admin)
    assert [a.id for a in await follows.followers(admin, contact_id=world.contact.id)] == [
        world.alice.id,
        world.bob.id,
    ]
    # Bob shares no department with alice: he sees only himself.
    assert [a.id for a in await follows.followers(bob, contact_id=world.contact.id)] == [
        world.bob.id
    ]


async def test_followed_tickets_hide_tickets_no_longer_visible(world: World) -> None:
    alice = await _actor(world.alice)
    ticket = await _ticket(world, alice)
    await follows.follow_ticket(alice, ticket_id=ticket.id)
    assert [t.id for t in await follows.followed_tickets(alice)] == [ticket.id]
    await models.DepartmentMembership.filter(agent_id=world.alice.id).delete()
    alice = await _actor(world.alice)
    assert await follows.followed_tickets(alice) == []
