"""Outbound email types: From addresses, outgoing emails, templates, drafts, reply senders."""

from __future__ import annotations

from datetime import datetime

import strawberry

from deskql import models
from deskql.schema.ids import to_global_id
from deskql.schema.outbound.enums import OutboxStatus, SmtpSecurity
from deskql.schema.types import Department, Node


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
