"""Following, notifications, activity history and the three subscriptions: decode ids, call
services.follows / services.notifications / realtime.streams, build GraphQL objects.

The parts: follows.py (following), notifications.py (notifications and activity history),
subscriptions.py (the three subscriptions).
"""

from deskql.resolvers.realtime.follows import (
    account_follow,
    contact_follow,
    followed,
    followers,
    following,
    ticket_follow,
)
from deskql.resolvers.realtime.notifications import (
    activities,
    decode_notification_cursor,
    mark_all_read,
    mark_read,
    notification_cursor,
    notifications,
    to_notification,
    to_notifications,
    unread_count,
)
from deskql.resolvers.realtime.subscriptions import (
    T,
    coded,
    dashboard_updates,
    notification_created,
    ticket_updates,
)

__all__ = [
    "T",
    "account_follow",
    "activities",
    "coded",
    "contact_follow",
    "dashboard_updates",
    "decode_notification_cursor",
    "followed",
    "followers",
    "following",
    "mark_all_read",
    "mark_read",
    "notification_created",
    "notification_cursor",
    "notifications",
    "ticket_follow",
    "ticket_updates",
    "to_notification",
    "to_notifications",
    "unread_count",
]
