"""Macros (AUT-1): named, ordered lists of typed actions an agent applies to tickets of one
department, and `apply_macro`, which applies one to many tickets.

Applying is set-based so that a run over 1,000 tickets costs a few dozen statements, not
thousands: the tickets are locked and read with their tags in a few queries, every ticket's
changes are planned in memory (a ticket whose plan fails, e.g. over the 10-tag limit, is left
out before anything is written), and the rest is written with grouped UPDATEs and bulk INSERTs,
one `ticket.macro_applied` Activity per ticket. Each ticket is all-or-nothing: when a bulk write
fails, the run falls back to one savepoint per ticket. A macro that sends email goes ticket by
ticket (each in its own savepoint) through the reply path (services.replies), so a ticket's
thread and outbox row commit with its changes or not at all.

Notifications are batched per run: the per-ticket Activity rows are the history and notify
nobody; one `macro.applied` summary Activity per run is fanned out, so an agent who follows
many of the tickets gets one notification for the run (services.notifications.notify_run).

The parts: actions.py (ActionType and `clean_actions`), manage.py (listing, reading, creating,
updating and deleting macros), plan.py (a run planned in memory), write.py (the planned changes
written in bulk, email sent ticket by ticket), apply.py (`apply_macro`). Constants are read where
they are defined: patch them there, not on this package.
"""

from deskql.services.macros.actions import (
    FIELDS,
    MAX_ACTIONS,
    TASK_TITLE_MAX,
    ActionType,
    clean_actions,
    parse_offset,
)
from deskql.services.macros.apply import MAX_TICKETS, RUN, apply_macro
from deskql.services.macros.manage import (
    DESCRIPTION_MAX,
    NAME_MAX,
    can_manage,
    create_macro,
    delete_macro,
    get_macro,
    list_macros,
    update_macro,
)
from deskql.services.macros.plan import ApplyResult, TicketResult
from deskql.services.macros.write import APPLIED

__all__ = [
    "APPLIED",
    "ActionType",
    "ApplyResult",
    "DESCRIPTION_MAX",
    "FIELDS",
    "MAX_ACTIONS",
    "MAX_TICKETS",
    "NAME_MAX",
    "RUN",
    "TASK_TITLE_MAX",
    "TicketResult",
    "apply_macro",
    "can_manage",
    "clean_actions",
    "create_macro",
    "delete_macro",
    "get_macro",
    "list_macros",
    "parse_offset",
    "update_macro",
]
