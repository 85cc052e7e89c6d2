"""Enumerations stored in the database and exposed in GraphQL."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Edition(StrEnum):
    """Organisation edition; it sets limits such as the number of support addresses."""

    FREE = "FREE"
    STANDARD = "STANDARD"
    PROFESSIONAL = "PROFESSIONAL"
    ENTERPRISE = "ENTERPRISE"


class Role(StrEnum):
    """What an agent may do: administrators see and manage everything."""

    ADMINISTRATOR = "ADMINISTRATOR"
    AGENT = "AGENT"


class TicketStatus(StrEnum):
    """Lifecycle state of a ticket."""

    OPEN = "OPEN"
    ON_HOLD = "ON_HOLD"
    ESCALATED = "ESCALATED"
    CLOSED = "CLOSED"


class TicketPriority(IntEnum):
    """Ticket priority; stored as a number so that sorting follows urgency."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    URGENT = 4


class Channel(StrEnum):
    """How a ticket reached the help desk."""

    EMAIL = "EMAIL"
    PHONE = "PHONE"
    WEB = "WEB"
    CHAT = "CHAT"
    FORUM = "FORUM"


class ThreadDirection(StrEnum):
    """Whether a thread message came in from a customer or went out from the help desk."""

    INCOMING = "INCOMING"
    OUTGOING = "OUTGOING"


class TokenKind(StrEnum):
    """A session token comes from login; an API token is issued for an integrator."""

    SESSION = "SESSION"
    API = "API"


class NotificationReason(StrEnum):
    """Why an agent was notified."""

    FOLLOWING = "FOLLOWING"
    OWNER = "OWNER"  # the record is theirs: an article's author (not a ticket's assignee)
    MENTIONED = "MENTIONED"
    ASSIGNED = "ASSIGNED"


class InboundStatus(StrEnum):
    """Where an inbound message stands."""

    RECEIVED = "RECEIVED"
    PROCESSED = "PROCESSED"
    IGNORED = "IGNORED"
    FAILED = "FAILED"
