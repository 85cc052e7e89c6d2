"""Following tickets (TIC-13), contacts and accounts (COL-2), and records of the types
registered in services.records (articles): what reaches an agent's notification center.
An agent follows only what they may see (ORG-5); following twice is a no-op, and so is
unfollowing what one does not follow."""

from __future__ import annotations

from typing import Any

from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet

from deskql import models
from deskql.services import notifications, records
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, ValidationFailed
from deskql.services.policies import visible_agents, visible_tickets


async def _ticket(actor: Actor, ticket_id: int) -> models.Ticket:
    ticket = await visible_tickets(actor).filter(id=ticket_id).first()
    if ticket is None:
        raise ValidationFailed.one("ticketId", "no such ticket", ErrorCode.NOT_FOUND)
    return ticket


async def _contact(contact_id: int) -> models.Contact:
    contact = await models.Contact.filter(id=contact_id).first()
    if contact is None:
        raise ValidationFailed.one("contactId", "no such contact", ErrorCode.NOT_FOUND)
    return contact


async def _account(account_id: int) -> models.Account:
    account = await models.Account.filter(id=account_id).first()
    if account is None:
        raise ValidationFailed.one("accountId", "no such account", ErrorCode.NOT_FOUND)
    return account


async def _follow(actor: Actor, **target: int) -> None:
    await models.Follow.bulk_create(
        [models.Follow(agent_id=actor.agent_id, **target)], ignore_conflicts=True
    )
    notifications.forget_followers()


async def follow_ticket(actor: Actor, *, ticket_id: int) -> models.Ticket:
    """Follow a ticket the actor may see."""
    ticket = await _ticket(actor, ticket_id)
    await _follow(actor, ticket_id=ticket.id)
    return ticket


async def unfollow_ticket(actor: Actor, *, ticket_id: int) -> models.Ticket:
    """Stop following a ticket (also one followed automatically as its assignee)."""
    ticket = await _ticket(actor, ticket_id)
    await models.Follow.filter(agent_id=actor.agent_id, ticket_id=ticket.id).delete()
    notifications.forget_followers()
    return ticket


async def follow_contact(actor: Actor, *, contact_id: int) -> models.Contact:
    """Follow a contact: activity on it and its tickets reaches the actor (COL-2)."""
    contact = await _contact(contact_id)
    await _follow(actor, contact_id=contact.id)
    return contact


async def unfollow_contact(actor: Actor, *, contact_id: int) -> models.Contact:
    """Stop following a contact."""
    contact = await _contact(contact_id)
    await models.Follow.filter(agent_id=actor.agent_id, contact_id=contact.id).delete()
    notifications.forget_followers()
    return contact


async def follow_account(actor: Actor, *, account_id: int) -> models.Account:
    """Follow an account: activity on it and its tickets reaches the actor (COL-2)."""
    account = await _account(account_id)
    await _follow(actor, account_id=account.id)
    return account


async def unfollow_account(actor: Actor, *, account_id: int) -> models.Account:
    """Stop following an account."""
    account = await _account(account_id)
    await models.Follow.filter(agent_id=actor.agent_id, account_id=account.id).delete()
    notifications.forget_followers()
    return account


def followers(
    actor: Actor,
    *,
    ticket_id: int | None = None,
    contact_id: int | None = None,
    account_id: int | None = None,
) -> QuerySet[models.Agent]:
    """The agents following a record, among those the actor may see, ordered by id."""
    if ticket_id is not None:
        follows = models.Follow.filter(ticket_id=ticket_id)
    elif contact_id is not None:
        follows = models.Follow.filter(contact_id=contact_id)
    elif account_id is not None:
        follows = models.Follow.filter(account_id=account_id)
    else:
        raise ValueError("followers of what? give a ticket, contact or account id")
    return visible_agents(actor).filter(id__in=Subquery(follows.values("agent_id"))).order_by("id")


async def is_following(
    actor: Actor,
    *,
    ticket_id: int | None = None,
    contact_id: int | None = None,
    account_id: int | None = None,
) -> bool:
    """Whether the actor follows the record."""
    qs = models.Follow.filter(agent_id=actor.agent_id)
    if ticket_id is not None:
        qs = qs.filter(ticket_id=ticket_id)
    elif contact_id is not None:
        qs = qs.filter(contact_id=contact_id)
    else:
        qs = qs.filter(account_id=account_id)
    return await qs.exists()


def followed_tickets(actor: Actor) -> QuerySet[models.Ticket]:
    """Tickets the actor follows and may still see, newest first."""
    follows = models.Follow.filter(agent_id=actor.agent_id, ticket_id__isnull=False)
    return visible_tickets(actor).filter(id__in=Subquery(follows.values("ticket_id")))


def followed_contacts(actor: Actor) -> QuerySet[models.Contact]:
    """Contacts the actor follows, ordered by id."""
    follows = models.Follow.filter(agent_id=actor.agent_id, contact_id__isnull=False)
    return models.Contact.filter(id__in=Subquery(follows.values("contact_id"))).order_by("id")


def followed_accounts(actor: Actor) -> QuerySet[models.Account]:
    """Accounts the actor follows, ordered by id."""
    follows = models.Follow.filter(agent_id=actor.agent_id, account_id__isnull=False)
    return models.Account.filter(id__in=Subquery(follows.values("account_id"))).order_by("id")


# -- any registered record (services.records): articles, ... -----------------------------


async def follow_record(
    actor: Actor, *, type_name: str, record_id: int, field: str | None = None
) -> Any:
    """Follow a record of a registered type that the actor may see; returns the record."""
    kind = _record_type(type_name, field)
    record = await kind.load(actor, record_id, field or kind.field)
    await _follow(actor, **kind.follow_columns(record.pk))
    return record


async def unfollow_record(
    actor: Actor, *, type_name: str, record_id: int, field: str | None = None
) -> Any:
    """Stop following a record of a registered type; returns the record."""
    kind = _record_type(type_name, field)
    record = await kind.load(actor, record_id, field or kind.field)
    await models.Follow.filter(agent_id=actor.agent_id, **kind.follow_columns(record.pk)).delete()
    notifications.forget_followers()
    return record


def record_followers(actor: Actor, *, type_name: str, record_id: int) -> QuerySet[models.Agent]:
    """The agents following a record of a registered type, among those the actor may see."""
    kind = _record_type(type_name, None)
    follows = models.Follow.filter(**kind.follow_columns(record_id))
    return visible_agents(actor).filter(id__in=Subquery(follows.values("agent_id"))).order_by("id")


async def is_following_record(actor: Actor, *, type_name: str, record_id: int) -> bool:
    """Whether the actor follows a record of a registered type."""
    kind = _record_type(type_name, None)
    return await models.Follow.filter(
        agent_id=actor.agent_id, **kind.follow_columns(record_id)
    ).exists()


def _record_type(type_name: str, field: str | None) -> records.RecordType:
    found = records.find(type_name)
    if found is None:
        raise ValidationFailed.one(
            field or "recordId", f"a {type_name} cannot be followed", ErrorCode.INVALID
        )
    return found
