"""Attachment upload (GraphQL multipart request spec) and removal."""

from __future__ import annotations

import strawberry
from strawberry.file_uploads import Upload

from deskql.resolvers import attachments as r
from deskql.schema.errors import MutationError
from deskql.schema.permissions import IsAuthenticated
from deskql.schema.types import Attachment


@strawberry.input(description="A file to attach to a ticket (multipart request, field `file`).")
class AttachmentUploadInput:
    ticket_id: strawberry.ID = strawberry.field(description="The ticket.")
    file: Upload = strawberry.field(description="The file, sent as a multipart part.")
    comment_id: strawberry.ID | None = strawberry.field(
        default=None, description="A comment of the ticket to attach it to."
    )


@strawberry.input(description="The attachment to remove.")
class AttachmentDeleteInput:
    id: strawberry.ID = strawberry.field(description="The attachment.")


@strawberry.type(description="Result of an attachment mutation.")
class AttachmentPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    attachment: Attachment | None = strawberry.field(
        default=None, description="The attachment (as it was, for a delete)."
    )


@strawberry.type
class AttachmentMutations:
    @strawberry.mutation(
        description="Attach a file to a ticket. Download it from `Attachment.url` with your token.",
        permission_classes=[IsAuthenticated],
    )
    async def attachment_upload(
        self, info: strawberry.Info, input: AttachmentUploadInput
    ) -> AttachmentPayload:
        return await r.attachment_upload(info, input)

    @strawberry.mutation(
        description="Remove an attachment from its ticket.", permission_classes=[IsAuthenticated]
    )
    async def attachment_delete(
        self, info: strawberry.Info, input: AttachmentDeleteInput
    ) -> AttachmentPayload:
        return await r.attachment_delete(info, input)
