"""Replies, forwards, resends and drafts: the mutations that send email or prepare it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from deskql.resolvers.common import mutate
from deskql.schema.context import actor_of
from deskql.schema.ids import input_id, input_ids, optional_input_id
from deskql.schema.types import Thread
from deskql.services import drafts as drafts_svc
from deskql.services import outbox, replies

if TYPE_CHECKING:
    from deskql.schema.outbound import (
        DraftIdInput,
        DraftSaveInput,
        OutgoingEmailResendInput,
        TicketForwardInput,
        TicketReplyInput,
    )


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
