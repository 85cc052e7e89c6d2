"""OutboundMutations and their payloads: replies, forwards, addresses, templates, drafts."""

from __future__ import annotations

import strawberry

from deskql.resolvers import outbound as r
from deskql.schema.errors import MutationError
from deskql.schema.outbound.inputs import (
    DraftIdInput,
    DraftSaveInput,
    EmailTemplateIdInput,
    EmailTemplateSaveInput,
    FromAddressCreateInput,
    FromAddressIdInput,
    FromAddressUpdateInput,
    OutgoingEmailResendInput,
    TagFollowUpInput,
    TemplateFolderCreateInput,
    TicketForwardInput,
    TicketReplyInput,
    TicketTemplateCreateInput,
)
from deskql.schema.outbound.types import (
    Draft,
    EmailTemplate,
    FromAddress,
    OutgoingEmail,
    TemplateFolder,
    TicketTemplate,
)
from deskql.schema.permissions import IsAdmin, IsAuthenticated
from deskql.schema.types import Thread

# -- payloads --------------------------------------------------------------------------------


@strawberry.type(description="Result of ticketReply.")
class TicketReplyPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    thread: Thread | None = strawberry.field(default=None, description="The outgoing thread.")
    outgoing_email: OutgoingEmail | None = strawberry.field(
        default=None, description="Its email, queued."
    )


@strawberry.type(description="Result of ticketForward.")
class TicketForwardPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    thread: Thread | None = strawberry.field(default=None, description="The outgoing thread.")
    outgoing_email: OutgoingEmail | None = strawberry.field(
        default=None, description="Its email, queued."
    )


@strawberry.type(description="Result of outgoingEmailResend.")
class OutgoingEmailResendPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    outgoing_email: OutgoingEmail | None = strawberry.field(
        default=None, description="The email, queued again."
    )


@strawberry.type(description="Result of a From address mutation.")
class FromAddressPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    from_address: FromAddress | None = strawberry.field(
        default=None, description="The address as changed (as it was, for a delete)."
    )


@strawberry.type(description="Result of templateFolderCreate.")
class TemplateFolderPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    folder: TemplateFolder | None = strawberry.field(default=None, description="The folder.")


@strawberry.type(description="Result of an email template mutation.")
class EmailTemplatePayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    email_template: EmailTemplate | None = strawberry.field(
        default=None, description="The template (as it was, for a delete)."
    )


@strawberry.type(description="Result of ticketTemplateCreate.")
class TicketTemplatePayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    ticket_template: TicketTemplate | None = strawberry.field(
        default=None, description="The ticket template."
    )


@strawberry.type(description="Result of tagFollowUp.")
class TagFollowUpPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    ticket_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="The tickets answered."
    )


@strawberry.type(description="Result of draftSave or draftDiscard.")
class DraftPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    draft: Draft | None = strawberry.field(
        default=None, description="The draft with its saved time (as it was, for a discard)."
    )


@strawberry.type(description="Result of draftSend.")
class DraftSendPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    thread: Thread | None = strawberry.field(default=None, description="The outgoing thread.")
    outgoing_email: OutgoingEmail | None = strawberry.field(
        default=None, description="Its email, queued."
    )


