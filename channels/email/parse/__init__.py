"""Reading a raw message into plain values, tolerant of everything real mail gets wrong.

`BytesParser(policy=policy.default)` does the heavy lifting (RFC 2047 headers, addresses,
RFC 2231 parameters). What it leaves to us (STACK_NOTES): unknown charsets raise LookupError in
`get_content()`, so bodies are decoded here with fallbacks; 8-bit bytes in headers come back as
surrogate escapes; a bad From header is a defect, not an exception; `iter_attachments()` skips
some inline text parts, so the parts are walked by hand.

The parts: headers.py (header and text decoding, addresses, message ids), walker.py
(ParsedMail, Part and the MIME walk), message.py (`parse_message`, `parse_file`, forwarded
mail). Constants are read where they are defined: patch them there, not on this package.
"""

from deskql.channels.email.parse.headers import (
    Address,
    clean_line,
    clean_text,
    decode_bytes,
    decode_header_value,
    format_addresses,
    header,
    message_ids,
    parse_address,
)
from deskql.channels.email.parse.message import parse_file, parse_message
from deskql.channels.email.parse.walker import ParsedMail, Part, html_to_text

__all__ = [
    "Address",
    "ParsedMail",
    "Part",
    "clean_line",
    "clean_text",
    "decode_bytes",
    "decode_header_value",
    "format_addresses",
    "header",
    "html_to_text",
    "message_ids",
    "parse_address",
    "parse_file",
    "parse_message",
]
