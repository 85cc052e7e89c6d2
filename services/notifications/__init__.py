"""The notification center (COL-1, COL-2, COL-3, TIC-13): who is told about an Activity,
the Mention rows of comments, auto-follow of assignees, and reading/marking notifications.

`notify` runs inside the transaction that writes the Activity (services.activity.record), so a
change, its history and its notifications commit together. Recipients of one activity:

- FOLLOWING: followers of the ticket, of its contact and of its account (for contact/account
  activities: followers of that contact/account);
- MENTIONED: agents named in a comment body with the markup `@[Display name](<Agent global id>)`,
  e.g. `@[Alice Smith](QWdlbnQ6Mw)` (COL-1); the display text is free, the id decides;
- ASSIGNED: the agent a ticket is assigned to, or every member of the team it is assigned to;
- OWNER: the agents a record belongs to (an article's author), named by the service that
  records the activity;
- for records of other registered types (services.records: articles, ...), FOLLOWING is the
  followers of that record (the Follow rows' subject_type/subject_id), and only agents who may
  see the record's department (the activity's) are told.

Never the agent who acted, at most one per agent per activity (the highest reason wins:
MENTIONED, then ASSIGNED, then OWNER, then FOLLOWING), never for a deactivated agent or one
who cannot see the record (services.policies), and none at all for spam tickets (TIC-7).

The parts: dispatch.py (`notify`, `notify_run`, `quiet`), recipients.py (reasons, mentions,
assignees, who may see), followers.py (followers read once per transaction), writing.py (the
rows, per database), reading.py (listing and marking read). Constants are read where they are
defined: patch them there, not on this package.
"""

from deskql.services.notifications.dispatch import notify, notify_run, quiet
from deskql.services.notifications.followers import (
    forget_followers,
    no_followers_yet,
    read_followers,
)
from deskql.services.notifications.reading import (
    get_notification,
    list_notifications,
    mark_all_read,
    mark_read,
    notification_ids_after,
    unread_count,
)
from deskql.services.notifications.recipients import auto_follow_assignee, mentioned_agent_ids
from deskql.services.notifications.writing import Written

__all__ = [
    "Written",
    "auto_follow_assignee",
    "forget_followers",
    "get_notification",
    "list_notifications",
    "mark_all_read",
    "mark_read",
    "mentioned_agent_ids",
    "no_followers_yet",
    "notification_ids_after",
    "notify",
    "notify_run",
    "quiet",
    "read_followers",
    "unread_count",
]
