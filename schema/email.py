"""Email channel queries and mutations: support addresses (EM-1, EM-3..EM-5), email settings
(EM-13), inbound messages (TIC-12, durability) and spam marking (TIC-7)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from deskql import models
from deskql.models.enums import InboundStatus
from deskql.resolvers import email as r
from deskql.schema.connections import Connection
from deskql.schema.errors import MutationError
from deskql.schema.ids import to_global_id
from deskql.schema.permissions import IsAdmin, IsAuthenticated
from deskql.schema.types import Department, Node, Ticket

strawberry.enum(
    InboundStatus,
    description="RECEIVED: stored, not processed yet; PROCESSED: a ticket or thread; IGNORED: "
    "kept on purpose without one (see reason); FAILED: processing failed (see reason).",
)

FirstArg = Annotated[
    int | None, strawberry.argument(description="Page size, 0 to 100 (default 20).")
]
AfterArg = Annotated[
    str | None, strawberry.argument(description="Cursor of the item after which the page starts.")
]


@strawberry.type(description="An address customers write to: the default one or an alias.")
class SupportAddress(Node):
    email: str = strawberry.field(description="The address, lower case.")
    display_name: str = strawberry.field(description='Friendly name, e.g. "Zylker Sales".')
    is_default: bool = strawberry.field(
        description="The default support@<slug>.<mail-domain> address (EM-1); it cannot be deleted."
    )
    is_fetching: bool = strawberry.field(
        description="False: mail to it is accepted and kept but makes no ticket (EM-4)."
    )
    from_disabled: bool = strawberry.field(
        description="True: hidden from the reply editor's From choice, and replies cannot be "
        "sent from it (EM-9); it still receives mail and gets auto-CC copies."
    )
    created_at: datetime = strawberry.field(description="When it was added.")
    department_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.SupportAddress) -> SupportAddress:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("SupportAddress", row.id)),
            email=row.email,
            display_name=row.display_name,
            is_default=row.is_default,
            is_fetching=row.is_fetching,
            from_disabled=row.from_disabled,
            created_at=row.created_at,
            department_pk=row.department_id,  # type: ignore[attr-defined]
        )

    @strawberry.field(
        description="Department its tickets land in (EM-5); null: the first department."
    )
    async def department(self, info: strawberry.Info) -> Department | None:
        if self.department_pk is None:
            return None
        return await info.context.loaders.department.load(self.department_pk)


@strawberry.type(description="A message received over SMTP, stored before it was accepted.")
class InboundMessage(Node):
    message_id: str | None = strawberry.field(description="Its Message-ID header, if any.")
    mail_from: str = strawberry.field(description="Envelope sender (MAIL FROM).")
    rcpt_to: str = strawberry.field(description="Envelope recipients (RCPT TO), comma-separated.")
    subject: str = strawberry.field(description="Subject header.")
    size: int = strawberry.field(description="Size of the raw message in bytes.")
    status: InboundStatus = strawberry.field(description="Where it stands.")
    reason: str = strawberry.field(
        description="Why it ended as it did: the ticket made, the duplicate, the loop, the "
        "failure, and the spam rules that fired."
    )
    spam_score: float = strawberry.field(description="Score of the spam rules (TIC-7).")
    attempts: int = strawberry.field(description="How many times it was processed.")
    received_at: datetime = strawberry.field(description="When it was received.")
    processed_at: datetime | None = strawberry.field(description="When it was last processed.")
    ticket_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.InboundMessage) -> InboundMessage:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("InboundMessage", row.id)),
            message_id=row.message_id,
            mail_from=row.mail_from,
            rcpt_to=row.rcpt_to,
            subject=row.subject,
            size=row.size,
            status=row.status,
            reason=row.reason,
            spam_score=row.spam_score,
            attempts=row.attempts,
            received_at=row.received_at,
            processed_at=row.processed_at,
            ticket_pk=row.ticket_id,  # type: ignore[attr-defined]
        )

    @strawberry.field(description="The ticket it made or was added to, if any.")
    async def ticket(self, info: strawberry.Info) -> Ticket | None:
        return await r.ticket_of(info, self.ticket_pk)


@strawberry.type(description="The email switches in force, every one decided (EM-13).")
class EffectiveEmailSettings:
    auto_cc: bool = strawberry.field(description="EM-10: CC the support address on replies.")
    contact_from_reply_to: bool = strawberry.field(
        description="EM-11: the requester is the first Reply-To address, not From."
    )
    agent_name_in_replies: bool = strawberry.field(
        description="EM-12: replies show the agent's name."
    )
    forwarded_on_behalf: bool = strawberry.field(
        description="EM-14: mail an active agent forwards makes the original sender the requester."
    )
    private_replies: bool = strawberry.field(
        description="EM-15: replies without the requester are private."
    )


@strawberry.type(
    description="Email switches of the organisation (department null) or one department's "
    "overrides; null means inherit (the organisation's value, else the default)."
)
class EmailSettings:
    department_pk: strawberry.Private[int | None]
    auto_cc: bool | None = strawberry.field(description="EM-10, null: inherit.")
    contact_from_reply_to: bool | None = strawberry.field(description="EM-11, null: inherit.")
    agent_name_in_replies: bool | None = strawberry.field(description="EM-12, null: inherit.")
    forwarded_on_behalf: bool | None = strawberry.field(description="EM-14, null: inherit.")
    private_replies: bool | None = strawberry.field(description="EM-15, null: inherit.")
    effective: EffectiveEmailSettings = strawberry.field(description="The values in force.")

    @strawberry.field(description="The department; null for the organisation-level settings.")
    async def department(self, info: strawberry.Info) -> Department | None:
        if self.department_pk is None:
            return None
        return await info.context.loaders.department.load(self.department_pk)


@strawberry.input(description="A new support address (alias), within the edition's limit.")
class SupportAddressCreateInput:
    email: str = strawberry.field(description="The address.")
    display_name: str = strawberry.field(default="", description="Friendly name.")
    department_id: strawberry.ID | None = strawberry.field(
        default=None, description="Department its tickets land in (EM-5)."
    )
    is_fetching: bool = strawberry.field(
        default=True, description="False: keep its mail without making tickets (EM-4)."
    )


@strawberry.input(description="Changes to a support address; only the fields you set change.")
class SupportAddressUpdateInput:
    id: strawberry.ID = strawberry.field(description="The support address.")
    email: str | None = strawberry.field(
        default=strawberry.UNSET, description="New address (not for the default one)."
    )
    display_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Friendly name."
    )
    department_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Department (EM-5); null: the first department."
    )
    is_fetching: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Fetching on or off (EM-4)."
    )
    from_disabled: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Disable (true) or enable (false) the address as the sender of replies, "
        "the default one too (EM-9).",
    )


@strawberry.input(description="The support address to delete; the default one stays.")
class SupportAddressDeleteInput:
    id: strawberry.ID = strawberry.field(description="The support address.")


@strawberry.input(
    description="Email switches to set: for the organisation, or, with departmentId, that "
    "department's overrides. Only the fields you set change; null inherits."
)
class EmailSettingsUpdateInput:
    department_id: strawberry.ID | None = strawberry.field(
        default=None, description="The department to override; null: the organisation."
    )
    auto_cc: bool | None = strawberry.field(default=strawberry.UNSET, description="EM-10.")
    contact_from_reply_to: bool | None = strawberry.field(
        default=strawberry.UNSET, description="EM-11."
    )
    agent_name_in_replies: bool | None = strawberry.field(
        default=strawberry.UNSET, description="EM-12."
    )
    forwarded_on_behalf: bool | None = strawberry.field(
        default=strawberry.UNSET, description="EM-14."
    )
    private_replies: bool | None = strawberry.field(default=strawberry.UNSET, description="EM-15.")


@strawberry.input(description="A FAILED or IGNORED inbound message to process again.")
class InboundMessageReprocessInput:
    id: strawberry.ID = strawberry.field(description="The inbound message.")


@strawberry.input(description="A ticket to mark as spam (TIC-7).")
class TicketMarkSpamInput:
    ticket_id: strawberry.ID = strawberry.field(description="The ticket.")
    block_sender: bool = strawberry.field(
        default=False,
        description="Also blocklist the contact's address: their next mail is spam.",
    )


@strawberry.input(description="A ticket to take out of the spam view (TIC-7).")
class TicketUnmarkSpamInput:
    ticket_id: strawberry.ID = strawberry.field(description="The ticket.")
    unblock_sender: bool = strawberry.field(
        default=False, description="Also remove the contact's address from the blocklist."
    )


@strawberry.type(description="Result of a mutation that changes a support address.")
class SupportAddressPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    support_address: SupportAddress | None = strawberry.field(
        default=None, description="The address as changed (as it was, for a delete)."
    )


@strawberry.type(description="Result of emailSettingsUpdate.")
class EmailSettingsPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    email_settings: EmailSettings | None = strawberry.field(
        default=None, description="The settings as changed."
    )


@strawberry.type(description="Result of inboundMessageReprocess.")
class InboundMessagePayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    inbound_message: InboundMessage | None = strawberry.field(
        default=None, description="The message after processing again."
    )


@strawberry.type(description="Result of ticketMarkSpam or ticketUnmarkSpam.")
class TicketSpamPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    ticket: Ticket | None = strawberry.field(default=None, description="The ticket as changed.")


@strawberry.type
class EmailQueries:
    @strawberry.field(
        description="Support addresses, the default first (administrators).",
        permission_classes=[IsAdmin],
    )
    async def support_addresses(
        self, info: strawberry.Info, first: FirstArg = None, after: AfterArg = None
    ) -> Connection[SupportAddress]:
        return await r.support_addresses(info, first=first, after=after)

    @strawberry.field(
        description="Inbound messages, newest first, optionally by status (administrators).",
        permission_classes=[IsAdmin],
    )
    async def inbound_messages(
        self,
        info: strawberry.Info,
        status: Annotated[
            InboundStatus | None, strawberry.argument(description="Only this status.")
        ] = None,
        first: FirstArg = None,
        after: AfterArg = None,
    ) -> Connection[InboundMessage]:
        return await r.inbound_messages(info, status=status, first=first, after=after)

    @strawberry.field(
        description="Email switches of the organisation or of a department (administrators).",
        permission_classes=[IsAdmin],
    )
    async def email_settings(
        self,
        info: strawberry.Info,
        department_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="A department; null: the organisation."),
        ] = None,
    ) -> EmailSettings:
        return await r.email_settings(info, department_id=department_id)


@strawberry.type
class EmailMutations:
    @strawberry.mutation(
        description="Add a support address (alias) within the edition's limit (EM-3).",
        permission_classes=[IsAdmin],
    )
    async def support_address_create(
        self, info: strawberry.Info, input: SupportAddressCreateInput
    ) -> SupportAddressPayload:
        return await r.support_address_create(info, input)

    @strawberry.mutation(
        description="Change a support address: name, department, fetching on/off.",
        permission_classes=[IsAdmin],
    )
    async def support_address_update(
        self, info: strawberry.Info, input: SupportAddressUpdateInput
    ) -> SupportAddressPayload:
        return await r.support_address_update(info, input)

    @strawberry.mutation(
        description="Delete an alias; the default address and at least one address remain.",
        permission_classes=[IsAdmin],
    )
    async def support_address_delete(
        self, info: strawberry.Info, input: SupportAddressDeleteInput
    ) -> SupportAddressPayload:
        return await r.support_address_delete(info, input)

    @strawberry.mutation(
        description="Set organisation email switches or a department's overrides (EM-13).",
        permission_classes=[IsAdmin],
    )
    async def email_settings_update(
        self, info: strawberry.Info, input: EmailSettingsUpdateInput
    ) -> EmailSettingsPayload:
        return await r.email_settings_update(info, input)

    @strawberry.mutation(
        description="Process a FAILED or IGNORED inbound message again.",
        permission_classes=[IsAdmin],
    )
    async def inbound_message_reprocess(
        self, info: strawberry.Info, input: InboundMessageReprocessInput
    ) -> InboundMessagePayload:
        return await r.inbound_message_reprocess(info, input)

    @strawberry.mutation(
        description="Mark a ticket as spam; optionally blocklist its sender (TIC-7).",
        permission_classes=[IsAuthenticated],
    )
    async def ticket_mark_spam(
        self, info: strawberry.Info, input: TicketMarkSpamInput
    ) -> TicketSpamPayload:
        return await r.ticket_mark_spam(info, input)

    @strawberry.mutation(
        description="Take a ticket out of the spam view; optionally unblock its sender.",
        permission_classes=[IsAuthenticated],
    )
    async def ticket_unmark_spam(
        self, info: strawberry.Info, input: TicketUnmarkSpamInput
    ) -> TicketSpamPayload:
        return await r.ticket_unmark_spam(info, input)
