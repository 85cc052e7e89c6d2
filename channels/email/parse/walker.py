"""The MIME tree walked into a ParsedMail: bodies, parts and attachments (Part, ParsedMail)."""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import Message

from deskql.channels.email.parse.headers import (
    Address,
    _addresses,
    _unescape,
    clean_line,
    decode_bytes,
    header,
    message_ids,
)


@dataclass
class Part:
    """An attachment: its display name, MIME type and decoded bytes."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class ParsedMail:
    """What DeskQL needs from a message."""

    message_id: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    sender: Address | None = None
    reply_to: list[Address] = field(default_factory=list)
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    subject: str = ""
    date: datetime | None = None
    text: str = ""
    html: str = ""
    attachments: list[Part] = field(default_factory=list)
    # Header values (decoded) by lower-case name, first occurrence; for detection rules.
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/plain"
    # A DSN (multipart/report): the Message-IDs of the message that bounced.
    bounced_message_ids: list[str] = field(default_factory=list)
    is_report: bool = False
    # EM-14: the original sender of a forwarded message (attached or quoted inline).
    forwarded_sender: Address | None = None
    defects: list[str] = field(default_factory=list)


def _part_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    return b""


def _part_text(part: Message) -> str:
    return decode_bytes(_part_bytes(part), part.get_content_charset())


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if not name:
        try:
            name = part.get_param("name", header="content-type")
            if isinstance(name, tuple):  # an RFC 2231 value that was not collapsed
                name = decode_bytes(name[2].encode("latin-1", "replace"), name[0])
        except Exception:
            name = None
    name = _unescape(str(name)) if name else ""
    return clean_line(name.replace("\\", "/").rsplit("/", 1)[-1])


def _message_bytes(inner: Message) -> bytes:
    try:
        return inner.as_bytes(policy=policy.SMTP)
    except Exception:
        return inner.as_string().encode("utf-8", "surrogateescape")


_EXTENSIONS = {
    "text/plain": "txt",
    "text/html": "html",
    "message/rfc822": "eml",
    "message/delivery-status": "txt",
    "text/rfc822-headers": "txt",
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
}


def html_to_text(value: str) -> str:
    """A readable plain-text version of an HTML body (for HTML-only mail)."""
    value = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>", " ", value)
    value = re.sub(r"(?i)<br\s*/?>|</p\s*>|</div\s*>|</li\s*>|</tr\s*>|</h[1-6]\s*>", "\n", value)
    value = re.sub(r"(?s)<[^>]*>", "", value)
    value = html_lib.unescape(value)
    lines = [clean_line(line) for line in value.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class _Walker:
    def __init__(self, out: ParsedMail) -> None:
        self.out = out
        self.texts: list[str] = []
        self.htmls: list[str] = []

    def walk(self, part: Message, in_alternative: bool = False) -> None:
        ctype = part.get_content_type()
        name = _filename(part)
        if ctype == "message/rfc822":
            self._attached_message(part, name)
            return
        if ctype.startswith("message/") and isinstance(part.get_payload(), list):
            # message/delivery-status and friends: header blocks, kept as a text file.
            blocks = [_message_bytes(block) for block in part.get_payload()]
            self._attach(name or f"{ctype.split('/')[1]}.txt", ctype, b"\n".join(blocks))
            return
        if part.is_multipart():
            subparts = part.get_payload()
            if not isinstance(subparts, list):
                return
            if ctype == "multipart/alternative":
                self._alternative(subparts)
                return
            if ctype == "multipart/report":
                self.out.is_report = True
            for sub in subparts:
                self.walk(sub)
            return
        disposition = (part.get_content_disposition() or "").lower()
        if ctype == "text/rfc822-headers" or ctype == "message/delivery-status":
            text = _part_text(part)
            if ctype == "text/rfc822-headers":
                self.out.bounced_message_ids += _ids_from_header_block(text)
            self._attach(name or f"{ctype.split('/')[1]}.txt", ctype, _part_bytes(part))
            return
        # Text without a filename (or explicitly inline) is body; anything else is kept as a file.
        is_body_text = (
            ctype in ("text/plain", "text/html")
            and disposition != "attachment"
            and not (name and disposition != "inline")
        )
        if is_body_text:
            text = _part_text(part)
            (self.texts if ctype == "text/plain" else self.htmls).append(text)
            return
        self._attach(name, ctype, _part_bytes(part))

    def _alternative(self, subparts: list[Message]) -> None:
        # The richest plain and HTML versions; nested multiparts (related, mixed) are walked.
        plain: str | None = None
        rich: str | None = None
        for sub in subparts:
            ctype = sub.get_content_type()
            if ctype == "text/plain" and plain is None:
                plain = _part_text(sub)
            elif ctype == "text/html" and rich is None:
                rich = _part_text(sub)
            elif sub.is_multipart():
                inner = _Walker(self.out)
                inner.walk(sub)
                if inner.htmls and rich is None:
                    rich = "\n".join(inner.htmls)
                if inner.texts and plain is None:
                    plain = "\n".join(inner.texts)
            else:
                self.walk(sub)
        if plain is not None:
            self.texts.append(plain)
        if rich is not None:
            self.htmls.append(rich)
            if plain is None:
                self.texts.append(html_to_text(rich))

    def _attached_message(self, part: Message, name: str) -> None:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if inner is None:
            self._attach(name or "message.eml", "message/rfc822", _part_bytes(part))
            return
        data = _message_bytes(inner)
        subject = clean_line(header(inner, "Subject"))
        filename = name or (re.sub(r"[^\w .-]", "_", subject)[:100] or "message") + ".eml"
        self._attach(filename, "message/rfc822", data)
        if self.out.is_report:
            self.out.bounced_message_ids += message_ids(header(inner, "Message-ID"))
        elif self.out.forwarded_sender is None:
            senders = _addresses(inner, "From")
            if senders:
                self.out.forwarded_sender = senders[0]

    def _attach(self, name: str, ctype: str, data: bytes) -> None:
        if not name:
            ext = _EXTENSIONS.get(ctype, "bin")
            name = f"attachment-{len(self.out.attachments) + 1}.{ext}"
        self.out.attachments.append(Part(filename=name[:255], content_type=ctype, data=data))


def _ids_from_header_block(text: str) -> list[str]:
    for match in re.finditer(r"^Message-ID:\s*(.*)$", text, re.IGNORECASE | re.MULTILINE):
        ids = message_ids(match.group(1))
        if ids:
            return ids
    return []
