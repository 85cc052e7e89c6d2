"""Task, event and call resolvers: decode ids, call services.activities, build payloads.

The parts: common.py (rows to types, inputs to changes), tasks.py, events.py, calls.py (one
kind of activity each), timeline.py (a record's comments and open activities).
"""

from deskql.resolvers.activities.calls import (
    agent_telephony_update,
    call_create,
    call_delete,
    call_dial,
    call_list,
    call_update,
)
from deskql.resolvers.activities.events import (
    attendees,
    event_create,
    event_delete,
    event_list,
    event_update,
)
from deskql.resolvers.activities.tasks import (
    task_complete,
    task_create,
    task_delete,
    task_list,
    task_query,
    task_update,
)
from deskql.resolvers.activities.timeline import open_activities, record_comments

__all__ = [
    "agent_telephony_update",
    "attendees",
    "call_create",
    "call_delete",
    "call_dial",
    "call_list",
    "call_update",
    "event_create",
    "event_delete",
    "event_list",
    "event_update",
    "open_activities",
    "record_comments",
    "task_complete",
    "task_create",
    "task_delete",
    "task_list",
    "task_query",
    "task_update",
]
