"""Inputs of the outbound email mutations."""

from __future__ import annotations

import strawberry
from strawberry.file_uploads import Upload

from deskql.schema.outbound.enums import SmtpSecurity

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
