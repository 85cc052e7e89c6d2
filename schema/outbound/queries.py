"""OutboundQueries: From addresses, reply senders, outgoing emails, templates, drafts."""

from __future__ import annotations

from typing import Annotated

import strawberry

from deskql.resolvers import outbound as r
from deskql.schema.connections import Connection
from deskql.schema.outbound.types import (
    Draft,
    EmailTemplate,
    FromAddress,
    OutgoingEmail,
    ReplySender,
    TemplateFolder,
    TicketTemplate,
)
from deskql.schema.permissions import IsAuthenticated

FirstArg = Annotated[
    int | None, strawberry.argument(description="Page size, 0 to 100 (default 20).")
]


AfterArg = Annotated[
    str | None, strawberry.argument(description="Cursor of the item after which the page starts.")
]


# -- fields ----------------------------------------------------------------------------------


@strawberry.type
class OutboundQueries:
    @strawberry.field(
        description="From addresses: administrators see all; agents the usable ones of their "
        "departments (the reply editor's choice).",
        permission_classes=[IsAuthenticated],
    )
    async def from_addresses(
        self,
        info: strawberry.Info,
        department_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this department's.")
        ] = None,
        first: FirstArg = None,
        after: AfterArg = None,
    ) -> Connection[FromAddress]:
        return await r.from_addresses(info, department_id=department_id, first=first, after=after)

    @strawberry.field(
        description="The reply editor's From choice for a ticket: the department's default "
        "support address unless it is disabled (EM-9), then its verified or own-SMTP From "
        "addresses that are not disabled. Empty for a ticket you cannot see.",
        permission_classes=[IsAuthenticated],
    )
    async def reply_from_choice(
        self,
        info: strawberry.Info,
        ticket_id: Annotated[strawberry.ID, strawberry.argument(description="The ticket.")],
    ) -> list[ReplySender]:
        return await r.reply_from_choice(info, ticket_id=ticket_id)

    @strawberry.field(
        description="The email of an outgoing thread: delivery status, attempts, last error.",
        permission_classes=[IsAuthenticated],
    )
    async def outgoing_email(
        self,
        info: strawberry.Info,
        thread_id: Annotated[strawberry.ID, strawberry.argument(description="The thread.")],
    ) -> OutgoingEmail | None:
        return await r.outgoing_email(info, thread_id=thread_id)

    @strawberry.field(
        description="My email templates and the shared ones of my departments.",
        permission_classes=[IsAuthenticated],
    )
    async def email_templates(
        self, info: strawberry.Info, first: FirstArg = None, after: AfterArg = None
    ) -> Connection[EmailTemplate]:
        return await r.email_templates(info, first=first, after=after)

    @strawberry.field(
        description="My template folders and the shared ones of my departments.",
        permission_classes=[IsAuthenticated],
    )
    async def template_folders(
        self, info: strawberry.Info, first: FirstArg = None, after: AfterArg = None
    ) -> Connection[TemplateFolder]:
        return await r.template_folders(info, first=first, after=after)

    @strawberry.field(
        description="Ticket templates of my departments.", permission_classes=[IsAuthenticated]
    )
    async def ticket_templates(
        self, info: strawberry.Info, first: FirstArg = None, after: AfterArg = None
    ) -> Connection[TicketTemplate]:
        return await r.ticket_templates(info, first=first, after=after)

    @strawberry.field(
        description="Drafts of a ticket: mine and the shared ones, last saved first.",
        permission_classes=[IsAuthenticated],
    )
    async def drafts(
        self,
        info: strawberry.Info,
        ticket_id: Annotated[strawberry.ID, strawberry.argument(description="The ticket.")],
        first: FirstArg = None,
        after: AfterArg = None,
    ) -> Connection[Draft]:
        return await r.drafts(info, ticket_id=ticket_id, first=first, after=after)
