"""Comments on tickets, and tickets registered as a record type (services.records)."""

from __future__ import annotations

from typing import Any

from deskql import models
from deskql.services import activity, records
from deskql.services.auth import Actor
from deskql.services.policies import visible_tickets
from deskql.services.tickets.common import _require_ticket


async def add_comment(
    actor: Actor, *, ticket_id: int, body: str, is_public: bool = False
) -> models.Comment:
    """Add an agent's comment to a ticket, public or private (TIC-3)."""
    from deskql.services import comments

    return await comments.add_comment(
        actor,
        type_name="Ticket",
        record_id=ticket_id,
        body=body,
        is_public=is_public,
        field="ticketId",
    )


async def _load_for_comment(actor: Actor, ticket_id: int, field_name: str) -> models.Ticket:
    return await _require_ticket(actor, ticket_id, field_name)


async def _ticket_activity(
    actor: Actor, kind: str, ticket: models.Ticket, changes: dict[str, Any], owners: Any
) -> models.Activity:
    return await activity.record_ticket(actor=actor, kind=kind, ticket=ticket, changes=changes)


def _ticket_key(pk: int) -> dict[str, Any]:
    return {"ticket_id": pk}


# Tickets take comments and followers by their own column (services.records).
records.register(
    records.RecordType(
        name="Ticket",
        kind="ticket",
        field="ticketId",
        load=_load_for_comment,
        visible=visible_tickets,
        record_activity=_ticket_activity,
        comment_key=_ticket_key,
        follow_key=_ticket_key,
    )
)
