"""Outbound email resolvers: decode ids, call services.replies, outbox, from_addresses,
templates and drafts, build payloads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from deskql.resolvers.common import given, mutate, page
from deskql.schema.connections import Connection
from deskql.schema.context import actor_of
from deskql.schema.ids import decode_id, input_id, input_ids, optional_input_id
from deskql.schema.types import Thread
from deskql.services import drafts as drafts_svc
from deskql.services import from_addresses as addresses
from deskql.services import outbox, replies
from deskql.services import templates as templates_svc

if TYPE_CHECKING:
    from deskql.schema.outbound import (
        Draft,
        DraftIdInput,
        DraftSaveInput,
        EmailTemplate,
        EmailTemplateIdInput,
        EmailTemplateSaveInput,
        FromAddress,
        FromAddressCreateInput,
        FromAddressIdInput,
        FromAddressUpdateInput,
        OutgoingEmail,
        OutgoingEmailResendInput,
        ReplySender,
        SmtpSettingsInput,
        TagFollowUpInput,
        TemplateFolder,
        TemplateFolderCreateInput,
        TicketForwardInput,
        TicketReplyInput,
        TicketTemplate,
        TicketTemplateCreateInput,
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


# -- replies ---------------------------------------------------------------------------------


def _files(uploads: list[Any]) -> list[replies.NewFile]:
    return [
        replies.NewFile(
            filename=getattr(u, "filename", None),
            content_type=getattr(u, "content_type", None),
            source=u.file,
        )
        for u in uploads
    ]


def _sent(sent: replies.Sent) -> dict[str, Any]:
    from deskql.schema.outbound import OutgoingEmail

    return {
        "thread": Thread.from_row(sent.thread),
        "outgoing_email": OutgoingEmail.from_row(sent.outbox),
    }


async def ticket_reply(info: strawberry.Info, input: TicketReplyInput) -> Any:
    """`ticketReply`."""
    from deskql.schema.outbound import TicketReplyPayload

    async def run() -> dict[str, Any]:
        sent = await replies.send_reply(
            actor_of(info),
            settings=info.context.settings,
            ticket_id=input_id(input.ticket_id, "Ticket", "ticketId"),
            thread_id=optional_input_id(input.thread_id, "Thread", "threadId"),
            to=input.to,
            cc=input.cc,
            bcc=input.bcc,
            subject=input.subject,
            body_text=input.body_text,
            body_html=input.body_html,
            attachment_ids=input_ids(input.attachment_ids, "Attachment", "attachmentIds"),
            from_address_id=optional_input_id(
                input.from_address_id, "FromAddress", "fromAddressId"
            ),
            template_id=optional_input_id(input.template_id, "EmailTemplate", "templateId"),
            files=_files(input.files),
        )
        return _sent(sent)

    return await mutate(TicketReplyPayload, run)


async def ticket_forward(info: strawberry.Info, input: TicketForwardInput) -> Any:
    """`ticketForward`."""
    from deskql.schema.outbound import TicketForwardPayload

    async def run() -> dict[str, Any]:
        sent = await replies.send_reply(
            actor_of(info),
            settings=info.context.settings,
            ticket_id=input_id(input.ticket_id, "Ticket", "ticketId"),
            thread_id=optional_input_id(input.thread_id, "Thread", "threadId"),
            to=input.to,
            cc=input.cc,
            bcc=input.bcc,
            subject=input.subject,
            body_text=input.body_text,
            body_html=input.body_html,
            attachment_ids=input_ids(input.attachment_ids, "Attachment", "attachmentIds"),
            from_address_id=optional_input_id(
                input.from_address_id, "FromAddress", "fromAddressId"
            ),
            forward=True,
            files=_files(input.files),
        )
        return _sent(sent)

    return await mutate(TicketForwardPayload, run)


async def outgoing_email_resend(info: strawberry.Info, input: OutgoingEmailResendInput) -> Any:
    """`outgoingEmailResend`."""
    from deskql.schema.outbound import OutgoingEmail, OutgoingEmailResendPayload

    async def run() -> dict[str, Any]:
        row = await outbox.resend(
            actor_of(info), outbox_id=input_id(input.id, "OutgoingEmail", "id")
        )
        return {"outgoing_email": OutgoingEmail.from_row(row)}

    return await mutate(OutgoingEmailResendPayload, run)


# -- From addresses --------------------------------------------------------------------------


def _smtp(value: SmtpSettingsInput | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {
        "host": value.host,
        "port": value.port,
        "security": value.security,
        "username": value.username,
        "password": value.password,
    }


async def from_address_create(info: strawberry.Info, input: FromAddressCreateInput) -> Any:
    """`fromAddressCreate`."""
    from deskql.schema.outbound import FromAddressPayload

    async def run() -> dict[str, Any]:
        row = await addresses.create_from_address(
            actor_of(info),
            settings=info.context.settings,
            department_id=input_id(input.department_id, "Department", "departmentId"),
            email=input.email,
            display_name=input.display_name,
            smtp_settings=_smtp(input.smtp),
        )
        return {"from_address": to_from_address(info, row)}

    return await mutate(FromAddressPayload, run)


async def from_address_update(info: strawberry.Info, input: FromAddressUpdateInput) -> Any:
    """`fromAddressUpdate`."""
    from deskql.schema.outbound import FromAddressPayload

    async def run() -> dict[str, Any]:
        changes = given(
            input,
            {"display_name": "display_name", "is_disabled": "is_disabled", "smtp": "smtp_settings"},
        )
        if "smtp_settings" in changes:
            changes["smtp_settings"] = _smtp(changes["smtp_settings"])
        row = await addresses.update_from_address(
            actor_of(info),
            settings=info.context.settings,
            address_id=input_id(input.id, "FromAddress", "id"),
            changes=changes,
        )
        return {"from_address": to_from_address(info, row)}

    return await mutate(FromAddressPayload, run)


async def from_address_resend_verification(info: strawberry.Info, input: FromAddressIdInput) -> Any:
    """`fromAddressResendVerification`."""
    from deskql.schema.outbound import FromAddressPayload

    async def run() -> dict[str, Any]:
        row = await addresses.resend_verification(
            actor_of(info),
            settings=info.context.settings,
            address_id=input_id(input.id, "FromAddress", "id"),
        )
        return {"from_address": to_from_address(info, row)}

    return await mutate(FromAddressPayload, run)


async def from_address_delete(info: strawberry.Info, input: FromAddressIdInput) -> Any:
    """`fromAddressDelete`."""
    from deskql.schema.outbound import FromAddressPayload

    async def run() -> dict[str, Any]:
        row = await addresses.delete_from_address(
            actor_of(info), address_id=input_id(input.id, "FromAddress", "id")
        )
        return {"from_address": to_from_address(info, row)}

    return await mutate(FromAddressPayload, run)


# -- templates -------------------------------------------------------------------------------


async def template_folder_create(info: strawberry.Info, input: TemplateFolderCreateInput) -> Any:
    """`templateFolderCreate`."""
    from deskql.schema.outbound import TemplateFolder, TemplateFolderPayload

    async def run() -> dict[str, Any]:
        row = await templates_svc.create_folder(
            actor_of(info),
            name=input.name,
            department_id=optional_input_id(input.department_id, "Department", "departmentId"),
        )
        return {"folder": TemplateFolder.from_row(row)}

    return await mutate(TemplateFolderPayload, run)


async def email_template_save(info: strawberry.Info, input: EmailTemplateSaveInput) -> Any:
    """`emailTemplateSave`."""
    from deskql.schema.outbound import EmailTemplate, EmailTemplatePayload

    async def run() -> dict[str, Any]:
        row = await templates_svc.save_template(
            actor_of(info),
            template_id=optional_input_id(input.id, "EmailTemplate", "id"),
            name=input.name,
            subject=input.subject,
            body_text=input.body_text,
            body_html=input.body_html,
            folder_id=optional_input_id(input.folder_id, "TemplateFolder", "folderId"),
            department_id=optional_input_id(input.department_id, "Department", "departmentId"),
            from_address_id=optional_input_id(
                input.from_address_id, "FromAddress", "fromAddressId"
            ),
        )
        return {"email_template": EmailTemplate.from_row(row)}

    return await mutate(EmailTemplatePayload, run)


async def email_template_delete(info: strawberry.Info, input: EmailTemplateIdInput) -> Any:
    """`emailTemplateDelete`."""
    from deskql.schema.outbound import EmailTemplate, EmailTemplatePayload

    async def run() -> dict[str, Any]:
        row = await templates_svc.delete_template(
            actor_of(info), template_id=input_id(input.id, "EmailTemplate", "id")
        )
        return {"email_template": EmailTemplate.from_row(row)}

    return await mutate(EmailTemplatePayload, run)


async def ticket_template_create(info: strawberry.Info, input: TicketTemplateCreateInput) -> Any:
    """`ticketTemplateCreate`."""
    from deskql.schema.outbound import TicketTemplate, TicketTemplatePayload

    async def run() -> dict[str, Any]:
        row = await templates_svc.create_ticket_template(
            actor_of(info),
            department_id=input_id(input.department_id, "Department", "departmentId"),
            name=input.name,
            subject=input.subject,
            description=input.description,
            priority=input.priority,
        )
        return {"ticket_template": TicketTemplate.from_row(row)}

    return await mutate(TicketTemplatePayload, run)


async def tag_follow_up(info: strawberry.Info, input: TagFollowUpInput) -> Any:
    """`tagFollowUp`."""
    from deskql.schema.ids import to_global_id
    from deskql.schema.outbound import TagFollowUpPayload

    async def run() -> dict[str, Any]:
        done = await templates_svc.follow_up_tag(
            actor_of(info),
            settings=info.context.settings,
            tag=input.tag,
            template_id=input_id(input.template_id, "EmailTemplate", "templateId"),
        )
        return {"ticket_ids": [strawberry.ID(to_global_id("Ticket", pk)) for pk in done]}

    return await mutate(TagFollowUpPayload, run)


# -- drafts ----------------------------------------------------------------------------------


async def draft_save(info: strawberry.Info, input: DraftSaveInput) -> Any:
    """`draftSave`."""
    from deskql.schema.outbound import Draft, DraftPayload

    async def run() -> dict[str, Any]:
        row = await drafts_svc.save_draft(
            actor_of(info),
            ticket_id=input_id(input.ticket_id, "Ticket", "ticketId"),
            draft_id=optional_input_id(input.id, "Draft", "id"),
            client_key=input.client_key,
            is_shared=input.is_shared,
            to=input.to,
            cc=input.cc,
            bcc=input.bcc,
            subject=input.subject,
            body_text=input.body_text,
            body_html=input.body_html,
            from_address_id=optional_input_id(
                input.from_address_id, "FromAddress", "fromAddressId"
            ),
            attachment_ids=input_ids(input.attachment_ids, "Attachment", "attachmentIds"),
        )
        return {"draft": Draft.from_row(row)}

    return await mutate(DraftPayload, run)


async def draft_send(info: strawberry.Info, input: DraftIdInput) -> Any:
    """`draftSend`."""
    from deskql.schema.outbound import DraftSendPayload

    async def run() -> dict[str, Any]:
        sent = await drafts_svc.send_draft(
            actor_of(info),
            settings=info.context.settings,
            draft_id=input_id(input.id, "Draft", "id"),
        )
        return _sent(sent)

    return await mutate(DraftSendPayload, run)


async def draft_discard(info: strawberry.Info, input: DraftIdInput) -> Any:
    """`draftDiscard`."""
    from deskql.schema.outbound import Draft, DraftPayload

    async def run() -> dict[str, Any]:
        row = await drafts_svc.discard_draft(
            actor_of(info), draft_id=input_id(input.id, "Draft", "id")
        )
        return {"draft": Draft.from_row(row)}

    return await mutate(DraftPayload, run)
