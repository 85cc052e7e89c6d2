"""Opaque cursors: keyset cursors for sorted queries, offset cursors for positional lists.

A keyset cursor is `k1.` + base64url(JSON {list, sort, values}) + `.` + base64url(a 16-byte
HMAC-SHA256 of the JSON), keyed by a key derived from the deployment's secret. `list` names the
connection (`Query.tickets`, `Contact.tickets`), `sort` its ordering, `values` the row's sort
column values followed by its id. A cursor that does not decode or whose MAC does not match is
INVALID_CURSOR; one of another list or another sort is CURSOR_MISMATCH.

Offset cursors (base64 of `o:<n>`) are what every list handed out before keyset cursors; they
still page by position, so clients holding them keep working.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

import orjson

from deskql.services.errors import ClientError, ErrorCode
from deskql.settings import Settings

KEYSET_PREFIX = "k1."
MAC_BYTES = 16


class BadPagination(ClientError):
    """A page size out of range, or paging arguments a list does not support."""

    code = "BAD_PAGINATION"


class InvalidCursor(BadPagination):
    """A cursor that does not decode, or whose signature does not match (tampered)."""

    code = ErrorCode.INVALID_CURSOR.value


class CursorMismatch(BadPagination):
    """A valid cursor of another list, or of the same list under another sort."""

    code = ErrorCode.CURSOR_MISMATCH.value


@dataclass(frozen=True)
class KeysetCursor:
    """A decoded keyset cursor: the list and sort it belongs to and the row's sort values."""

    list: str
    sort: str
    values: list[Any]


_KEYS: dict[tuple[str, str], bytes] = {}


def cursor_key(settings: Settings) -> bytes:
    """The HMAC key of cursors, derived from the deployment's secret (domain-separated);
    remembered per secret so the key file under var/ is read once."""
    known = (settings.secret_key, str(settings.var_dir))
    key = _KEYS.get(known)
    if key is None:
        from deskql.services.from_addresses import secret_seed

        key = hmac.new(secret_seed(settings), b"deskql cursors v1", hashlib.sha256).digest()
        _KEYS[known] = key
    return key


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_keyset(key: bytes, list_name: str, sort: str, values: list[Any]) -> str:
    """The signed cursor of a row at `values` (sort values then id) in this list and sort."""
    body = orjson.dumps({"list": list_name, "sort": sort, "values": values})
    mac = hmac.new(key, body, hashlib.sha256).digest()[:MAC_BYTES]
    return f"{KEYSET_PREFIX}{_b64(body)}.{_b64(mac)}"


def decode_keyset(key: bytes, cursor: str) -> KeysetCursor:
    """The cursor's content; InvalidCursor when it does not decode or was altered."""
    try:
        body_text, _, mac_text = cursor[len(KEYSET_PREFIX) :].partition(".")
        body, mac = _unb64(body_text), _unb64(mac_text)
    except (ValueError, binascii.Error):
        raise InvalidCursor(f"malformed cursor {cursor[:60]!r}") from None
    expected = hmac.new(key, body, hashlib.sha256).digest()[:MAC_BYTES]
    if not hmac.compare_digest(mac, expected):
        raise InvalidCursor("the cursor was altered or was not issued by this server")
    try:
        data = orjson.loads(body)
        cursor_obj = KeysetCursor(str(data["list"]), str(data["sort"]), list(data["values"]))
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise InvalidCursor(f"malformed cursor {cursor[:60]!r}") from None
    return cursor_obj


def keyset_values(
    key: bytes,
    cursor: str,
    list_name: str,
    sort: str,
    other_sort: str = "this cursor belongs to another sort of this list",
) -> list[Any]:
    """The values of a keyset cursor of this list and sort: InvalidCursor when it does not
    decode or was altered, CursorMismatch (`other_sort` says why) for another list's or sort's."""
    found = decode_keyset(key, cursor)
    if found.list != list_name:
        raise CursorMismatch(f"this cursor belongs to {found.list}, not {list_name}")
    if found.sort != sort:
        raise CursorMismatch(other_sort)
    return found.values


def is_keyset(cursor: str) -> bool:
    """Whether this is a keyset cursor (else an offset cursor, or garbage)."""
    return cursor.startswith(KEYSET_PREFIX)


def encode_cursor(offset: int) -> str:
    """Opaque offset cursor for a position."""
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The position an offset cursor names; InvalidCursor when it does not decode."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
        prefix, _, value = raw.partition(":")
        offset = int(value)
        if prefix != "o" or offset < 0:
            raise ValueError
        return offset
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidCursor(f"malformed cursor {cursor[:60]!r}") from None
