"""Outbound email queries and mutations: replies and forwards (ticketReply, ticketForward),
delivery status and re-send, From addresses (EM-6..EM-9), email and ticket templates (TIC-10),
the tag follow-up (TIC-6) and drafts (TIC-8)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload

from deskql import models
from deskql.models.outbound import OutboxStatus, SmtpSecurity
from deskql.resolvers import outbound as r
from deskql.schema.connections import Connection
from deskql.schema.errors import MutationError
from deskql.schema.ids import to_global_id
from deskql.schema.permissions import IsAdmin, IsAuthenticated
from deskql.schema.types import Department, Node, Thread

strawberry.enum(
    OutboxStatus,
    description="QUEUED: waiting (first try or a retry after a temporary failure); SENDING: "
    "being handed to the SMTP server; SENT: accepted by it; FAILED: refused for good, out of "
    "retries or interrupted (see lastError); it can be re-sent.",
)
strawberry.enum(
    SmtpSecurity,
    description="PLAIN: no encryption; SSL: TLS from the first byte (port 465); TLS: STARTTLS.",
)

FirstArg = Annotated[
    int | None, strawberry.argument(description="Page size, 0 to 100 (default 20).")
]
AfterArg = Annotated[
    str | None, strawberry.argument(description="Cursor of the item after which the page starts.")
]


@strawberry.type(description="An address a department may reply from (EM-6, EM-7).")
class FromAddress(Node):
    email: str = strawberry.field(description="The address.")
    display_name: str = strawberry.field(description="Name shown when the agent's is not.")
    is_verified: bool = strawberry.field(
        description="Confirmed through the link emailed to it; needed unless it uses own SMTP."
    )
    is_disabled: bool = strawberry.field(description="Hidden from the reply editor (EM-9).")
    uses_own_smtp: bool = strawberry.field(
        description="Sent through the company's own SMTP server (EM-7)."
    )
    smtp_host: str = strawberry.field(description="Own SMTP server name; empty: the relay.")
    smtp_port: int = strawberry.field(description="Own SMTP port (25, 465 or 587); 0: none.")
    smtp_security: SmtpSecurity = strawberry.field(description="Own SMTP connection security.")
    smtp_username: str = strawberry.field(
        description="Own SMTP user name. The password is never returned."
    )
    spf_record: str | None = strawberry.field(
        description="The SPF record to publish for its domain; null with own SMTP."
    )
    created_at: datetime = strawberry.field(description="When it was added.")
    department_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.FromAddress, spf: str) -> FromAddress:
        """Build from a database row."""
        own = bool(row.smtp_host)
        return cls(
            id=strawberry.ID(to_global_id("FromAddress", row.id)),
            email=row.email,
            display_name=row.display_name,
            is_verified=row.is_verified,
            is_disabled=row.is_disabled,
            uses_own_smtp=own,
            smtp_host=row.smtp_host,
            smtp_port=row.smtp_port,
            smtp_security=row.smtp_security,
            smtp_username=row.smtp_username,
            spf_record=None if own else spf,
            created_at=row.created_at,
            department_pk=row.department_id,  # type: ignore[attr-defined]
        )

    @strawberry.field(description="The department that replies from it.")
    async def department(self, info: strawberry.Info) -> Department | None:
        return await info.context.loaders.department.load(self.department_pk)


@strawberry.type(description="The email of an outgoing thread and where its delivery stands.")
class OutgoingEmail(Node):
    message_id: str = strawberry.field(description="Its Message-ID, the same on every attempt.")
    status: OutboxStatus = strawberry.field(description="Delivery status.")
    attempts: int = strawberry.field(description="How many times sending was tried.")
    next_attempt_at: datetime | None = strawberry.field(
        description="When the next try is due (QUEUED only)."
    )
    last_error: str = strawberry.field(
        description="The last failure, or the recipients refused on success."
    )
    sent_at: datetime | None = strawberry.field(description="When the SMTP server accepted it.")
    mail_from: str = strawberry.field(description="Envelope sender.")
    to: str = strawberry.field(description="To recipients.")
    cc: str = strawberry.field(description="Cc recipients, with the auto-CC (EM-10).")
    bcc: str = strawberry.field(description="Bcc recipients (envelope only).")
    created_at: datetime = strawberry.field(description="When it was queued.")

    @classmethod
    def from_row(cls, row: models.OutboxMessage) -> OutgoingEmail:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("OutgoingEmail", row.id)),
            message_id=row.message_id,
            status=row.status,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at if row.status is OutboxStatus.QUEUED else None,
            last_error=row.last_error,
            sent_at=row.sent_at,
            mail_from=row.mail_from,
            to=row.to_addresses,
            cc=row.cc_addresses,
            bcc=row.bcc_addresses,
            created_at=row.created_at,
        )


@strawberry.type(description="A folder of email templates, personal or shared.")
class TemplateFolder(Node):
    name: str = strawberry.field(description="Folder name.")
    is_shared: bool = strawberry.field(description="Shared with a department; else personal.")

    @classmethod
    def from_row(cls, row: models.TemplateFolder) -> TemplateFolder:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("TemplateFolder", row.id)),
            name=row.name,
            is_shared=row.owner_id is None,  # type: ignore[attr-defined]
        )


@strawberry.type(
    description="An email template (TIC-10). Placeholders such as {{ticket.number}} come from "
    "a fixed list: ticket.number/subject/status/priority/due_at, contact.first_name/last_name/"
    "name/email, account.name, agent.first_name/last_name/name/email, department.name."
)
class EmailTemplate(Node):
    name: str = strawberry.field(description="Name.")
    subject: str = strawberry.field(description="Subject, with placeholders.")
    body_text: str = strawberry.field(description="Plain-text body, with placeholders.")
    body_html: str = strawberry.field(description="HTML body, with placeholders.")
    is_shared: bool = strawberry.field(description="Shared with a department; else personal.")
    folder_id: strawberry.ID | None = strawberry.field(description="Its folder, if any.")
    from_address_id: strawberry.ID | None = strawberry.field(
        description="The From address replies with it use, if set."
    )
    updated_at: datetime = strawberry.field(description="Last change.")

    @classmethod
    def from_row(cls, row: models.EmailTemplate) -> EmailTemplate:
        """Build from a database row."""
        folder = row.folder_id  # type: ignore[attr-defined]
        sender = row.from_address_id  # type: ignore[attr-defined]
        return cls(
            id=strawberry.ID(to_global_id("EmailTemplate", row.id)),
            name=row.name,
            subject=row.subject,
            body_text=row.body_text,
            body_html=row.body_html,
            is_shared=row.owner_id is None,  # type: ignore[attr-defined]
            folder_id=strawberry.ID(to_global_id("TemplateFolder", folder)) if folder else None,
            from_address_id=(
                strawberry.ID(to_global_id("FromAddress", sender)) if sender else None
            ),
            updated_at=row.updated_at,
        )


@strawberry.type(description="Values that prefill a new ticket (TIC-10).")
class TicketTemplate(Node):
    name: str = strawberry.field(description="Name.")
    subject: str = strawberry.field(description="Subject for ticketCreate.")
    description: str = strawberry.field(description="Description for ticketCreate.")
    priority: int | None = strawberry.field(description="Priority (1 low to 4 urgent), if set.")
    department_id: strawberry.ID = strawberry.field(description="Department for ticketCreate.")

    @classmethod
    def from_row(cls, row: models.TicketTemplate) -> TicketTemplate:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("TicketTemplate", row.id)),
            name=row.name,
            subject=row.subject,
            description=row.description,
            priority=row.priority,
            department_id=strawberry.ID(to_global_id("Department", row.department_id)),  # type: ignore[attr-defined]
        )


@strawberry.type(description="An unsent reply (TIC-8).")
class Draft(Node):
    ticket_id: strawberry.ID = strawberry.field(description="The ticket.")
    author_id: strawberry.ID = strawberry.field(description="The agent who wrote it.")
    client_key: str = strawberry.field(description="The key autosave uses, if any.")
    is_shared: bool = strawberry.field(description="Visible to the ticket's department.")
    to: list[str] = strawberry.field(description="To recipients.")
    cc: list[str] = strawberry.field(description="Cc recipients.")
    bcc: list[str] = strawberry.field(description="Bcc recipients.")
    subject: str = strawberry.field(description="Subject; empty: Re: the ticket's subject.")
    body_text: str = strawberry.field(description="Plain-text body.")
    body_html: str = strawberry.field(description="HTML body.")
    saved_at: datetime = strawberry.field(description='Last save ("saved @3:17 PM").')

    @classmethod
    def from_row(cls, row: models.Draft) -> Draft:
        """Build from a database row."""

        def split(text: str) -> list[str]:
            return [a.strip() for a in text.split(",") if a.strip()]

        return cls(
            id=strawberry.ID(to_global_id("Draft", row.id)),
            ticket_id=strawberry.ID(to_global_id("Ticket", row.ticket_id)),  # type: ignore[attr-defined]
            author_id=strawberry.ID(to_global_id("Agent", row.author_id)),  # type: ignore[attr-defined]
            client_key=row.client_key,
            is_shared=row.is_shared,
            to=split(row.to_addresses),
            cc=split(row.cc_addresses),
            bcc=split(row.bcc_addresses),
            subject=row.subject,
            body_text=row.body_text,
            body_html=row.body_html,
            saved_at=row.saved_at,
        )


# -- inputs ----------------------------------------------------------------------------------


@strawberry.input(
    description="An email reply on a ticket, with new files (multipart request) and existing "
    "attachments of the ticket."
)
class TicketReplyInput:
    ticket_id: strawberry.ID = strawberry.field(description="The ticket.")
    thread_id: strawberry.ID | None = strawberry.field(
        default=None, description="The message answered; null: the latest one."
    )
    to: list[str] | None = strawberry.field(
        default=None, description="To recipients; null: the ticket's contact."
    )
    cc: list[str] = strawberry.field(default_factory=list, description="Cc recipients.")
    bcc: list[str] = strawberry.field(default_factory=list, description="Bcc recipients.")
    subject: str | None = strawberry.field(
        default=None, description="Subject; null: Re: the ticket's subject (or the template's)."
    )
    body_text: str = strawberry.field(default="", description="Plain-text body.")
    body_html: str = strawberry.field(default="", description="HTML body.")
    attachment_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Attachments of the ticket to send."
    )
    files: list[Upload] = strawberry.field(
        default_factory=list,
        description="New files (multipart request), stored on the ticket with the thread.",
    )
    from_address_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A usable From address of the ticket's department; null: the support address.",
    )
    template_id: strawberry.ID | None = strawberry.field(
        default=None, description="An email template filling what is not given."
    )


@strawberry.input(description="Forward a ticket's message by email.")
class TicketForwardInput:
    ticket_id: strawberry.ID = strawberry.field(description="The ticket.")
    thread_id: strawberry.ID | None = strawberry.field(
        default=None, description="The message to forward; null: the latest one."
    )
    to: list[str] = strawberry.field(description="To recipients.")
    cc: list[str] = strawberry.field(default_factory=list, description="Cc recipients.")
    bcc: list[str] = strawberry.field(default_factory=list, description="Bcc recipients.")
    subject: str | None = strawberry.field(
        default=None, description="Subject; null: Fwd: the ticket's subject."
    )
    body_text: str = strawberry.field(default="", description="Note above the forwarded text.")
    body_html: str = strawberry.field(default="", description="HTML body.")
    attachment_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Attachments of the ticket to send."
    )
    files: list[Upload] = strawberry.field(
        default_factory=list,
        description="New files (multipart request), stored on the ticket with the thread.",
    )
    from_address_id: strawberry.ID | None = strawberry.field(
        default=None, description="A usable From address; null: the support address."
    )


@strawberry.input(description="A FAILED outgoing email to send again.")
class OutgoingEmailResendInput:
    id: strawberry.ID = strawberry.field(description="The outgoing email.")


@strawberry.input(description="Own SMTP server settings of a From address (EM-7).")
class SmtpSettingsInput:
    host: str = strawberry.field(description="Server name.")
    port: int = strawberry.field(description="25, 465 or 587.")
    security: SmtpSecurity = strawberry.field(description="PLAIN, SSL or TLS (STARTTLS).")
    username: str = strawberry.field(description="User name.")
    password: str = strawberry.field(description="Password; stored encrypted, never returned.")


@strawberry.input(description="A new From address; verified by email unless it has own SMTP.")
class FromAddressCreateInput:
    department_id: strawberry.ID = strawberry.field(description="The department.")
    email: str = strawberry.field(description="The address.")
    display_name: str = strawberry.field(default="", description="Name shown.")
    smtp: SmtpSettingsInput | None = strawberry.field(
        default=None, description="Send through this server instead of the relay (EM-7)."
    )


@strawberry.input(description="Changes to a From address; only the fields you set change.")
class FromAddressUpdateInput:
    id: strawberry.ID = strawberry.field(description="The From address.")
    display_name: str | None = strawberry.field(default=strawberry.UNSET, description="Name.")
    is_disabled: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Disable (hide) or enable it (EM-9)."
    )
    smtp: SmtpSettingsInput | None = strawberry.field(
        default=strawberry.UNSET, description="New own SMTP settings."
    )


@strawberry.input(description="A From address, by id.")
class FromAddressIdInput:
    id: strawberry.ID = strawberry.field(description="The From address.")


@strawberry.input(description="A new email template folder.")
class TemplateFolderCreateInput:
    name: str = strawberry.field(description="Name.")
    department_id: strawberry.ID | None = strawberry.field(
        default=None, description="Share with this department; null: personal."
    )


@strawberry.input(description="An email template to create (no id) or change (id).")
class EmailTemplateSaveInput:
    id: strawberry.ID | None = strawberry.field(default=None, description="To change one.")
    name: str = strawberry.field(description="Name.")
    subject: str = strawberry.field(default="", description="Subject, with placeholders.")
    body_text: str = strawberry.field(default="", description="Plain-text body.")
    body_html: str = strawberry.field(default="", description="HTML body.")
    folder_id: strawberry.ID | None = strawberry.field(default=None, description="Folder.")
    department_id: strawberry.ID | None = strawberry.field(
        default=None, description="Share with this department; null: personal."
    )
    from_address_id: strawberry.ID | None = strawberry.field(
        default=None, description="From address replies with it use."
    )


@strawberry.input(description="An email template, by id.")
class EmailTemplateIdInput:
    id: strawberry.ID = strawberry.field(description="The template.")


@strawberry.input(description="A new ticket template of a department.")
class TicketTemplateCreateInput:
    department_id: strawberry.ID = strawberry.field(description="The department.")
    name: str = strawberry.field(description="Name.")
    subject: str = strawberry.field(default="", description="Subject.")
    description: str = strawberry.field(default="", description="Description.")
    priority: int | None = strawberry.field(default=None, description="Priority 1 to 4.")


@strawberry.input(description="Reply with a template to every ticket with a tag (TIC-6).")
class TagFollowUpInput:
    tag: str = strawberry.field(description="The tag.")
    template_id: strawberry.ID = strawberry.field(description="The email template.")


@strawberry.input(
    description="Save a draft: a new one, or the one named by id or by clientKey on the "
    "ticket (so autosave every 2 minutes updates one draft)."
)
class DraftSaveInput:
    ticket_id: strawberry.ID = strawberry.field(description="The ticket.")
    id: strawberry.ID | None = strawberry.field(default=None, description="The draft to update.")
    client_key: str = strawberry.field(
        default="", description="A key of the client's editor; the same key updates one draft."
    )
    is_shared: bool = strawberry.field(default=False, description="Visible to the department.")
    to: list[str] = strawberry.field(default_factory=list, description="To recipients.")
    cc: list[str] = strawberry.field(default_factory=list, description="Cc recipients.")
    bcc: list[str] = strawberry.field(default_factory=list, description="Bcc recipients.")
    subject: str = strawberry.field(default="", description="Subject.")
    body_text: str = strawberry.field(default="", description="Plain-text body.")
    body_html: str = strawberry.field(default="", description="HTML body.")
    from_address_id: strawberry.ID | None = strawberry.field(
        default=None, description="From address."
    )
    attachment_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Attachments of the ticket."
    )


@strawberry.input(description="A draft, by id.")
class DraftIdInput:
    id: strawberry.ID = strawberry.field(description="The draft.")


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


@strawberry.type(description="One sender the reply editor offers (EM-6, EM-9).")
class ReplySender:
    email: str = strawberry.field(description="The address replies are sent from.")
    display_name: str = strawberry.field(description="Its name, unless the agent's is used.")
    is_default: bool = strawberry.field(
        description="The department's default support address: reply without fromAddressId."
    )
    from_address: FromAddress | None = strawberry.field(
        description="The From address to pass as fromAddressId; null for the default one."
    )


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
