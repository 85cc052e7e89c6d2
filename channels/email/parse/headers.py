"""Header and text decoding: clean lines and text, encoded words, charsets, addresses, ids."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses

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


@dataclass(frozen=True)
class Address:
    """A mailbox: display name and lower-cased address."""

    name: str
    email: str


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


def format_addresses(addresses: list[Address]) -> str:
    """Addresses as one header-like string: "Name <a@b>, c@d"."""
    return ", ".join(f"{a.name} <{a.email}>" if a.name else a.email for a in addresses)
