"""Tortoise models, one module per concept. Import as `import models` and use `models.Ticket`."""

from models.activity import Activity
from models.customers import Account, AccountProduct, Contact, ContactProduct, Product
from models.enums import (
    Channel,
    Edition,
    Role,
    ThreadDirection,
    TicketPriority,
    TicketStatus,
    TokenKind,
)
from models.organisation import (
    Agent,
    ApiToken,
    Department,
    DepartmentMembership,
    Organisation,
    Team,
    TeamMembership,
)
from models.tickets import Attachment, Comment, Tag, Thread, Ticket, TicketTag

MODEL_MODULES = [
    "models.organisation",
    "models.customers",
    "models.tickets",
    "models.activity",
]

__all__ = [
    "MODEL_MODULES",
    "Account",
    "AccountProduct",
    "Activity",
    "Agent",
    "ApiToken",
    "Attachment",
    "Channel",
    "Comment",
    "Contact",
    "ContactProduct",
    "Department",
    "DepartmentMembership",
    "Edition",
    "Organisation",
    "Product",
    "Role",
    "Tag",
    "Team",
    "TeamMembership",
    "Thread",
    "ThreadDirection",
    "Ticket",
    "TicketPriority",
    "TicketStatus",
    "TicketTag",
    "TokenKind",
]
