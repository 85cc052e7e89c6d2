"""`parse_message` and `parse_file`: a raw message parsed, forwarded mail recognised."""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

from deskql.channels.email.parse.headers import (
    Address,
    _addresses,
    clean_line,
    clean_text,
    decode_header_value,
    header,
    message_ids,
    parse_address,
)
from deskql.channels.email.parse.walker import ParsedMail, _Walker, html_to_text

# Where a forwarded message's own headers start inside a body (EM-14).
_FORWARD_MARKERS = re.compile(
    r"^(?:-+ ?(?:Forwarded message|Original Message|Weitergeleitete Nachricht|Message transféré)"
    r" ?-+|Begin forwarded message:)\s*$",
    re.IGNORECASE | re.MULTILINE,
)


_FROM_LINE = re.compile(r"^\s*\*?From:\*?\s*(.+)$", re.IGNORECASE | re.MULTILINE)


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
