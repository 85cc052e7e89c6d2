"""The three live streams behind the GraphQL subscriptions, as plain async generators of rows.

Every stream subscribes to the hub FIRST and only then reads what it must replay from the
tables, so nothing committed in between is missed; it dedupes by row id at the seam. For every
event it re-loads the Actor from the connection's token (on a short cache) and re-checks access:
a revoked token, a deactivated agent or a lost department membership ends the stream with an
AccessLost error. Envelopes are only hints: rows are always re-read.

The parts: actors.py (the token's Actor on a short cache), common.py (errors, delivered ids,
batches of envelopes), notifications.py, tickets.py and dashboard.py (one stream each).
Tunables (ACTOR_TTL, SEEN_MAX, ...) and the functions a stream calls are looked up in the
module that defines them: patch them there (e.g. deskql.realtime.streams.actors.ACTOR_TTL,
deskql.realtime.streams.dashboard.dashboard_counts), not on this package.
"""

from deskql.realtime.streams.actors import (
    cached_actor,
    connection_token,
    forget_actor,
    reload_actor,
    reload_actors,
)
from deskql.realtime.streams.common import AccessLost, NotFound, close_slow_consumer
from deskql.realtime.streams.dashboard import dashboard_counts, dashboard_stream
from deskql.realtime.streams.notifications import notification_stream
from deskql.realtime.streams.tickets import TicketSend, ticket_stream

__all__ = [
    "AccessLost",
    "NotFound",
    "TicketSend",
    "cached_actor",
    "close_slow_consumer",
    "connection_token",
    "dashboard_counts",
    "dashboard_stream",
    "forget_actor",
    "notification_stream",
    "reload_actor",
    "reload_actors",
    "ticket_stream",
]
