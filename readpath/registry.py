"""Which fields the lean executor answers (planned) and which send a request to the full
executor (fallback).

Every field of the main types is named in exactly one of the two sets; tests/readpath checks
this against the schema, so a field added later fails a test until it is placed. Fallback
fields are those whose answer is not the same twice (signed links with an expiry, running
timers), those that call another system (CRM), and those whose resolvers need more of the
execution than the lean executor gives (nothing else, yet). The support types (departments,
teams, products, ratings, connections and their edges, page info) are answered whole.
"""

from __future__ import annotations

# The root fields a lean request may select.
ROOTS = frozenset(
    {
        "tickets",
        "ticket",
        "contacts",
        "contact",
        "accounts",
        "account",
        "agents",
        "agent",
        "me",
        "node",
        "nodes",
        "departments",
        "department",
        "teams",
        "team",
        "products",
        "product",
        "search",
        "searchSuggest",
    }
)

# type -> (planned fields, fallback fields)
MAIN: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "Ticket": (
        frozenset(
            "id number subject description status priority channel isSpam version dueAt "
            "createdAt updatedAt closedAt isOverdue department contact account product "
            "assignee tags comments threads conversation rating mergedInto mergedTickets "
            "splitFrom splitTickets followers tasks events calls activities".split()
        ),
        frozenset("printUrl attachments activityHistory timeEntries timeSummary".split()),
    ),
    "Contact": (
        frozenset(
            "id firstName lastName name email secondaryEmail phone mobile description "
            "createdAt updatedAt account owner tickets products followers overview "
            "comments tasks events calls activities".split()
        ),
        frozenset("helpCenterAccess timeline attachments crm".split()),
    ),
    "Account": (
        frozenset(
            "id name email phone website description createdAt updatedAt owner contacts "
            "tickets products followers overview comments tasks events calls activities".split()
        ),
        frozenset("attachments crm".split()),
    ),
    "Agent": (
        frozenset(
            "id firstName lastName name avatarUrl fullProfile email role isActive about "
            "hobbies canManageMacros extension phoneNumber createdAt departments teams "
            "notifications".split()
        ),
        frozenset("hourlyRateCents timers openActivities following".split()),
    ),
    "Thread": (
        frozenset(
            "id direction channel isPublic fromAddress to cc subject bodyText messageId "
            "createdAt bodyHtml deliveryStatus".split()
        ),
        frozenset({"originalContent"}),
    ),
    "Comment": (
        frozenset(
            "id body isPublic createdAt updatedAt subjectType subjectId author ticket".split()
        ),
        frozenset(),
    ),
    "Activity": (
        frozenset("id kind subjectType changes createdAt ticketStatus subjectId actor".split()),
        frozenset(),
    ),
    "Notification": (
        frozenset(
            "id reason createdAt readAt isRead cursor activity ticket contact account".split()
        ),
        frozenset(),
    ),
}

# Answered whole (all their fields), except the fallback fields named.
SUPPORT: dict[str, frozenset[str]] = {
    "Department": frozenset(),
    "Team": frozenset(),
    "Product": frozenset(),
    "TicketRating": frozenset(),
    "PageInfo": frozenset(),
    "CustomerOverview": frozenset(),
    # Activities linked to tickets, contacts and accounts (issue 9).
    "Task": frozenset(),
    "Event": frozenset(),
    "Call": frozenset(),
    # A ticket's conversation: threads and comments (main types) in one list.
    "ConversationItemConnection": frozenset(),
    "ConversationItemEdge": frozenset(),
    # Search (issue 14): hits (their nodes are main types), counts and facets.
    "SearchConnection": frozenset(),
    "SearchHit": frozenset(),
    "SearchModuleCount": frozenset(),
    "SearchFacet": frozenset(),
    "SearchFacetValue": frozenset(),
    # Knowledge-base articles are search hits too: their own fields are answered lean, their
    # relations and per-agent fields by the full executor.
    "Article": frozenset(
        "oldPermalinks tags category author comments activities following".split()
    ),
}

_NODE_LISTS = ("Connection", "Edge")


def _support(type_name: str) -> frozenset[str] | None:
    if type_name in SUPPORT:
        return SUPPORT[type_name]
    for suffix in _NODE_LISTS:
        if type_name.endswith(suffix):
            inner = type_name[: -len(suffix)]
            if inner in MAIN or inner in SUPPORT:
                return frozenset()
    return None


def planned(type_name: str, field_name: str) -> bool:
    """Whether the lean executor answers this field of this type."""
    if type_name == "Query":
        return field_name in ROOTS
    main = MAIN.get(type_name)
    if main is not None:
        return field_name in main[0]
    fallback = _support(type_name)
    return fallback is not None and field_name not in fallback
