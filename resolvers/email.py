"""Email channel resolvers: decode ids, call services.support_addresses, email_settings and
mail_inbound, build payloads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from deskql.resolvers.common import given, mutate, page
from deskql.schema.connections import Connection
from deskql.schema.context import actor_of
from deskql.schema.ids import decode_id, input_id
from deskql.schema.types import Ticket
from deskql.services import email_settings as settings_svc
from deskql.services import mail_inbound
from deskql.services import support_addresses as addresses
from deskql.services.tickets import get_ticket

if TYPE_CHECKING:
    from deskql.models.enums import InboundStatus
    from deskql.schema.email import (
        EmailSettings,
        EmailSettingsUpdateInput,
        InboundMessage,
        InboundMessageReprocessInput,
        SupportAddress,
        SupportAddressCreateInput,
        SupportAddressDeleteInput,
        SupportAddressUpdateInput,
        TicketMarkSpamInput,
        TicketUnmarkSpamInput,
    )


async def ticket_of(info: strawberry.Info, ticket_pk: int | None) -> Ticket | None:
    """The ticket of an inbound message, when the actor may see it."""
    if ticket_pk is None:
        return None
    row = await get_ticket(actor_of(info), ticket_id=ticket_pk)
    return Ticket.from_row(row) if row else None


async def thread_original_content(info: strawberry.Info, thread_id: str) -> str | None:
    """`Thread.originalContent`: the raw message a thread came from (TIC-12)."""
    return await mail_inbound.original_content(
        actor_of(info), settings=info.context.settings, thread_id=decode_id(thread_id, "Thread")
    )


async def support_addresses(
    info: strawberry.Info, *, first: int | None, after: str | None
) -> Connection[SupportAddress]:
    """`supportAddresses`."""
    from deskql.schema.email import SupportAddress

    return await page(
        info,
        addresses.list_addresses(actor_of(info)),
        first=first,
        after=after,
        convert=SupportAddress.from_row,
    )


async def inbound_messages(
    info: strawberry.Info, *, status: InboundStatus | None, first: int | None, after: str | None
) -> Connection[InboundMessage]:
    """`inboundMessages(status:)`."""
    from deskql.schema.email import InboundMessage

    return await page(
        info,
        mail_inbound.list_inbound(actor_of(info), status=status),
        first=first,
        after=after,
        convert=InboundMessage.from_row,
    )


def _settings_object(
    department_pk: int | None, stored: dict[str, bool | None], eff: settings_svc.Effective
) -> EmailSettings:
    from deskql.schema.email import EffectiveEmailSettings, EmailSettings

    return EmailSettings(
        department_pk=department_pk,
        effective=EffectiveEmailSettings(**eff.__dict__),
        **stored,
    )


async def email_settings(info: strawberry.Info, *, department_id: str | None) -> EmailSettings:
    """`emailSettings(departmentId)`."""
    pk = decode_id(department_id, "Department") if department_id is not None else None
    stored, eff = await settings_svc.get_settings(actor_of(info), department_id=pk)
    return _settings_object(pk, stored, eff)


async def support_address_create(info: strawberry.Info, input: SupportAddressCreateInput) -> Any:
    """`supportAddressCreate`."""
    from deskql.schema.email import SupportAddress, SupportAddressPayload

    async def run() -> dict[str, Any]:
        dept = (
            input_id(input.department_id, "Department", "departmentId")
            if input.department_id is not None
            else None
        )
        row = await addresses.create_address(
            actor_of(info),
            email=input.email,
            display_name=input.display_name,
            department_id=dept,
            is_fetching=input.is_fetching,
        )
        return {"support_address": SupportAddress.from_row(row)}

    return await mutate(SupportAddressPayload, run)


async def support_address_update(info: strawberry.Info, input: SupportAddressUpdateInput) -> Any:
    """`supportAddressUpdate`."""
    from deskql.schema.email import SupportAddress, SupportAddressPayload

    async def run() -> dict[str, Any]:
        pk = input_id(input.id, "SupportAddress", "id")
        changes = given(
            input,
            {
                "email": "email",
                "display_name": "display_name",
                "department_id": "department_id",
                "is_fetching": "is_fetching",
                "from_disabled": "from_disabled",
            },
        )
        if changes.get("department_id") is not None:
            changes["department_id"] = input_id(
                changes["department_id"], "Department", "departmentId"
            )
        row = await addresses.update_address(actor_of(info), address_id=pk, changes=changes)
        return {"support_address": SupportAddress.from_row(row)}

    return await mutate(SupportAddressPayload, run)


async def support_address_delete(info: strawberry.Info, input: SupportAddressDeleteInput) -> Any:
    """`supportAddressDelete`."""
    from deskql.schema.email import SupportAddress, SupportAddressPayload

    async def run() -> dict[str, Any]:
        pk = input_id(input.id, "SupportAddress", "id")
        row = await addresses.delete_address(actor_of(info), address_id=pk)
        return {"support_address": SupportAddress.from_row(row)}

    return await mutate(SupportAddressPayload, run)


async def email_settings_update(info: strawberry.Info, input: EmailSettingsUpdateInput) -> Any:
    """`emailSettingsUpdate`."""
    from deskql.schema.email import EmailSettingsPayload

    async def run() -> dict[str, Any]:
        pk = (
            input_id(input.department_id, "Department", "departmentId")
            if input.department_id is not None
            else None
        )
        changes = given(input, {name: name for name in settings_svc.SWITCHES})
        stored, eff = await settings_svc.update_settings(
            actor_of(info), department_id=pk, changes=changes
        )
        return {"email_settings": _settings_object(pk, stored, eff)}

    return await mutate(EmailSettingsPayload, run)


async def inbound_message_reprocess(
    info: strawberry.Info, input: InboundMessageReprocessInput
) -> Any:
    """`inboundMessageReprocess`."""
    from deskql.schema.email import InboundMessage, InboundMessagePayload

    async def run() -> dict[str, Any]:
        pk = input_id(input.id, "InboundMessage", "id")
        row = await mail_inbound.reprocess(
            actor_of(info),
            settings=info.context.settings,
            inbound_id=pk,
        )
        return {"inbound_message": InboundMessage.from_row(row)}

    return await mutate(InboundMessagePayload, run)


async def ticket_mark_spam(info: strawberry.Info, input: TicketMarkSpamInput) -> Any:
    """`ticketMarkSpam`."""
    from deskql.schema.email import TicketSpamPayload

    async def run() -> dict[str, Any]:
        pk = input_id(input.ticket_id, "Ticket", "ticketId")
        row = await mail_inbound.mark_spam(
            actor_of(info), ticket_id=pk, block_sender=input.block_sender
        )
        return {"ticket": Ticket.from_row(row)}

    return await mutate(TicketSpamPayload, run)


async def ticket_unmark_spam(info: strawberry.Info, input: TicketUnmarkSpamInput) -> Any:
    """`ticketUnmarkSpam`."""
    from deskql.schema.email import TicketSpamPayload

    async def run() -> dict[str, Any]:
        pk = input_id(input.ticket_id, "Ticket", "ticketId")
        row = await mail_inbound.unmark_spam(
            actor_of(info), ticket_id=pk, unblock_sender=input.unblock_sender
        )
        return {"ticket": Ticket.from_row(row)}

    return await mutate(TicketSpamPayload, run)
