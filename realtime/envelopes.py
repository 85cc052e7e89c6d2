"""The small JSON envelopes published after commit: `{type, id, ...}` and nothing else.

Subscribers never trust an envelope's content beyond its ids: they re-read the rows and
re-check access for every event (DESIGN rule 4, STACK_NOTES broadcaster).
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from deskql import models

ACTIVITY = "activity"
NOTIFICATION = "notification"
# A local marker, never published: the backend reconnected and events may have been missed.
RESYNC = "resync"


def activity(row: models.Activity) -> dict[str, Any]:
    """Envelope announcing an Activity row."""
    return {
        "type": ACTIVITY,
        "id": row.id,
        "ticket": row.ticket_id,
        "department": row.department_id,
    }


class NotificationRef(Protocol):
    """What a notification envelope names: a Notification row, or services.notifications'
    `Written` (the ids read back after writing)."""

    @property
    def id(self) -> int: ...
    @property
    def agent_id(self) -> int: ...
    @property
    def activity_id(self) -> int: ...


def notification(row: models.Notification | NotificationRef) -> dict[str, Any]:
    """Envelope announcing a Notification row to its agent."""
    return {
        "type": NOTIFICATION,
        "id": row.id,
        "agent": row.agent_id,  # type: ignore[attr-defined]
        "activity": row.activity_id,  # type: ignore[attr-defined]
    }


def encode(message: dict[str, Any]) -> str:
    """The JSON text of an envelope."""
    return orjson.dumps(message).decode()


def decode(text: str | bytes | dict[str, Any]) -> dict[str, Any] | None:
    """An envelope from JSON text; None when it is not one of ours."""
    if isinstance(text, dict):
        value: Any = text
    else:
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            return None
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        return None
    return value
