"""Global ids: base64url of "Type:pk", as Relay clients expect of `Node.id`."""

from __future__ import annotations

import base64
import binascii

from services.errors import ClientError, ErrorCode, ValidationFailed


class InvalidId(ClientError):
    """A global id that does not decode, or names another type than expected."""

    code = "INVALID_ID"


def to_global_id(type_name: str, pk: int) -> str:
    """Encode a type name and primary key as an opaque global id."""
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def from_global_id(global_id: str) -> tuple[str, int]:
    """Decode a global id into (type name, pk); raises InvalidId when malformed."""
    if not isinstance(global_id, str) or not 2 <= len(global_id) <= 100:
        raise InvalidId(f"malformed id {str(global_id)[:100]!r}")
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
        type_name, _, pk_text = raw.partition(":")
        pk = int(pk_text)
    except (ValueError, binascii.Error, UnicodeError):
        raise InvalidId(f"malformed id {global_id!r}") from None
    if not type_name or not pk_text.isdigit() or pk <= 0 or pk > 2**62:
        raise InvalidId(f"malformed id {global_id!r}")
    return type_name, pk


def decode_id(global_id: str, expected: str) -> int:
    """The pk of a global id of the expected type; raises InvalidId otherwise."""
    type_name, pk = from_global_id(global_id)
    if type_name != expected:
        raise InvalidId(f"id {global_id!r} is a {type_name} id; expected a {expected} id")
    return pk


def input_id(global_id: str, expected: str, field: str) -> int:
    """Like decode_id, for mutation inputs: the failure is a field error in the payload."""
    try:
        return decode_id(global_id, expected)
    except InvalidId as exc:
        raise ValidationFailed.one(field, str(exc), ErrorCode.INVALID) from None


def optional_input_id(global_id: str | None, expected: str, field: str) -> int | None:
    """input_id for an optional input: None stays None."""
    return None if global_id is None else input_id(global_id, expected, field)


def input_ids(global_ids: list[str], expected: str, field: str) -> list[int]:
    """input_id for a list of ids."""
    return [input_id(g, expected, field) for g in global_ids]
