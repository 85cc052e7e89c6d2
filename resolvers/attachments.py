"""Attachment resolvers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from deskql.resolvers.common import mutate
from deskql.schema.context import actor_of
from deskql.schema.ids import input_id, optional_input_id
from deskql.schema.types import Attachment
from deskql.services import attachments as svc

if TYPE_CHECKING:
    from deskql.schema.attachments import AttachmentDeleteInput, AttachmentUploadInput


async def attachment_upload(info: strawberry.Info, input: AttachmentUploadInput) -> Any:
    """`attachmentUpload`."""
    from deskql.schema.attachments import AttachmentPayload

    async def run() -> dict[str, Any]:
        settings = info.context.settings
        upload = input.file
        row = await svc.add_attachment(
            actor_of(info),
            root=settings.attachments_dir,
            max_bytes=settings.attachment_max_bytes,
            ticket_id=input_id(input.ticket_id, "Ticket", "ticketId"),
            comment_id=optional_input_id(input.comment_id, "Comment", "commentId"),
            filename=getattr(upload, "filename", None),
            content_type=getattr(upload, "content_type", None),
            source=upload.file,
        )
        return {"attachment": Attachment.from_row(row)}

    return await mutate(AttachmentPayload, run)


async def attachment_delete(info: strawberry.Info, input: AttachmentDeleteInput) -> Any:
    """`attachmentDelete`."""
    from deskql.schema.attachments import AttachmentPayload

    async def run() -> dict[str, Any]:
        row = await svc.delete_attachment(
            actor_of(info),
            root=info.context.settings.attachments_dir,
            attachment_id=input_id(input.id, "Attachment", "id"),
        )
        return {"attachment": Attachment.from_row(row)}

    return await mutate(AttachmentPayload, run)
