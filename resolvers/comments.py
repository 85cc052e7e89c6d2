"""Comment resolvers: decode ids, call services.comments, build payloads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from deskql.resolvers.common import mutate
from deskql.schema.context import actor_of
from deskql.schema.ids import InvalidId, from_global_id, input_id
from deskql.schema.types import Comment
from deskql.services import comments as svc
from deskql.services.errors import ErrorCode, ValidationFailed

if TYPE_CHECKING:
    from deskql.schema.comments import CommentDeleteInput, CommentEditInput, RecordCommentAddInput


def _payload() -> Any:
    from deskql.schema.comments import CommentPayload

    return CommentPayload


async def record_comment_add(info: strawberry.Info, input: RecordCommentAddInput) -> Any:
    """`recordCommentAdd`."""

    async def run() -> dict[str, Any]:
        try:
            type_name, pk = from_global_id(input.record_id)
        except InvalidId as exc:
            raise ValidationFailed.one("recordId", str(exc), ErrorCode.INVALID) from None
        row = await svc.add_comment(
            actor_of(info),
            type_name=type_name,
            record_id=pk,
            body=input.body,
            is_public=input.is_public,
            field="recordId",
        )
        return {"comment": Comment.from_row(row)}

    return await mutate(_payload(), run)


async def comment_edit(info: strawberry.Info, input: CommentEditInput) -> Any:
    """`commentEdit`."""

    async def run() -> dict[str, Any]:
        row = await svc.edit_comment(
            actor_of(info),
            comment_id=input_id(input.comment_id, "Comment", "commentId"),
            body=input.body,
        )
        return {"comment": Comment.from_row(row)}

    return await mutate(_payload(), run)


async def comment_delete(info: strawberry.Info, input: CommentDeleteInput) -> Any:
    """`commentDelete`."""

    async def run() -> dict[str, Any]:
        row = await svc.delete_comment(
            actor_of(info), comment_id=input_id(input.comment_id, "Comment", "commentId")
        )
        return {"comment": Comment.from_row(row)}

    return await mutate(_payload(), run)
