"""Which changes make which webhook events, and queueing their deliveries.

`enqueue` is called by services.activity for every Activity row it writes, inside the
transaction of the change: the change and its deliveries commit together or not at all, and
every service's changes are covered without each service knowing about webhooks.

Activity kinds -> event names:
- ticket.created -> ticket.created (and ticket.assigned when created with an assignee)
- ticket.updated, ticket.macro_applied, ticket.tag_added/removed -> ticket.updated (and
  ticket.assigned when the assignee agent or team changed)
- ticket.thread_added -> thread.added; ticket.comment_added -> comment.added
- contact.created -> contact.created; contact.updated -> contact.updated
- ticket.rated (a customer rated a closed ticket, or changed the rating) -> ticket.rated, whose
  body also carries the rating (`data.rating`: id, value, comment, contactId)

A delivery's body is built once, here: {id, type, createdAt, data}; ids in it are the API's
global ids (schema.ids is a leaf module: it imports only services.errors).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from deskql import models
from deskql.models.webhooks import DeliveryStatus
from deskql.schema.ids import public_changes, to_global_id
from deskql.services import uow

TICKET_CREATED = "ticket.created"
TICKET_UPDATED = "ticket.updated"
TICKET_ASSIGNED = "ticket.assigned"
THREAD_ADDED = "thread.added"
COMMENT_ADDED = "comment.added"
CONTACT_CREATED = "contact.created"
CONTACT_UPDATED = "contact.updated"
TICKET_RATED = "ticket.rated"
PING = "ping"

# Every event a webhook may subscribe to, in the order the API lists them.
EVENTS: tuple[str, ...] = (
    TICKET_CREATED,
    TICKET_UPDATED,
    TICKET_ASSIGNED,
    THREAD_ADDED,
    COMMENT_ADDED,
    CONTACT_CREATED,
    CONTACT_UPDATED,
    TICKET_RATED,
)
_BY_KIND: dict[str, tuple[str, ...]] = {
    "ticket.created": (TICKET_CREATED,),
    "ticket.updated": (TICKET_UPDATED,),
    "ticket.macro_applied": (TICKET_UPDATED,),
    "ticket.tag_added": (TICKET_UPDATED,),
    "ticket.tag_removed": (TICKET_UPDATED,),
    "ticket.thread_added": (THREAD_ADDED,),
    "ticket.comment_added": (COMMENT_ADDED,),
    "contact.created": (CONTACT_CREATED,),
    "contact.updated": (CONTACT_UPDATED,),
    "ticket.rated": (TICKET_RATED,),
}
_ASSIGNEE_KEYS = ("assignee_agent_id", "assignee_team_id")
_MEMO_KEY = ("webhooks", "active")

# Set by services.webhooks.delivery: wakes this process's workers (after the commit).
_wake: list[Any] = []


def event_names(row: models.Activity, ticket: models.Ticket | None = None) -> list[str]:
    """The webhook events an Activity row makes (none for most kinds)."""
    names = list(_BY_KIND.get(row.kind, ()))
    if not names:
        return names
    changes = row.changes or {}
    if row.kind == "ticket.created":
        if ticket is not None and (ticket.assignee_agent_id or ticket.assignee_team_id):  # type: ignore[attr-defined]
            names.append(TICKET_ASSIGNED)
    elif row.kind.startswith("ticket.") and any(key in changes for key in _ASSIGNEE_KEYS):
        names.append(TICKET_ASSIGNED)
    return names


def forget_active() -> None:
    """Drop this transaction's memo of the active webhooks (after changing one)."""
    memo = uow.memo()
    if memo is not None:
        memo.pop(_MEMO_KEY, None)


async def _active() -> list[tuple[int, frozenset[str]]]:
    """(id, events) of the active webhooks; read once per transaction."""
    memo = uow.memo()
    if memo is not None and _MEMO_KEY in memo:
        return memo[_MEMO_KEY]  # type: ignore[no-any-return]
    rows = await models.Webhook.filter(is_active=True).values_list("id", "events")
    found = [(pk, frozenset(events or ())) for pk, events in rows]
    if memo is not None:
        memo[_MEMO_KEY] = found
    return found


def _gid(type_name: str, pk: int | None) -> str | None:
    return to_global_id(type_name, pk) if pk else None


def ticket_data(ticket: models.Ticket) -> dict[str, Any]:
    """A ticket as webhook bodies show it."""
    return {
        "id": to_global_id("Ticket", ticket.id),
        "number": ticket.number,
        "subject": ticket.subject,
        "status": ticket.status.name,
        "priority": ticket.priority.name,
        "channel": ticket.channel.name,
        "departmentId": _gid("Department", ticket.department_id),  # type: ignore[attr-defined]
        "contactId": _gid("Contact", ticket.contact_id),  # type: ignore[attr-defined]
        "accountId": _gid("Account", ticket.account_id),  # type: ignore[attr-defined]
        "assigneeAgentId": _gid("Agent", ticket.assignee_agent_id),  # type: ignore[attr-defined]
        "assigneeTeamId": _gid("Team", ticket.assignee_team_id),  # type: ignore[attr-defined]
        "dueAt": ticket.due_at.isoformat() if ticket.due_at else None,
        "isSpam": ticket.is_spam,
        "createdAt": ticket.created_at.isoformat() if ticket.created_at else None,
        "updatedAt": ticket.updated_at.isoformat() if ticket.updated_at else None,
    }


