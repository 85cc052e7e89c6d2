"""Comments on any record (COL-1): add to a ticket, an article or another record that takes
comments; edit and delete (the author or an administrator). `commentAdd` (tickets) stays as
it was; `recordCommentAdd` does the same for any record by its global id."""

from __future__ import annotations

import strawberry

from deskql.resolvers import comments as r
from deskql.schema.errors import MutationError
from deskql.schema.permissions import IsAuthenticated
from deskql.schema.types import Comment


@strawberry.input(description="A comment on any record that takes comments.")
class RecordCommentAddInput:
    record_id: strawberry.ID = strawberry.field(
        description="Global id of the record: a Ticket, an Article, ... you may see."
    )
    body: str = strawberry.field(
        description="The comment text. Mention an agent with `@[Display name](<Agent id>)`, "
        "e.g. `@[Alice Smith](QWdlbnQ6Mw)`: the agent is notified at once (COL-1) if they "
        "may see the record; the display text is free, the global id decides."
    )
    is_public: bool = strawberry.field(
        default=False,
        description="Tickets only: true lets the contact see it. Default private.",
    )


@strawberry.input(description="New text for a comment.")
class CommentEditInput:
    comment_id: strawberry.ID = strawberry.field(description="The comment (yours, or any: admins).")
    body: str = strawberry.field(description="The new text; agents it newly mentions are notified.")


@strawberry.input(description="The comment to delete.")
class CommentDeleteInput:
    comment_id: strawberry.ID = strawberry.field(description="The comment (yours, or any: admins).")


@strawberry.type(description="Result of recordCommentAdd, commentEdit and commentDelete.")
class CommentPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    comment: Comment | None = strawberry.field(
        default=None, description="The comment as changed (as it was, for a delete)."
    )


@strawberry.type
class CommentMutations:
    @strawberry.mutation(
        description="Comment on any record you may see (a ticket, an article, ...); its "
        "followers, its owner (an article's author) and the agents mentioned are notified.",
        permission_classes=[IsAuthenticated],
    )
    async def record_comment_add(
        self, info: strawberry.Info, input: RecordCommentAddInput
    ) -> CommentPayload:
        return await r.record_comment_add(info, input)

    @strawberry.mutation(
        description="Change a comment's text: its author or an administrator (else NOT_OWNER); "
        "the record's history keeps the previous text.",
        permission_classes=[IsAuthenticated],
    )
    async def comment_edit(self, info: strawberry.Info, input: CommentEditInput) -> CommentPayload:
        return await r.comment_edit(info, input)

    @strawberry.mutation(
        description="Delete a comment: its author or an administrator (else NOT_OWNER); the "
        "record's history keeps its text.",
        permission_classes=[IsAuthenticated],
    )
    async def comment_delete(
        self, info: strawberry.Info, input: CommentDeleteInput
    ) -> CommentPayload:
        return await r.comment_delete(info, input)
