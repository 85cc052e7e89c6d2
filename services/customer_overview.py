"""The overview of contacts and accounts (CUS-4), the attachments of their tickets (CUS-3), and
each ticket's status at the time of an activity (the customer's history).

Overviews of any number of records come from one statement, whatever their number (a page of
100 contacts costs the same one): tickets counted by record and status, with the overdue ones,
those awaiting an agent's reply and the latest message of each (two lookups per ticket on the
thread(ticket_id, id) index). Only the tickets the actor may see count (ORG-5); spam is left
out.

Definitions:
- open (awaiting an agent's reply): not closed, not on hold, and the latest message of its
  conversation came from the customer (or it has none yet);
- overdue: not closed and past its due date;
- last contacted: the latest message, either way, in the record's tickets;
- average rating: the customers' ratings of those tickets (TIC-5) on a 1-3 scale, BAD = 1,
  OKAY = 2, GOOD = 3 (a ticket has at most one rating: the join adds no rows).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tortoise.connection import get_connection
from tortoise.queryset import QuerySet

from deskql import models
from deskql.services.auth import Actor
from deskql.services.policies import visible

KEYS = {"contact": "contact_id", "account": "account_id"}


@dataclass
class Overview:
    """Ticket counts of one contact or account, as the actor may see them."""

    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    awaiting_reply: int = 0
    overdue: int = 0
    last_contacted_at: datetime | None = None
    rating_count: int = 0
    rating_sum: int = 0

    @property
    def average_rating(self) -> float | None:
        """The mean rating on the 1-3 scale, or None without ratings."""
        return round(self.rating_sum / self.rating_count, 2) if self.rating_count else None


def _when(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def overviews(actor: Actor, *, kind: str, ids: Sequence[int]) -> dict[int, Overview]:
    """The overview of each record (kind "contact" or "account"), in one statement."""
    key = KEYS[kind]
    wanted = sorted({int(pk) for pk in ids})
    out = {pk: Overview() for pk in wanted}
    if not wanted:
        return out
    conn = get_connection("default")
    # "now" as the driver takes a due date (a datetime for asyncpg, Tortoise's text for SQLite).
    now = models.Ticket._meta.fields_map["due_at"].to_db_value(datetime.now(UTC), models.Ticket)
    mark = "$1" if conn.capabilities.dialect == "postgres" else "?"
    departments = ""
    if not actor.is_admin:
        allowed = ", ".join(str(int(d)) for d in sorted(actor.department_ids)) or "NULL"
        departments = f" AND t.department_id IN ({allowed})"
    # The ids are integers from the database and the actor: inlined, no user text in the SQL.
    # Per ticket, two lookups on thread(ticket_id, id): its latest message's direction (does
    # it await an agent's reply?) and time (when was the customer last contacted?).
    sql = (
        f"SELECT t.{key} AS owner, t.status AS status, COUNT(*) AS n, "
        f"SUM(CASE WHEN t.due_at < {mark} AND t.status <> 'CLOSED' THEN 1 ELSE 0 END) AS late, "
        "SUM(CASE WHEN t.status IN ('OPEN', 'ESCALATED') AND COALESCE((SELECT th.direction "
        "FROM thread th WHERE th.ticket_id = t.id ORDER BY th.id DESC LIMIT 1), 'INCOMING') "
        "<> 'OUTGOING' THEN 1 ELSE 0 END) AS awaiting, "
        "MAX((SELECT MAX(th.created_at) FROM thread th WHERE th.ticket_id = t.id)) AS last_at, "
        "COUNT(r.id) AS rated, SUM(CASE r.value WHEN 'GOOD' THEN 3 WHEN 'OKAY' THEN 2 "
        "WHEN 'BAD' THEN 1 ELSE 0 END) AS rating_sum "
        "FROM ticket t LEFT JOIN ticket_rating r ON r.ticket_id = t.id "
        f"WHERE t.{key} IN ({', '.join(str(pk) for pk in wanted)}) "
        f"AND t.is_spam = false{departments} GROUP BY t.{key}, t.status"
    )
    _, rows = await conn.execute_query(sql, [now])
    for row in rows:
        item = out[int(row["owner"])]
        count = int(row["n"])
        item.by_status[str(row["status"])] = count
        item.total += count
        item.overdue += int(row["late"] or 0)
        item.awaiting_reply += int(row["awaiting"] or 0)
        item.rating_count += int(row["rated"] or 0)
        item.rating_sum += int(row["rating_sum"] or 0)
        last = _when(row["last_at"])
        if last is not None and (item.last_contacted_at is None or last > item.last_contacted_at):
            item.last_contacted_at = last
    return out


def attachments(actor: Actor, *, kind: str, owner_id: int) -> QuerySet[models.Attachment]:
    """The attachments of a contact's or account's tickets the actor may see (threads and
    comments alike), newest first (CUS-3)."""
    return (
        visible(actor, models.Attachment)
        .filter(**{f"ticket__{KEYS[kind]}": owner_id})
        .order_by("-id")
    )


async def ticket_status_at(activity_ids: Sequence[tuple[int, int]]) -> dict[int, str]:
    """Each ticket's status right after each activity ((activity id, ticket id) pairs): the
    ticket's status changes replayed from its history."""
    if not activity_ids:
        return {}
    ticket_ids = sorted({t for _, t in activity_ids})
    changes = (
        await models.Activity.filter(ticket_id__in=ticket_ids)
        .order_by("id")
        .values_list("id", "ticket_id", "changes")
    )
    current = dict(await models.Ticket.filter(id__in=ticket_ids).values_list("id", "status"))
    history: dict[int, list[tuple[int, str, str]]] = defaultdict(list)  # (id, old, new)
    for pk, ticket_id, body in changes:
        status = (body or {}).get("status") if isinstance(body, dict) else None
        if isinstance(status, dict) and "new" in status:
            history[ticket_id].append((pk, str(status.get("old")), str(status["new"])))
    out: dict[int, str] = {}
    for activity_id, ticket_id in activity_ids:
        steps = history.get(ticket_id, [])
        before = [s for s in steps if s[0] <= activity_id]
        if before:
            out[activity_id] = before[-1][2]
        elif steps:
            out[activity_id] = steps[0][1]  # the status before the first change
        elif ticket_id in current:
            out[activity_id] = str(getattr(current[ticket_id], "value", current[ticket_id]))
    return out
