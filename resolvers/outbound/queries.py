"""Outbound email reads: from addresses, reply senders, outgoing emails, templates, drafts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from deskql.resolvers.common import page
from deskql.schema.connections import Connection
from deskql.schema.context import actor_of
from deskql.schema.ids import decode_id
from deskql.services import drafts as drafts_svc
from deskql.services import from_addresses as addresses
from deskql.services import outbox
from deskql.services import templates as templates_svc

if TYPE_CHECKING:
    from deskql.schema.outbound import (
        Draft,
        EmailTemplate,
        FromAddress,
        OutgoingEmail,
        ReplySender,
        TemplateFolder,
        TicketTemplate,
    )


def to_from_address(info: strawberry.Info, row: Any) -> FromAddress:
    """The GraphQL FromAddress of a row, with this server's SPF record."""
    from deskql.schema.outbound import FromAddress

    return FromAddress.from_row(row, addresses.spf_record(info.context.settings))


# -- queries ---------------------------------------------------------------------------------


async def from_addresses(
    info: strawberry.Info, *, department_id: str | None, first: int | None, after: str | None
) -> Connection[FromAddress]:
    """`fromAddresses(departmentId)`."""
    pk = decode_id(department_id, "Department") if department_id is not None else None
    qs = addresses.list_from_addresses(actor_of(info), department_id=pk)
    return await page(
        info, qs, first=first, after=after, convert=lambda row: to_from_address(info, row)
    )


async def reply_from_choice(info: strawberry.Info, *, ticket_id: str) -> list[ReplySender]:
    """`replyFromChoice(ticketId)`: the reply editor's From choice; empty for an unseen ticket."""
    from deskql.schema.outbound import ReplySender
    from deskql.services.tickets import get_ticket

    actor = actor_of(info)
    ticket = await get_ticket(actor, ticket_id=decode_id(ticket_id, "Ticket"))
    if ticket is None:
        return []
    rows = await addresses.reply_senders(
        actor,
        settings=info.context.settings,
        department_id=ticket.department_id,  # type: ignore[attr-defined]
    )
    return [
        ReplySender(
            email=row.email,
            display_name=row.display_name,
            is_default=row.from_address is None,
            from_address=to_from_address(info, row.from_address) if row.from_address else None,
        )
        for row in rows
    ]


async def outgoing_email(info: strawberry.Info, *, thread_id: str) -> OutgoingEmail | None:
    """`outgoingEmail(threadId)`: a thread's delivery status."""
    from deskql.schema.outbound import OutgoingEmail

    row = await outbox.get_for_thread(actor_of(info), thread_id=decode_id(thread_id, "Thread"))
    return OutgoingEmail.from_row(row) if row else None


async def email_templates(
    info: strawberry.Info, *, first: int | None, after: str | None
) -> Connection[EmailTemplate]:
    """`emailTemplates`."""
    from deskql.schema.outbound import EmailTemplate

    qs = templates_svc.visible_templates(actor_of(info)).order_by("name", "id")
    return await page(info, qs, first=first, after=after, convert=EmailTemplate.from_row)


async def template_folders(
    info: strawberry.Info, *, first: int | None, after: str | None
) -> Connection[TemplateFolder]:
    """`templateFolders`."""
    from deskql.schema.outbound import TemplateFolder

    qs = templates_svc.visible_folders(actor_of(info)).order_by("name", "id")
    return await page(info, qs, first=first, after=after, convert=TemplateFolder.from_row)


async def ticket_templates(
    info: strawberry.Info, *, first: int | None, after: str | None
) -> Connection[TicketTemplate]:
    """`ticketTemplates`."""
    from deskql.schema.outbound import TicketTemplate

    qs = templates_svc.visible_ticket_templates(actor_of(info)).order_by("name", "id")
    return await page(info, qs, first=first, after=after, convert=TicketTemplate.from_row)


async def drafts(
    info: strawberry.Info, *, ticket_id: str, first: int | None, after: str | None
) -> Connection[Draft]:
    """`drafts(ticketId)`."""
    from deskql.schema.outbound import Draft

    qs = drafts_svc.visible_drafts(actor_of(info), decode_id(ticket_id, "Ticket"))
    return await page(info, qs, first=first, after=after, convert=Draft.from_row)
