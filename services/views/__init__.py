"""Ticket list views (SRC-5) and the detail views of a ticket and a contact (TIC-4, TIC-5).

A list view is criteria plus a sort. Standard views are built in (one per `StandardView`);
custom views are `models.TicketView` rows saved by an agent, private to their owner unless an
administrator shares them with everyone. Their criteria are a `services.tickets.TicketFilter`
stored as JSON (database ids, enums by name) and applied by the one filter implementation,
`services.tickets.filter_tickets`, on top of the actor's visible tickets: a view never shows
tickets of a department the actor is not in, whatever its stored criteria name.

The parts: reading.py (standard and saved views, listed, read, their tickets and counts),
criteria.py (criteria to JSON and back), saving.py (create, update, delete), details.py (a
ticket's conversation, a contact's timeline). Constants are read where they are defined: patch
them there, not on this package.
"""

from deskql.services.views.criteria import criteria_filter, criteria_json
from deskql.services.views.details import (
    ConversationItem,
    ConversationKey,
    contact_timeline,
    conversation_items,
    conversation_keys,
)
from deskql.services.views.reading import (
    OPEN_STATUSES,
    STANDARD,
    Narrowing,
    StandardView,
    View,
    ViewNotFound,
    count_views,
    get_view,
    list_views,
    saved_view,
    standard_view,
    view_tickets,
    visible_views,
)
from deskql.services.views.saving import NAME_MAX, create_view, delete_view, update_view

__all__ = [
    "ConversationItem",
    "NAME_MAX",
    "Narrowing",
    "OPEN_STATUSES",
    "STANDARD",
    "StandardView",
    "View",
    "ViewNotFound",
    "contact_timeline",
    "ConversationKey",
    "conversation_items",
    "conversation_keys",
    "count_views",
    "create_view",
    "criteria_filter",
    "criteria_json",
    "delete_view",
    "get_view",
    "list_views",
    "saved_view",
    "standard_view",
    "update_view",
    "view_tickets",
    "visible_views",
]
