"""Reading a raw message into plain values, tolerant of everything real mail gets wrong.

`BytesParser(policy=policy.default)` does the heavy lifting (RFC 2047 headers, addresses,
RFC 2231 parameters). What it leaves to us (STACK_NOTES): unknown charsets raise LookupError in
`get_content()`, so bodies are decoded here with fallbacks; 8-bit bytes in headers come back as
surrogate escapes; a bad From header is a defect, not an exception; `iter_attachments()` skips
some inline text parts, so the parts are walked by hand.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

_MSGID = re.compile(r"<[^<>\s]+>")
_ADDR = re.compile(r"[^\s<>()\[\],;:\"']+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
# Charsets that mail clients label too narrowly: decode with the superset they really used.
_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "big5": "big5hkscs",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "ks_c_5601-1987": "cp949",
    "iso-8859-8-i": "iso-8859-8",
}
# Where a forwarded message's own headers start inside a body (EM-14).
_FORWARD_MARKERS = re.compile(
    r"^(?:-+ ?(?:Forwarded message|Original Message|Weitergeleitete Nachricht|Message transféré)"
    r" ?-+|Begin forwarded message:)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_FROM_LINE = re.compile(r"^\s*\*?From:\*?\s*(.+)$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Address:
    """A mailbox: display name and lower-cased address."""

    name: str
    email: str


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


def _unescape(value: str) -> str:
    """Undo surrogate escapes of 8-bit header bytes: UTF-8 if it is, else Windows-1252."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    raw = value.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def clean_line(value: str) -> str:
    """One line of text: control characters and runs of whitespace become single spaces."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", value)).strip()


def clean_text(value: str) -> str:
    """Multi-line text without control characters other than newlines and tabs."""
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def header(msg: Message, name: str) -> str:
    """A header's decoded value ('' when absent), never raising on a malformed one."""
    try:
        value = msg.get(name)
        if value is None:
            return ""
        text = _unescape(str(value))
    except Exception:  # the header parser gave up: decode the raw value ourselves
        text = "\ufffd"
    if "\ufffd" in text:
        # 8-bit bytes that are not UTF-8 were replaced; the raw value still has them.
        for key, raw in msg.raw_items():
            if key.lower() == name.lower():
                return _decode_raw_header(str(raw))
    return text


def _decode_raw_header(raw: str) -> str:
    try:
        return _unescape(str(make_header(decode_header(raw))))
    except Exception:
        return _unescape(raw)


def decode_header_value(raw: str) -> str:
    """A raw header value with RFC 2047 words decoded (cheap: no header registry)."""
    return _decode_raw_header(raw) if "=?" in raw else _unescape(raw)


def _addresses(msg: Message, name: str) -> list[Address]:
    """The mailboxes of an address header; falls back to anything shaped like an address."""
    out: list[Address] = []
    try:
        value = msg.get(name)
        groups = getattr(value, "addresses", None) if value is not None else None
        if groups is not None:
            for a in groups:
                addr = _unescape(a.addr_spec or "").strip().lower()
                if _ADDR.fullmatch(addr):
                    out.append(Address(clean_line(_unescape(a.display_name or "")), addr))
    except Exception:
        out = []
    if out:
        return out
    raw = header(msg, name)
    if not raw:
        return []
    for display, addr in getaddresses([raw]):
        addr = addr.strip().lower()
        if _ADDR.fullmatch(addr):
            out.append(Address(clean_line(display), addr))
    if not out:
        out = [Address("", m.lower()) for m in _ADDR.findall(raw)]
    return out


def parse_address(text: str) -> Address | None:
    """The first mailbox in a free-text "Name <addr>" string, or None."""
    for display, addr in getaddresses([text]):
        addr = addr.strip().lower()
        if _ADDR.fullmatch(addr):
            return Address(clean_line(display).strip("\"'"), addr)
    found = _ADDR.search(text)
    return Address("", found.group(0).lower()) if found else None


def message_ids(value: str) -> list[str]:
    """The <id> tokens of a Message-ID, In-Reply-To or References value, in order."""
    return _MSGID.findall(value or "")


def decode_bytes(payload: bytes, charset: str | None) -> str:
    """Bytes to text: the declared charset (or its superset), then UTF-8, never raising."""
    name = (charset or "utf-8").strip().strip('"').lower()
    name = _CHARSET_ALIASES.get(name, name)
    for candidate in (name, "utf-8"):
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    try:
        return payload.decode(name, errors="replace")
    except LookupError:  # a charset that does not exist
        return payload.decode("cp1252", errors="replace")


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


def _forwarded_inline(text: str) -> Address | None:
    marker = _FORWARD_MARKERS.search(text)
    if marker is None:
        return None
    block = text[marker.end() : marker.end() + 2000]
    found = _FROM_LINE.search(block)
    return parse_address(found.group(1)) if found else None


def parse_message(raw: bytes) -> ParsedMail:
    """Parse raw RFC 5322 bytes; never raises on malformed input."""
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    out = ParsedMail()
    # Raw values for the detection rules: the header registry is slow and not needed there.
    for key, raw_value in msg.raw_items():
        lower = key.lower()
        if lower not in out.headers:
            out.headers[lower] = clean_line(decode_header_value(str(raw_value)))
    ids = message_ids(header(msg, "Message-ID"))
    out.message_id = ids[0][:998] if ids else None
    out.in_reply_to = message_ids(header(msg, "In-Reply-To"))
    out.references = message_ids(header(msg, "References"))
    senders = _addresses(msg, "From")
    out.sender = senders[0] if senders else None
    out.reply_to = _addresses(msg, "Reply-To")
    out.to = _addresses(msg, "To")
    out.cc = _addresses(msg, "Cc")
    out.subject = clean_line(header(msg, "Subject"))
    try:
        date = header(msg, "Date")
        out.date = parsedate_to_datetime(date) if date else None
    except (TypeError, ValueError, IndexError):
        out.date = None
    out.content_type = msg.get_content_type()
    walker = _Walker(out)
    walker.walk(msg)
    out.html = clean_text(walker.htmls[0]) if walker.htmls else ""
    if not walker.texts and out.html:  # HTML-only mail: a readable text version
        walker.texts.append(html_to_text(out.html))
    out.text = clean_text("\n".join(t.rstrip("\n") for t in walker.texts))
    if out.forwarded_sender is None and not out.is_report:
        out.forwarded_sender = _forwarded_inline(out.text)
    out.defects = [type(d).__name__ for d in msg.defects]
    return out


def parse_file(path: str) -> ParsedMail:
    """Read and parse a stored message (run in the parser process: only a path crosses)."""
    with open(path, "rb") as f:
        return parse_message(f.read())


def format_addresses(addresses: list[Address]) -> str:
    """Addresses as one header-like string: "Name <a@b>, c@d"."""
    return ", ".join(f"{a.name} <{a.email}>" if a.name else a.email for a in addresses)
