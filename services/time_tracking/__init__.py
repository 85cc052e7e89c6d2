"""Time tracking (TIM-1, TIM-2): an agent's timers on tickets and tasks, and time entries with
their cost.

A timer's elapsed time is computed from stored times (accumulated seconds, plus now minus
`running_since` while it runs), never from an in-memory clock, so it survives a restart and
reads the same from every process. An agent has at most one RUNNING timer: starting or
resuming one pauses the other. Stopping a timer turns it into a TIMER time entry and deletes
it. Cost: billable seconds / 3600 * the agent's hourly rate (else the organisation's default),
fixed when the entry is made; non-billable entries cost nothing.

Every change records an Activity row: `timer.*` rows for timers (no notifications: they are
the agent's own bookkeeping) and `ticket.time_logged` / `ticket.time_entry_updated` /
`ticket.time_entry_deleted` on the ticket for entries (a task's entry goes on the task's
ticket, or on the task when it has none).

The parts: common.py (clocks, costs, rates, the record timed), timers.py, entries.py (one kind
of record each), summaries.py (per-ticket sums). Constants are read where they are defined:
patch them there, not on this package.
"""

from deskql.services.time_tracking.common import (
    NOTE_MAX,
    UNCHANGED,
    cost_cents,
    elapsed_seconds,
    hourly_rate_cents,
)
from deskql.services.time_tracking.entries import (
    MAX_ENTRY_SECONDS,
    create_entry,
    delete_entry,
    ticket_entries,
    update_entry,
)
from deskql.services.time_tracking.summaries import TimeSummary, ticket_summaries
from deskql.services.time_tracking.timers import (
    list_timers,
    pause_timer,
    resume_timer,
    start_timer,
    stop_timer,
)

__all__ = [
    "MAX_ENTRY_SECONDS",
    "NOTE_MAX",
    "TimeSummary",
    "UNCHANGED",
    "cost_cents",
    "create_entry",
    "delete_entry",
    "elapsed_seconds",
    "hourly_rate_cents",
    "list_timers",
    "pause_timer",
    "resume_timer",
    "start_timer",
    "stop_timer",
    "ticket_entries",
    "ticket_summaries",
    "update_entry",
]
