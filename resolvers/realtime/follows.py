"""Following tickets, contacts and accounts, and who follows what."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from deskql.resolvers.common import mutate, page
from deskql.schema.connections import Connection
from deskql.schema.context import actor_of
from deskql.schema.ids import input_id
from deskql.schema.types import Account, Agent, Contact, Ticket
from deskql.services import follows as svc
from deskql.services.auth import Actor
from deskql.services.errors import PermissionDenied

if TYPE_CHECKING:
    from deskql.schema.realtime import (
        AccountFollowInput,
        ContactFollowInput,
        Following,
        TicketFollowInput,
    )


# -- following ----------------------------------------------------------------------------


def _payload(name: str) -> Any:
    from deskql.schema import realtime as s

    return getattr(s, name)


async def ticket_follow(info: strawberry.Info, input: TicketFollowInput, follow: bool) -> Any:
    """`ticketFollow` / `ticketUnfollow`."""
    actor = actor_of(info)

    async def run() -> dict[str, Any]:
        pk = input_id(input.ticket_id, "Ticket", "ticketId")
        call = svc.follow_ticket if follow else svc.unfollow_ticket
        row = await call(actor, ticket_id=pk)
        return {"ticket": Ticket.from_row(row), "following": follow}

    return await mutate(_payload("TicketFollowPayload"), run)


async def contact_follow(info: strawberry.Info, input: ContactFollowInput, follow: bool) -> Any:
    """`contactFollow` / `contactUnfollow`."""
    actor = actor_of(info)

    async def run() -> dict[str, Any]:
        pk = input_id(input.contact_id, "Contact", "contactId")
        call = svc.follow_contact if follow else svc.unfollow_contact
        row = await call(actor, contact_id=pk)
        return {"contact": Contact.from_row(row), "following": follow}

    return await mutate(_payload("ContactFollowPayload"), run)


async def account_follow(info: strawberry.Info, input: AccountFollowInput, follow: bool) -> Any:
    """`accountFollow` / `accountUnfollow`."""
    actor = actor_of(info)

    async def run() -> dict[str, Any]:
        pk = input_id(input.account_id, "Account", "accountId")
        call = svc.follow_account if follow else svc.unfollow_account
        row = await call(actor, account_id=pk)
        return {"account": Account.from_row(row), "following": follow}

    return await mutate(_payload("AccountFollowPayload"), run)


async def followers(
    info: strawberry.Info,
    *,
    first: int | None,
    after: str | None,
    ticket_id: int | None = None,
    contact_id: int | None = None,
    account_id: int | None = None,
) -> Connection[Agent]:
    """`followers` of a ticket, contact or account (agents you may see)."""
    query = svc.followers(
        actor_of(info), ticket_id=ticket_id, contact_id=contact_id, account_id=account_id
    )
    return await page(info, query, first=first, after=after, convert=Agent.from_row)


def _only_me(info: strawberry.Info, agent_pk: int, what: str) -> Actor:
    actor = actor_of(info)
    if agent_pk != actor.agent_id:
        raise PermissionDenied(f"{what} is only available on `me`")
    return actor


async def following(info: strawberry.Info, agent_pk: int) -> Following:
    """`me.following`: what the agent follows and may still see."""
    from deskql.schema.realtime import Following

    _only_me(info, agent_pk, "following")
    return Following(agent_pk=agent_pk)


async def followed(
    info: strawberry.Info, agent_pk: int, what: str, *, first: int | None, after: str | None
) -> Connection[Any]:
    """`me.following.tickets|contacts|accounts`: a page of what the agent follows."""
    actor = _only_me(info, agent_pk, "following")
    query, convert = {
        "tickets": (svc.followed_tickets, Ticket.from_row),
        "contacts": (svc.followed_contacts, Contact.from_row),
        "accounts": (svc.followed_accounts, Account.from_row),
    }[what]
    return await page(info, query(actor), first=first, after=after, convert=convert)