@strawberry.type
class OutboundMutations:
    @strawberry.mutation(
        description="Reply by email: an outgoing thread and its queued email, committed together.",
        permission_classes=[IsAuthenticated],
    )
    async def ticket_reply(
        self, info: strawberry.Info, input: TicketReplyInput
    ) -> TicketReplyPayload:
        return await r.ticket_reply(info, input)

    @strawberry.mutation(
        description="Forward a ticket's message by email.", permission_classes=[IsAuthenticated]
    )
    async def ticket_forward(
        self, info: strawberry.Info, input: TicketForwardInput
    ) -> TicketForwardPayload:
        return await r.ticket_forward(info, input)

    @strawberry.mutation(
        description="Queue a FAILED email again (same Message-ID).",
        permission_classes=[IsAuthenticated],
    )
    async def outgoing_email_resend(
        self, info: strawberry.Info, input: OutgoingEmailResendInput
    ) -> OutgoingEmailResendPayload:
        return await r.outgoing_email_resend(info, input)

    @strawberry.mutation(
        description="Add a From address to a department (EM-6..EM-8).",
        permission_classes=[IsAdmin],
    )
    async def from_address_create(
        self, info: strawberry.Info, input: FromAddressCreateInput
    ) -> FromAddressPayload:
        return await r.from_address_create(info, input)

    @strawberry.mutation(
        description="Rename, disable/enable (EM-9) or change the own SMTP of a From address.",
        permission_classes=[IsAdmin],
    )
    async def from_address_update(
        self, info: strawberry.Info, input: FromAddressUpdateInput
    ) -> FromAddressPayload:
        return await r.from_address_update(info, input)

    @strawberry.mutation(
        description="Send a new verification link; the old one stops working.",
        permission_classes=[IsAdmin],
    )
    async def from_address_resend_verification(
        self, info: strawberry.Info, input: FromAddressIdInput
    ) -> FromAddressPayload:
        return await r.from_address_resend_verification(info, input)

    @strawberry.mutation(description="Delete a From address (EM-9).", permission_classes=[IsAdmin])
    async def from_address_delete(
        self, info: strawberry.Info, input: FromAddressIdInput
    ) -> FromAddressPayload:
        return await r.from_address_delete(info, input)

    @strawberry.mutation(
        description="Create an email template folder.", permission_classes=[IsAuthenticated]
    )
    async def template_folder_create(
        self, info: strawberry.Info, input: TemplateFolderCreateInput
    ) -> TemplateFolderPayload:
        return await r.template_folder_create(info, input)

    @strawberry.mutation(
        description="Create or change an email template; unknown placeholders are refused.",
        permission_classes=[IsAuthenticated],
    )
    async def email_template_save(
        self, info: strawberry.Info, input: EmailTemplateSaveInput
    ) -> EmailTemplatePayload:
        return await r.email_template_save(info, input)

    @strawberry.mutation(
        description="Delete an email template.", permission_classes=[IsAuthenticated]
    )
    async def email_template_delete(
        self, info: strawberry.Info, input: EmailTemplateIdInput
    ) -> EmailTemplatePayload:
        return await r.email_template_delete(info, input)

    @strawberry.mutation(
        description="Create a ticket template (prefills ticketCreate).",
        permission_classes=[IsAuthenticated],
    )
    async def ticket_template_create(
        self, info: strawberry.Info, input: TicketTemplateCreateInput
    ) -> TicketTemplatePayload:
        return await r.ticket_template_create(info, input)

    @strawberry.mutation(
        description="Reply with a template to every ticket with a tag (TIC-6).",
        permission_classes=[IsAuthenticated],
    )
    async def tag_follow_up(
        self, info: strawberry.Info, input: TagFollowUpInput
    ) -> TagFollowUpPayload:
        return await r.tag_follow_up(info, input)

    @strawberry.mutation(
        description="Create or update a draft; idempotent for autosave.",
        permission_classes=[IsAuthenticated],
    )
    async def draft_save(self, info: strawberry.Info, input: DraftSaveInput) -> DraftPayload:
        return await r.draft_save(info, input)

    @strawberry.mutation(
        description="Send a draft as a reply; the draft is removed.",
        permission_classes=[IsAuthenticated],
    )
    async def draft_send(self, info: strawberry.Info, input: DraftIdInput) -> DraftSendPayload:
        return await r.draft_send(info, input)

    @strawberry.mutation(description="Discard a draft.", permission_classes=[IsAuthenticated])
    async def draft_discard(self, info: strawberry.Info, input: DraftIdInput) -> DraftPayload:
        return await r.draft_discard(info, input)
