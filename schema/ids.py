"""Global ids: base64url of "Type:pk", as Relay clients expect of `Node.id`."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from deskql.services.errors import ClientError, ErrorCode, ValidationFailed


class InvalidId(ClientError):
    """A global id that does not decode, or names another type than expected."""

    code = "INVALID_ID"


# base64.urlsafe_b64encode's alphabet, applied the way it applies it (one C call less each)
_URLSAFE = bytes.maketrans(b"+/", b"-_")


def to_global_id(type_name: str, pk: int) -> str:
    """Encode a type name and primary key as an opaque global id."""
    raw = binascii.b2a_base64(f"{type_name}:{pk}".encode(), newline=False)
    return raw.translate(_URLSAFE).decode().rstrip("=")


# Types whose keys are 64-bit (BigIntField); every other type's key is a 32-bit integer, and a
# larger number in an id cannot name a row (PostgreSQL refuses it as a query argument).
BIG_KEY_TYPES = frozenset(
    {"Activity", "Notification", "WebhookDelivery", "OutgoingEmail", "InboundMessage"}
)
MAX_KEY = 2**31 - 1


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
    if pk > MAX_KEY and type_name not in BIG_KEY_TYPES:
        raise InvalidId(f"id {global_id!r} names no {type_name}: its number is out of range")
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


# -- database ids inside Activity `changes` ----------------------------------------------

# Keys of an Activity's `changes` (and a macro run's) whose values are database ids: an int, a
# list of ints or {"old": ..., "new": ...} of them. Clients get them as global ids of the type
# named here, like every other id of the API (`public_changes`); the rows keep database ids.
ID_KEYS: dict[str, str] = {
    "account_id": "Account",
    "contact_id": "Contact",
    "contactIds": "Contact",
    "accountIds": "Account",
    "ticketIds": "Ticket",
    "agent_id": "Agent",
    "assignee_agent_id": "Agent",
    "owner_id": "Agent",
    "member_ids": "Agent",
    "team_id": "Team",
    "assignee_team_id": "Team",
    "department_id": "Department",
    "department_ids": "Department",
    "product_id": "Product",
    "product_ids": "Product",
    "from_address_id": "FromAddress",
    "template_id": "EmailTemplate",
    "templateId": "EmailTemplate",
    "macroId": "Macro",
    "attachmentId": "Attachment",
    "commentId": "Comment",
    "threadId": "Thread",
    "taskId": "Task",
    "timeEntryId": "TimeEntry",
    "ticketId": "Ticket",
    "mergedIntoId": "Ticket",
    "newTicketId": "Ticket",
    "sourceIds": "Ticket",
    "deliveryId": "WebhookDelivery",
    "redeliveryOfId": "WebhookDelivery",
    "ticket_id": "Ticket",
    "attendee_ids": "Agent",
    "contactId": "Contact",
    "accountId": "Account",
    "eventId": "Event",
    "callId": "Call",
    "category_id": "ArticleCategory",
    "parent_id": "ArticleCategory",
}
# Keys that look like ids but are not database ids (an email's Message-ID header).
NOT_ID_KEYS: frozenset[str] = frozenset({"messageId", "providerCallId", "crmId"})
_ID_LIKE = re.compile(r"(?:_id|_ids|Id|Ids)$")


def public_changes(changes: Any) -> Any:
    """`changes` as clients get them: the database ids under ID_KEYS as global ids."""
    if isinstance(changes, dict):
        return {
            key: _global_ids(value, ID_KEYS[key]) if key in ID_KEYS else public_changes(value)
            for key, value in changes.items()
        }
    if isinstance(changes, list):
        return [public_changes(value) for value in changes]
    return changes


def _global_ids(value: Any, type_name: str) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return to_global_id(type_name, value)
    if isinstance(value, list):
        return [_global_ids(item, type_name) for item in value]
    if isinstance(value, dict):
        return {
            key: _global_ids(item, type_name) if key in ("old", "new") else item
            for key, item in value.items()
        }
    return value  # null


def unmapped_id_keys(changes: Any) -> set[str]:
    """Keys of `changes` that look like ids but are in neither ID_KEYS nor NOT_ID_KEYS (the
    test suite fails on any, so a new kind of change cannot leak database ids)."""
    found: set[str] = set()
    if isinstance(changes, dict):
        for key, value in changes.items():
            if _ID_LIKE.search(key) and key not in ID_KEYS and key not in NOT_ID_KEYS:
                found.add(key)
            found |= unmapped_id_keys(value)
    elif isinstance(changes, list):
        for value in changes:
            found |= unmapped_id_keys(value)
    return found
