"""Resolvers of the help center's schema: decode the input, call one service, build the
payload (the services live in services/helpcenter)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

import strawberry
from graphql import GraphQLError

from deskql import models
from deskql.realtime import help_stream
from deskql.realtime.hub import SLOW_CONSUMER_CODE, SLOW_CONSUMER_REASON
from deskql.realtime.streams import close_slow_consumer, connection_token
from deskql.resolvers.common import mutate, page
from deskql.schema.errors import errors_of
from deskql.schema.ids import decode_id, input_id
from deskql.services import throttle
from deskql.services.errors import ClientError, ValidationFailed
from deskql.services.helpcenter import access, links, options, ratings
from deskql.services.helpcenter import articles as articles_service
from deskql.services.helpcenter import tickets as svc

if TYPE_CHECKING:
    from deskql.schema.help.root import (
        EmailSentPayload,
        HelpCenterInfo,
        LinkUseInput,
        PasswordResetRequestInput,
        SignInInput,
        SignInPayload,
        SignOutPayload,
        SignUpInput,
        TicketCloseInput,
        TicketCreateInput,
        TicketPayload,
        TicketRateInput,
        TicketRatePayload,
        TicketReplyInput,
    )
    from deskql.schema.help.types import HelpTicket, TicketUpdate, Viewer


class NotFound(ClientError):
    """Not there, or not yours: the same answer."""

    code = "NOT_FOUND"


def _root() -> Any:
    from deskql.schema.help import root

    return root


def _types() -> Any:
    from deskql.schema.help import types

    return types


async def _viewer(contact_id: int) -> Viewer:
    contact = await models.Contact.get(id=contact_id).select_related("account", "login")
    t = _types()
    from deskql.schema.ids import to_global_id

    return t.Viewer(
        id=strawberry.ID(to_global_id("Contact", contact.id)),
        name=contact.name,
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        account_name=contact.account.name if contact.account else None,
        is_account_manager=bool(contact.login.is_account_manager),
    )


def _ticket(info: strawberry.Info, row: models.Ticket) -> HelpTicket:
    return _types().HelpTicket.from_row(row, info.context.require_contact().contact_id)


async def help_center(info: strawberry.Info) -> HelpCenterInfo:
    """`helpCenter`."""
    row = await options.get()
    return _root().HelpCenterInfo(name=info.context.settings.org_name, self_signup=row.self_signup)


async def viewer(info: strawberry.Info) -> Viewer:
    """`viewer`."""
    return await _viewer(info.context.require_contact().contact_id)


async def tickets(info: strawberry.Info, *, first: int | None, after: str | None) -> Any:
    """`tickets`."""
    contact = info.context.require_contact()
    query = svc.visible_tickets(contact).order_by("-id")
    return await page(info, query, first=first, after=after, convert=lambda r: _ticket(info, r))


async def ticket(info: strawberry.Info, *, id: str | None, number: int | None) -> HelpTicket:
    """`ticket(id|number)`."""
    contact = info.context.require_contact()
    if (id is None) == (number is None):
        raise ClientError("give either id or number")
    pk = decode_id(id, "Ticket") if id is not None else None
    row = await svc.get_ticket(contact, ticket_id=pk, number=number)
    if row is None:
        raise NotFound("no such ticket")
    return _ticket(info, row)


async def sign_in(info: strawberry.Info, input: SignInInput) -> SignInPayload:
    """`signIn`."""

    request = info.context.request
    client = getattr(request, "client", None)
    try:
        contact, token = await access.login(
            info.context.settings,
            email=input.email,
            password=input.password,
            client_address=client.host if client is not None else None,
        )
    except throttle.RateLimited as exc:
        return _root().SignInPayload(errors=errors_of(exc), retry_after_seconds=exc.retry_after)
    except ValidationFailed as exc:
        return _root().SignInPayload(errors=errors_of(exc))
    return _root().SignInPayload(errors=[], token=token, viewer=await _viewer(contact.id))


async def sign_out(info: strawberry.Info) -> SignOutPayload:
    """`signOut`."""
    contact = info.context.require_contact()
    await access.logout(contact)
    return _root().SignOutPayload(errors=[], signed_out=True)


SENT = "If the address can use the help center, an email with a link is on its way."


async def sign_up(info: strawberry.Info, input: SignUpInput) -> EmailSentPayload:
    """`signUp`."""

    async def run() -> dict[str, Any]:
        await links.sign_up(
            info.context.settings, email=input.email, name=input.name, password=input.password
        )
        return {"message": SENT}

    return await mutate(_root().EmailSentPayload, run)


async def password_reset_request(
    info: strawberry.Info, input: PasswordResetRequestInput
) -> EmailSentPayload:
    """`passwordResetRequest`."""

    async def run() -> dict[str, Any]:
        await links.request_reset(info.context.settings, email=input.email)
        return {"message": SENT}

    return await mutate(_root().EmailSentPayload, run)


async def link_use(info: strawberry.Info, input: LinkUseInput) -> SignInPayload:
    """`linkUse`."""

    async def run() -> dict[str, Any]:
        contact, token = await links.use_link(
            info.context.settings, token=input.token, password=input.password
        )
        return {"token": token, "viewer": await _viewer(contact.id)}

    return await mutate(_root().SignInPayload, run)


def _files(info: strawberry.Info) -> dict[str, Any]:
    settings = info.context.settings
    return {"root": settings.attachments_dir, "max_bytes": settings.attachment_max_bytes}


async def ticket_create(info: strawberry.Info, input: TicketCreateInput) -> TicketPayload:
    """`ticketCreate`."""
    contact = info.context.require_contact()

    async def run() -> dict[str, Any]:
        row = await svc.create_ticket(
            contact,
            subject=input.subject,
            description=input.description,
            files=list(input.attachments or []),
            **_files(info),
        )
        return {"ticket": _ticket(info, row)}

    return await mutate(_root().TicketPayload, run)


async def ticket_reply(info: strawberry.Info, input: TicketReplyInput) -> TicketPayload:
    """`ticketReply`."""
    contact = info.context.require_contact()

    async def run() -> dict[str, Any]:
        pk = input_id(input.ticket_id, "Ticket", "ticketId")
        row, _ = await svc.reply(
            contact,
            ticket_id=pk,
            body=input.body,
            files=list(input.attachments or []),
            **_files(info),
        )
        return {"ticket": _ticket(info, row)}

    return await mutate(_root().TicketPayload, run)


async def ticket_close(info: strawberry.Info, input: TicketCloseInput) -> TicketPayload:
    """`ticketClose`."""
    contact = info.context.require_contact()

    async def run() -> dict[str, Any]:
        pk = input_id(input.ticket_id, "Ticket", "ticketId")
        return {"ticket": _ticket(info, await svc.close(contact, ticket_id=pk))}

    return await mutate(_root().TicketPayload, run)


async def ticket_rate(info: strawberry.Info, input: TicketRateInput) -> TicketRatePayload:
    """`ticketRate`."""
    contact = info.context.require_contact()

    async def run() -> dict[str, Any]:
        pk = input_id(input.ticket_id, "Ticket", "ticketId")
        row = await ratings.rate(contact, ticket_id=pk, value=input.value, comment=input.comment)
        ticket_row = await models.Ticket.get(id=pk)
        return {
            "ticket": _ticket(info, ticket_row),
            "rating": _types().Rating.from_row(row),
        }

    return await mutate(_root().TicketRatePayload, run)


async def ticket_updates(
    info: strawberry.Info, *, ticket_id: str
) -> AsyncGenerator[TicketUpdate, None]:
    """`ticketUpdates`: public changes only, access re-checked for every event."""
    t = _types()
    info.context.require_contact()
    token = connection_token(info.context.connection_params, info.context.request)
    if token is None:
        raise ClientError("no token on this connection")
    request = info.context.request
    hub = getattr(getattr(getattr(request, "app", None), "state", None), "hub", None)
    if hub is None:
        raise ClientError("live updates are not running on this server")

    def drop() -> None:
        asyncio.get_running_loop().create_task(
            close_slow_consumer(request, SLOW_CONSUMER_CODE, SLOW_CONSUMER_REASON)
        )

    try:
        pk = decode_id(ticket_id, "Ticket")
        stream = help_stream.ticket_stream(hub, token=token, ticket_id=pk, on_drop=drop)
        async with aclosing(stream):
            async for actor, change in stream:
                info.context.fresh(actor)
                yield t.TicketUpdate(
                    kind=t.TicketUpdateKind[change.kind],
                    ticket=t.HelpTicket.from_row(change.ticket, actor.contact_id),
                    message=t.Message.build(change.message) if change.message else None,
                )
    except ClientError as exc:
        raise GraphQLError(str(exc), extensions={"code": exc.code}, original_error=exc) from exc


def _signed_in(info: strawberry.Info) -> bool:
    # A token that does not work is an error, not a quiet fall-back to the public articles.
    if info.context.auth_error is not None:
        info.context.require_contact()
    return info.context.contact is not None


async def articles(
    info: strawberry.Info, *, query: str | None, first: int | None, after: str | None
) -> Any:
    """`articles`."""
    qs = articles_service.list_articles(_signed_in(info), query)
    return await page(info, qs, first=first, after=after, convert=_types().HelpArticle.from_row)


async def article(info: strawberry.Info, *, permalink: str) -> Any:
    """`article(permalink)`."""
    row = await articles_service.get_article(_signed_in(info), permalink)
    return _types().HelpArticle.from_row(row) if row is not None else None
