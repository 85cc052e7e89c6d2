"""The expected-failure channel of mutations: `errors { field message code }` (DESIGN rule 3)."""

from __future__ import annotations

import strawberry

from deskql.services.errors import ErrorCode, ValidationFailed

strawberry.enum(ErrorCode, description="Why a mutation's input was refused.")


@strawberry.type(description="One reason a mutation was refused; nothing was written.")
class MutationError:
    field: str | None = strawberry.field(
        description="The input field at fault (camelCase), or null for the input as a whole."
    )
    message: str = strawberry.field(description="What is wrong, for people.")
    code: ErrorCode = strawberry.field(description="What is wrong, for programs.")


def errors_of(exc: ValidationFailed) -> list[MutationError]:
    """The payload errors for a refused input."""
    return [MutationError(field=e.field, message=e.message, code=e.code) for e in exc.errors]
