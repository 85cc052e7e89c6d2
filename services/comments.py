"""Comments with @mentions on any registered record (COL-1, TIC-3): add, edit, delete, list.

The record types are in services.records (tickets, articles, ...). Every path is the same:
the record is loaded through its type (ORG-5: a record the actor may not see is NOT_FOUND),
the change is written in one transaction with an Activity row `<kind>.comment_added`,
`.comment_edited` or `.comment_deleted` about the record, and that Activity notifies (services
.notifications): the record's followers, its owners (an article's author), and the agents the
text mentions with `@[Display name](<Agent global id>)` (an edit: those it newly mentions).

Edit and delete: the comment's author, or an administrator (NOT_OWNER otherwise); the Activity
keeps the previous text (`changes.body.old`).
"""

from __future__ import annotations

from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from deskql import models
from deskql.services import records, uow, validation
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.records import RecordType

COMMENT_MAX = 100_000


def record_type(type_name: str, field: str = "recordId") -> RecordType:
    """The registered record type of that name, or an INVALID payload error on `field`."""
    found = records.find(type_name)
    if found is None:
        raise ValidationFailed.one(field, f"a {type_name} takes no comments", ErrorCode.INVALID)
    return found


def _clean_body(body: str) -> str:
    errors = Errors()
    clean = validation.text(
        errors, "body", body, max_length=COMMENT_MAX, required=True, multiline=True
    )
    errors.raise_if_any()
    assert clean is not None
    return clean


async def add_comment(
    actor: Actor,
    *,
    type_name: str,
    record_id: int,
    body: str,
    is_public: bool = False,
    field: str | None = None,
) -> models.Comment:
    """Add the actor's comment to a record they may see; mentions and followers are notified."""
    kind = record_type(type_name, field or "recordId")
    clean = _clean_body(body)
    record = await kind.load(actor, record_id, field or kind.field)
    async with uow.transaction():
        columns = {"subject_type": kind.name, **kind.comment_columns(record.pk)}
        comment = await models.Comment.create(
            author_id=actor.agent_id, body=clean, is_public=is_public, **columns
        )
        await kind.record_activity(
            actor,
            f"{kind.kind}.comment_added",
            record,
            {"commentId": comment.id, "isPublic": is_public},
            kind.owners(record),
        )
    return comment


async def _own_comment(actor: Actor, comment_id: int) -> tuple[models.Comment, RecordType, Any]:
    """The comment (one the actor may see), its record type and record; NOT_OWNER unless the
    actor wrote it or is an administrator."""
    comment = await visible_comments(actor).filter(id=comment_id).first()
    kind = records.find(comment.subject_type) if comment is not None else None
    if comment is None or kind is None:
        raise ValidationFailed.one("commentId", "no such comment", ErrorCode.NOT_FOUND)
    record = await kind.load(actor, subject_pk(comment), "commentId")
    if not actor.is_admin and comment.author_id != actor.agent_id:  # type: ignore[attr-defined]
        raise ValidationFailed.one(
            "commentId",
            "only the comment's author or an administrator may change it",
            ErrorCode.NOT_OWNER,
        )
    return comment, kind, record


async def edit_comment(actor: Actor, *, comment_id: int, body: str) -> models.Comment:
    """Change the text of a comment (its author or an administrator); the Activity keeps the
    previous text, and agents the new text newly mentions are notified."""
    clean = _clean_body(body)
    comment, kind, record = await _own_comment(actor, comment_id)
    if clean == comment.body:
        return comment
    previous = comment.body
    async with uow.transaction():
        comment.body = clean
        await comment.save(update_fields=["body", "updated_at"])
        await kind.record_activity(
            actor,
            f"{kind.kind}.comment_edited",
            record,
            {"commentId": comment.id, "body": {"old": previous, "new": clean}},
            kind.owners(record),
        )
    return comment


async def delete_comment(actor: Actor, *, comment_id: int) -> models.Comment:
    """Delete a comment (its author or an administrator); the Activity keeps its text.
    Returns the comment as it was."""
    comment, kind, record = await _own_comment(actor, comment_id)
    async with uow.transaction():
        await models.Comment.filter(id=comment.id).delete()
        await kind.record_activity(
            actor,
            f"{kind.kind}.comment_deleted",
            record,
            {
                "commentId": comment.id,
                "isPublic": comment.is_public,
                "body": {"old": comment.body, "new": None},
            },
            kind.owners(record),
        )
    return comment


def subject_pk(comment: models.Comment) -> int:
    """The database id of the record a comment is on."""
    if comment.subject_id is not None:
        return comment.subject_id
    return comment.ticket_id  # type: ignore[attr-defined,no-any-return]


def comments_of(type_name: str, record_id: int) -> QuerySet[models.Comment]:
    """The comments of one record, oldest first (the caller checked the record is visible)."""
    kind = records.find(type_name)
    if kind is None:
        return models.Comment.filter(id__in=[])
    columns = {"subject_type": kind.name, **kind.comment_columns(record_id)}
    return models.Comment.filter(**columns).order_by("id")


async def list_comments(
    actor: Actor, *, type_name: str, record_id: int, field: str | None = None
) -> QuerySet[models.Comment]:
    """The comments of a record the actor may see, oldest first."""
    kind = record_type(type_name, field or "recordId")
    record = await kind.load(actor, record_id, field or kind.field)
    return comments_of(kind.name, record.pk)


def visible_comments(actor: Actor) -> QuerySet[models.Comment]:
    """The comments the actor may see: those of the records they may see (ORG-5)."""
    qs = models.Comment.all()
    if actor.is_admin:
        return qs
    query = Q(id__in=[])
    for kind in records.all_types():
        visible = Subquery(kind.visible(actor).values("id"))
        columns = kind.comment_columns(0)
        if "subject_id" in columns:
            query |= Q(subject_type=kind.name, subject_id__in=visible)
        else:
            (column,) = columns
            query |= Q(**{f"{column}__in": visible})
    return qs.filter(query)
