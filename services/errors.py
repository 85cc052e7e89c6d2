"""The errors services raise. Expected failures carry field errors with a code; resolvers
return them in the mutation payload. Authentication and permission failures become top-level
GraphQL errors."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    """Why an input was refused."""

    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    INVALID_EMAIL = "INVALID_EMAIL"
    TOO_LONG = "TOO_LONG"
    NOT_FOUND = "NOT_FOUND"
    DUPLICATE = "DUPLICATE"
    CONFLICT = "CONFLICT"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    IN_USE = "IN_USE"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    # The ticket has an assignee already (ticketTake).
    ALREADY_ASSIGNED = "ALREADY_ASSIGNED"
    # The object is not in a state that allows the operation (e.g. pausing a paused timer).
    INVALID_STATE = "INVALID_STATE"
    # Only the owner (or an administrator) may change it (e.g. someone else's time entry).
    NOT_OWNER = "NOT_OWNER"
    WRONG_DEPARTMENT = "WRONG_DEPARTMENT"
    # The ticket was merged into another one (TIC-5): work on that one instead.
    MERGED = "MERGED"
    # Too many attempts (sign-in throttling): the message says when to try again.
    RATE_LIMITED = "RATE_LIMITED"
    # A webhook URL that resolves to a private, loopback or link-local address.
    PRIVATE_TARGET = "PRIVATE_TARGET"
    # The phone system refused the call (click-to-dial), or could not be reached.
    PBX_REFUSED = "PBX_REFUSED"
    PBX_UNAVAILABLE = "PBX_UNAVAILABLE"
    # The CRM connector (CUS-6): none is configured; the CRM timed out, failed or refused us;
    # it answered something that is not the record asked for (HTML, bad JSON, another id).
    CRM_NOT_CONFIGURED = "CRM_NOT_CONFIGURED"
    CRM_UNAVAILABLE = "CRM_UNAVAILABLE"
    CRM_BAD_RESPONSE = "CRM_BAD_RESPONSE"
    # A page cursor that does not decode or was altered (its signature does not match).
    INVALID_CURSOR = "INVALID_CURSOR"
    # A valid cursor of another list, or of the same list under another sort.
    CURSOR_MISMATCH = "CURSOR_MISMATCH"


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field (`field` is None for the input as a whole)."""

    field: str | None
    message: str
    code: ErrorCode


class ValidationFailed(Exception):
    """An expected failure: the input was refused and nothing was written."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors

    @classmethod
    def one(cls, field: str | None, message: str, code: ErrorCode) -> ValidationFailed:
        """A failure with a single field error."""
        return cls([FieldError(field, message, code)])


class ClientError(Exception):
    """A failure the client caused and may see (never masked); `code` goes in extensions."""

    code = "BAD_REQUEST"


class NotAuthenticated(ClientError):
    """No valid token came with the request."""

    code = "UNAUTHENTICATED"


class PermissionDenied(ClientError):
    """The actor's role does not allow the operation."""

    code = "FORBIDDEN"


class Errors:
    """Collects field errors while validating a whole input, then raises them together."""

    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, field: str | None, message: str, code: ErrorCode) -> None:
        """Record one error."""
        self.items.append(FieldError(field, message, code))

    def raise_if_any(self) -> None:
        """Raise ValidationFailed when any error was recorded."""
        if self.items:
            raise ValidationFailed(self.items)
