"""Files contacts upload to their tickets: what is refused (programs, scripts, web pages)
and storing the bodies before any row points to them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from deskql.services.attachments import clean_filename, media_type, store_blob
from deskql.services.errors import ErrorCode, Errors

MAX_FILES = 10
# What a contact may not upload: programs and scripts, and pages a browser would run.
FORBIDDEN_EXTENSIONS = frozenset(
    "exe dll com bat cmd scr msi msp pif cpl hta jar js jse vbs vbe wsf ps1 psm1 sh bash "
    "app apk lnk reg html htm xhtml shtml svg svgz".split()
)
FORBIDDEN_TYPES = frozenset(
    {
        "application/x-msdownload",
        "application/x-msdos-program",
        "application/x-dosexec",
        "application/x-sh",
        "application/x-executable",
        "application/javascript",
        "text/javascript",
        "application/java-archive",
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
    }
)


class Upload(Protocol):
    """An uploaded file (starlette's UploadFile)."""

    filename: str | None
    content_type: str | None
    file: BinaryIO


@dataclass
class StoredFile:
    """A file whose body is on disk, waiting for its row."""

    filename: str
    content_type: str
    sha256: str
    size: int


def check_files(errors: Errors, files: list[Upload] | None) -> list[tuple[Upload, str, str]]:
    """Names and types of uploads, refusing programs, scripts and pages (FORBIDDEN_*)."""
    files = files or []
    if len(files) > MAX_FILES:
        errors.add("attachments", f"at most {MAX_FILES} files at once", ErrorCode.LIMIT_EXCEEDED)
        return []
    checked = []
    for upload in files:
        name = clean_filename(errors, upload.filename)
        ctype, valid = media_type(upload.content_type)
        if name is None:
            continue
        ext = name.rpartition(".")[2].lower() if "." in name else ""
        if not valid:
            errors.add("attachments", f"{ctype[:60]!r} is not a MIME type", ErrorCode.INVALID)
        elif ext in FORBIDDEN_EXTENSIONS or ctype in FORBIDDEN_TYPES:
            errors.add(
                "attachments",
                f"{name}: this type of file is not accepted (programs, scripts and web pages)",
                ErrorCode.INVALID,
            )
        else:
            checked.append((upload, name, ctype))
    return checked


async def store_files(
    root: Path, max_bytes: int, checked: list[tuple[Upload, str, str]]
) -> list[StoredFile]:
    """Write the bodies to the store (before any row points to them)."""
    stored = []
    for upload, name, ctype in checked:
        sha, size = await asyncio.to_thread(store_blob, root, upload.file, max_bytes)
        stored.append(StoredFile(name, ctype, sha, size))
    return stored