def contact_data(contact: models.Contact) -> dict[str, Any]:
    """A contact as webhook bodies show it."""
    return {
        "id": to_global_id("Contact", contact.id),
        "firstName": contact.first_name,
        "lastName": contact.last_name,
        "email": contact.email,
        "phone": contact.phone,
        "accountId": _gid("Account", contact.account_id),  # type: ignore[attr-defined]
        "createdAt": contact.created_at.isoformat() if contact.created_at else None,
        "updatedAt": contact.updated_at.isoformat() if contact.updated_at else None,
    }


def rating_data(rating: models.TicketRating) -> dict[str, Any]:
    """A ticket's rating as webhook bodies show it."""
    return {
        "id": to_global_id("TicketRating", rating.id),
        "value": rating.value.name,
        "comment": rating.comment or None,
        "contactId": _gid("Contact", rating.contact_id),  # type: ignore[attr-defined]
        "createdAt": rating.created_at.isoformat() if rating.created_at else None,
        "updatedAt": rating.updated_at.isoformat() if rating.updated_at else None,
    }


def body(event: str, event_id: str, data: dict[str, Any], at: datetime | None = None) -> str:
    """The JSON body of a delivery."""
    created = (at or datetime.now(UTC)).isoformat()
    return orjson.dumps(
        {"id": event_id, "type": event, "createdAt": created, "data": data}
    ).decode()


async def enqueue(
    rows: Sequence[models.Activity], tickets: dict[int, models.Ticket] | None = None
) -> int:
    """Queue the deliveries of these Activity rows for every active webhook subscribed to
    their events; call inside the transaction that wrote them. Returns how many."""
    wanted = [(row, event_names(row, (tickets or {}).get(row.ticket_id or 0))) for row in rows]
    wanted = [(row, names) for row, names in wanted if names]
    if not wanted:
        return 0
    hooks = await _active()
    subscribed: set[str] = set().union(*(events for _, events in hooks))
    wanted = [(row, [n for n in names if n in subscribed]) for row, names in wanted]
    wanted = [(row, names) for row, names in wanted if names]
    if not wanted:
        return 0
    tickets = dict(tickets or {})
    missing = {row.ticket_id for row, _ in wanted if row.ticket_id and row.ticket_id not in tickets}
    if missing:
        tickets.update({t.id: t for t in await models.Ticket.filter(id__in=list(missing))})
    contact_ids = {row.subject_id for row, _ in wanted if row.subject_type == "Contact"}
    contacts = (
        {c.id: c for c in await models.Contact.filter(id__in=list(contact_ids))}
        if contact_ids
        else {}
    )
    rated = {row.ticket_id for row, names in wanted if TICKET_RATED in names}
    ratings = (
        {r.ticket_id: r for r in await models.TicketRating.filter(ticket_id__in=list(rated))}  # type: ignore[attr-defined]
        if rated
        else {}
    )
    now = datetime.now(UTC)
    deliveries: list[models.WebhookDelivery] = []
    for row, names in wanted:
        data: dict[str, Any] = {
            "activityId": to_global_id("Activity", row.id),
            "actorId": _gid("Agent", row.actor_id),  # type: ignore[attr-defined]
            "changes": public_changes(row.changes or {}),
        }
        ticket = tickets.get(row.ticket_id or 0)
        if ticket is not None:
            data["ticket"] = ticket_data(ticket)
        contact = contacts.get(row.subject_id) if row.subject_type == "Contact" else None
        if contact is not None:
            data["contact"] = contact_data(contact)
        rating = ratings.get(row.ticket_id or 0) if TICKET_RATED in names else None
        if rating is not None:
            data["rating"] = rating_data(rating)
        for name in names:
            event_id = str(uuid.uuid4())
            text = body(name, event_id, data, now)
            for hook_id, events in hooks:
                if name in events:
                    deliveries.append(
                        models.WebhookDelivery(
                            webhook_id=hook_id,
                            event=name,
                            event_id=event_id,
                            activity_id=row.id,
                            body=text,
                            status=DeliveryStatus.QUEUED,
                            next_attempt_at=now,
                        )
                    )
    if deliveries:
        await models.WebhookDelivery.bulk_create(deliveries)
        uow.on_commit(wake)
    return len(deliveries)


def wake() -> None:
    """Tell this process's delivery workers that something was queued."""
    for worker in list(_wake):
        worker.wake()
