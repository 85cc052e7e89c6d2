"""Writing an activity's Notification rows, one statement for all its recipients: on
PostgreSQL an INSERT ... SELECT FROM unnest(...) RETURNING the ids, on SQLite a bulk insert
read back; either way only what the envelopes name (`Written`), no model per row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from tortoise.connection import get_connection

from deskql import models
from deskql.services.notifications.recipients import _Reasons


class Written(NamedTuple):
    """A notification just written: what its envelope names (realtime/envelopes.py)."""

    id: int
    agent_id: int
    activity_id: int


# PostgreSQL: one INSERT ... SELECT FROM unnest(...) that returns the ids, no model per row (a
# ticket with 10,000 followers built 10,000 per activity, a tenth of the process's CPU).
_INSERT_PG = (
    "INSERT INTO notification"
    " (agent_id, activity_id, reason, ticket_id, contact_id, account_id, created_at)"
    " SELECT t.agent_id, $2::bigint, t.reason, $4::int, $5::int, $6::int, $7::timestamptz"
    " FROM unnest($1::int[], $3::varchar[]) AS t(agent_id, reason) ORDER BY t.agent_id"
    " RETURNING id, agent_id"
)


async def _write(
    activity: models.Activity,
    reasons: _Reasons,
    allowed: set[int],
    *,
    ticket_id: int | None,
    contact_id: int | None = None,
    account_id: int | None = None,
) -> list[Written]:
    agents = sorted(allowed)
    if not agents:
        return []
    conn = get_connection("default")  # the transaction's, inside one
    if conn.capabilities.dialect == "postgres":
        reasons_of = [reasons[pk].value for pk in agents]
        values = [agents, activity.id, reasons_of, ticket_id, contact_id, account_id]
        # execute_query would run an INSERT without fetching what it RETURNS.
        inserted = await conn.execute_query_dict(_INSERT_PG, [*values, datetime.now(UTC)])
        return sorted(Written(row["id"], row["agent_id"], activity.id) for row in inserted)
    rows = [
        models.Notification(
            agent_id=pk,
            activity_id=activity.id,
            reason=reasons[pk],
            ticket_id=ticket_id,
            contact_id=contact_id,
            account_id=account_id,
        )
        for pk in agents
    ]
    await models.Notification.bulk_create(rows)
    # bulk_create does not return ids on every backend: read them back (one indexed query),
    # only what the envelopes need (10,000 model instances cost more than the query).
    written = (
        await models.Notification.filter(activity_id=activity.id)
        .order_by("id")
        .values_list(*Written._fields)
    )
    return [Written(*values) for values in written]
