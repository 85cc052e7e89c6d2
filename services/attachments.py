"""Attachments: bodies stored on disk under var/attachments by sha256, rows in the database."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO

from deskql import models
from deskql.services import activity, uow
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.policies import visible, visible_tickets

_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
_CHUNK = 1024 * 1024


def clean_filename(errors: Errors, filename: str | None) -> str | None:
    """A safe display name: no directories, no control characters, at most 255 characters."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(ch for ch in name if ch.isprintable())
    if not name or name in {".", ".."}:
        errors.add("file", "the file needs a name", ErrorCode.REQUIRED)
        return None
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 250 - len(ext)] + dot + ext) if dot and len(ext) < 20 else name[:255]
    return name


def media_type(content_type: str | None) -> tuple[str, bool]:
    """The bare, lower-case MIME type of a Content-Type value, and whether it is well formed."""
    ctype = (content_type or "application/octet-stream").split(";", 1)[0].strip().lower()
    return ctype, bool(_CONTENT_TYPE.match(ctype)) and len(ctype) <= 255


def blob_path(root: Path, sha256: str) -> Path:
    """Where the body with this digest lives."""
    return root / sha256[:2] / sha256


def store_blob(root: Path, source: BinaryIO, max_bytes: int) -> tuple[str, int]:
    """Copy a stream to the store, hashing as it goes; returns (sha256, size)."""
    root.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=root, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise ValidationFailed.one(
                        "file",
                        f"the file is larger than the limit of {max_bytes} bytes",
                        ErrorCode.LIMIT_EXCEEDED,
                    )
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        sha = digest.hexdigest()
        final = blob_path(root, sha)
        new_folder = not final.parent.exists()
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp_name, final)  # same content, same name: replacing is harmless
        # The file's name is durable only once its folder is (and a new folder's in root).
        _fsync_dir(final.parent)
        if new_folder:
            _fsync_dir(root)
        return sha, size
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


async def add_attachment(
    actor: Actor,
    *,
    root: Path,
    max_bytes: int,
    ticket_id: int,
    filename: str | None,
    content_type: str | None,
    source: BinaryIO,
    comment_id: int | None = None,
) -> models.Attachment:
    """Store an uploaded file on a ticket (optionally on one of its comments)."""
    errors = Errors()
    name = clean_filename(errors, filename)
    ctype, valid = media_type(content_type)
    if not valid:
        errors.add("file", f"{ctype[:60]!r} is not a MIME type", ErrorCode.INVALID)
    errors.raise_if_any()
    ticket = await visible_tickets(actor).filter(id=ticket_id).first()
    if ticket is None:
        raise ValidationFailed.one("ticketId", "no such ticket", ErrorCode.NOT_FOUND)
    if comment_id is not None and not await models.Comment.exists(
        id=comment_id, ticket_id=ticket.id
    ):
        raise ValidationFailed.one(
            "commentId", "no such comment on the ticket", ErrorCode.NOT_FOUND
        )
    # Disk I/O off the event loop; the body is on disk before the row that points to it.
    sha, size = await asyncio.to_thread(store_blob, root, source, max_bytes)
    async with uow.transaction():
        row = await models.Attachment.create(
            ticket_id=ticket.id,
            comment_id=comment_id,
            filename=name,
            content_type=ctype,
            size=size,
            sha256=sha,
            uploaded_by_id=actor.agent_id,
        )
        await activity.record_ticket(
            actor=actor,
            kind="ticket.attachment_added",
            ticket=ticket,
            changes={"attachmentId": row.id, "filename": name, "size": size},
        )
    return row


async def get_attachment(actor: Actor, *, attachment_id: int) -> models.Attachment | None:
    """The attachment if the actor may see its ticket."""
    return await visible(actor, models.Attachment).filter(id=attachment_id).first()


async def delete_attachment(actor: Actor, *, root: Path, attachment_id: int) -> models.Attachment:
    """Remove an attachment; the body is deleted when no other row shares it."""
    row = await get_attachment(actor, attachment_id=attachment_id)
    if row is None:
        raise ValidationFailed.one("id", "no such attachment", ErrorCode.NOT_FOUND)
    ticket = await models.Ticket.get(id=row.ticket_id)  # type: ignore[attr-defined]
    async with uow.transaction():
        await row.delete()
        await activity.record_ticket(
            actor=actor,
            kind="ticket.attachment_removed",
            ticket=ticket,
            changes={"attachmentId": row.id, "filename": row.filename},
        )
    if not await models.Attachment.exists(sha256=row.sha256):
        blob_path(root, row.sha256).unlink(missing_ok=True)
    return row
