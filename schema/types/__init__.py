"""GraphQL object types. Leaf fields are plain attributes (sync, cheap); relations resolve
through the request's DataLoaders (`info.context.loaders`).

The parts: common.py (the enums registered with their descriptions, Node, paging helpers and
the lazy references to types of other modules), org.py (Organisation, Department, Agent, Team,
Assignee), accounts.py (Product, Account), contacts.py (Contact), conversation.py (Attachment,
Thread, Comment, ConversationItem, Activity), tickets.py (Ticket), tokens.py (ApiToken,
`convert`, CONVERTERS). Each module imports the types it names only in annotations and bodies
at its end, so that they can name one another; the enums are imported from common.py, which
registers them before use.
"""

from deskql.schema.types.accounts import Account, Product
from deskql.schema.types.common import Node
from deskql.schema.types.contacts import Contact
from deskql.schema.types.conversation import Activity, Attachment, Comment, ConversationItem, Thread
from deskql.schema.types.org import Agent, Assignee, Department, Organisation, Team
from deskql.schema.types.tickets import Ticket
from deskql.schema.types.tokens import CONVERTERS, ApiToken, convert

__all__ = [
    "Account",
    "Activity",
    "Agent",
    "ApiToken",
    "Assignee",
    "Attachment",
    "CONVERTERS",
    "Comment",
    "Contact",
    "ConversationItem",
    "Department",
    "Node",
    "Organisation",
    "Product",
    "Team",
    "Thread",
    "Ticket",
    "convert",
]
