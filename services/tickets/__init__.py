"""Tickets: create, update with optimistic concurrency, delete, tags and listing (TIC-1, TIC-6).

The parts: common.py (limits, `get_ticket`, merged tickets), refs.py (department, assignee and
template checks), numbers.py (ticket numbers), tags.py, writing.py (`create_ticket`,
`update_ticket`, `apply_changes`, `delete_ticket`), comments.py (comments; tickets as a record
type), listing.py (`list_tickets`, `filter_tickets`). Constants are read where they are
defined: patch them there, not on this package.
"""

from deskql.services.tickets.comments import add_comment
from deskql.services.tickets.common import (
    COMMENT_MAX,
    DESCRIPTION_MAX,
    SUBJECT_MAX,
    ensure_not_merged,
    get_ticket,
    merged_error,
)
from deskql.services.tickets.listing import (
    SORT_FIELDS,
    TicketFilter,
    filter_tickets,
    is_visible,
    list_tickets,
)
from deskql.services.tickets.numbers import NUMBERS_MEMO, give_back_numbers, take_numbers_ahead
from deskql.services.tickets.refs import (
    DEPARTMENTS_MEMO,
    Assignee,
    check_assignee,
    check_ticket_refs,
    forget_departments,
    load_assignee,
)
from deskql.services.tickets.tags import (
    MAX_TAG_LENGTH,
    MAX_TAGS_PER_TICKET,
    add_tags,
    clean_tag,
    remove_tag,
)
from deskql.services.tickets.writing import (
    UPDATABLE,
    apply_changes,
    create_ticket,
    delete_ticket,
    update_ticket,
)

__all__ = [
    "Assignee",
    "COMMENT_MAX",
    "DEPARTMENTS_MEMO",
    "DESCRIPTION_MAX",
    "MAX_TAGS_PER_TICKET",
    "MAX_TAG_LENGTH",
    "NUMBERS_MEMO",
    "SORT_FIELDS",
    "SUBJECT_MAX",
    "TicketFilter",
    "UPDATABLE",
    "add_comment",
    "add_tags",
    "apply_changes",
    "check_assignee",
    "check_ticket_refs",
    "clean_tag",
    "create_ticket",
    "delete_ticket",
    "ensure_not_merged",
    "filter_tickets",
    "forget_departments",
    "get_ticket",
    "give_back_numbers",
    "is_visible",
    "list_tickets",
    "load_assignee",
    "merged_error",
    "remove_tag",
    "take_numbers_ahead",
    "update_ticket",
]
