"""Resolvers of the agents' help-center fields (schema/helpcenter.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.dataloader import DataLoader

from deskql import models
from deskql.models.helpcenter import ContactLinkKind
from deskql.resolvers.common import mutate
from deskql.schema.context import actor_of
from deskql.schema.ids import input_id
from deskql.services.helpcenter import access, links, options

if TYPE_CHECKING:
    from deskql.schema.helpcenter import (
        ContactHelpCenterAccessUpdateInput,
        ContactPortalInviteInput,
        HelpCenterAccess,
        HelpCenterSettings,
        HelpCenterSettingsUpdateInput,
        TicketRating,
    )


def _schema() -> Any:
    from deskql.schema import helpcenter

    return helpcenter


async def _access(contact_id: int) -> HelpCenterAccess | None:
    row = await models.ContactLogin.filter(contact_id=contact_id).first()
    invited = (
        await models.ContactLink.filter(contact_id=contact_id, kind=ContactLinkKind.INVITE)
        .order_by("-id")
        .first()
    )
    if row is None and invited is None:
        return None
    return _schema().HelpCenterAccess(
        has_password=bool(row and row.password_hash),
        is_active=row.is_active if row else True,
        is_account_manager=row.is_account_manager if row else False,
        last_sign_in_at=row.last_login_at if row else None,
        invited_at=invited.created_at if invited else None,
    )


async def contact_access(info: strawberry.Info, contact_pk: int) -> HelpCenterAccess | None:
    """`Contact.helpCenterAccess`."""
    actor_of(info)
    return await _access(contact_pk)


async def _ratings(keys: Sequence[int]) -> list[TicketRating | None]:
    convert = _schema().TicketRating.from_row
    rows = {
        r.ticket_id: convert(r)  # type: ignore[attr-defined]
        for r in await models.TicketRating.filter(ticket_id__in=list(set(keys)))
    }
    return [rows.get(k) for k in keys]


async def ticket_rating(info: strawberry.Info, ticket_pk: int) -> TicketRating | None:
    """`Ticket.rating`: one query for a whole page of tickets (the ticket is already one the
    agent may see)."""
    loaders = info.context.loaders
    loader = getattr(loaders, "rating_by_ticket", None)
    if loader is None:
        loader = loaders.rating_by_ticket = DataLoader(load_fn=_ratings)
    return await loader.load(ticket_pk)


async def invite(info: strawberry.Info, input: ContactPortalInviteInput) -> Any:
    """`contactPortalInvite`."""
    from deskql.schema.types import Contact

    actor = actor_of(info)

    async def run() -> dict[str, Any]:
        pk = input_id(input.contact_id, "Contact", "contactId")
        row = await links.invite(actor, settings=info.context.settings, contact_id=pk)
        return {"contact": Contact.from_row(row)}

    return await mutate(_schema().ContactPortalInvitePayload, run)


async def access_update(info: strawberry.Info, input: ContactHelpCenterAccessUpdateInput) -> Any:
    """`contactHelpCenterAccessUpdate`."""
    actor = actor_of(info)

    async def run() -> dict[str, Any]:
        pk = input_id(input.contact_id, "Contact", "contactId")
        await access.update_access(
            actor,
            contact_id=pk,
            is_active=input.is_active,
            is_account_manager=input.is_account_manager,
        )
        return {"access": await _access(pk)}

    return await mutate(_schema().ContactHelpCenterAccessUpdatePayload, run)


async def settings(info: strawberry.Info) -> HelpCenterSettings:
    """`helpCenterSettings`."""
    actor_of(info)
    return _schema().HelpCenterSettings(self_signup=(await options.get()).self_signup)


async def settings_update(info: strawberry.Info, input: HelpCenterSettingsUpdateInput) -> Any:
    """`helpCenterSettingsUpdate`."""
    actor = actor_of(info)

    async def run() -> dict[str, Any]:
        row = await options.update(actor, self_signup=input.self_signup)
        return {"settings": _schema().HelpCenterSettings(self_signup=row.self_signup)}

    return await mutate(_schema().HelpCenterSettingsUpdatePayload, run)
