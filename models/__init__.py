"""Tortoise models, one module per concept. Import as `import models` and use `models.Ticket`."""

from models.activity import Activity
from models.customers import Account, AccountProduct, Contact, ContactProduct, Product
from models.email import BlockedSender, EmailSettings, InboundMessage, SupportAddress
from models.enums import (
    Channel,
    Edition,
    InboundStatus,
    NotificationReason,
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
from models.outbound import (
    Draft,
    EmailTemplate,
    FromAddress,
    OutboxMessage,
    OutboxStatus,
    SmtpSecurity,
    TemplateFolder,
    TicketTemplate,
)
from models.realtime import Follow, Mention, Notification
from models.security import ThrottleBucket
from models.tickets import Attachment, Comment, Tag, Thread, Ticket, TicketTag
from models.workflows import (
    Macro,
    Task,
    TicketView,
    TimeEntry,
    TimeEntrySource,
    Timer,
    TimerState,
)

MODEL_MODULES = [
    "models.organisation",
    "models.customers",
    "models.tickets",
    "models.activity",
    "models.realtime",
    "models.email",
    "models.outbound",
    "models.workflows",
    "models.security",
]

__all__ = [
    "ThrottleBucket",
    "Macro",
    "Task",
    "TicketView",
    "TimeEntry",
    "TimeEntrySource",
    "Timer",
    "TimerState",
    "Draft",
    "EmailTemplate",
    "FromAddress",
    "OutboxMessage",
    "OutboxStatus",
    "SmtpSecurity",
    "TemplateFolder",
    "TicketTemplate",
    "Notification",
    "Mention",
    "Follow",
    "NotificationReason",
    "InboundStatus",
    "SupportAddress",
    "InboundMessage",
    "EmailSettings",
    "BlockedSender",
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
