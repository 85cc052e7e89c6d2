"""Protection for a public endpoint: depth, alias and token limits, caches, error masking,
error codes (issue 2, point 7)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.types import ExecutionContext

from services.errors import ClientError
from serving.observe import current as current_request
from settings import Settings

log = logging.getLogger("deskql.graphql")


class ErrorCodes(SchemaExtension):
    """Put the code of our own client errors in `extensions.code` (DeskQLSchema logs them),
    and note the operation's name for the request's log line and metrics (serving/observe)."""

    def on_operation(self) -> Iterator[None]:
        yield
        record = current_request()
        if record is not None and record.operation is None:
            try:
                record.operation = self.execution_context.operation_name
            except Exception:  # noqa: BLE001 - a document that did not parse has no name
                pass
        result = self.execution_context.result
        if result is None or not getattr(result, "errors", None):
            return
        for error in result.errors:
            original = error.original_error
            code: str | None = None
            if isinstance(original, ClientError):
                code = original.code
            elif original is None:
                code = "GRAPHQL_VALIDATION_FAILED"
            elif isinstance(original, GraphQLError):
                code = "BAD_USER_INPUT"  # e.g. a variable that does not fit its type
            if code and not (error.extensions or {}).get("code"):
                error.extensions = {**(error.extensions or {}), "code": code}


class DeskQLSchema(strawberry.Schema):
    """strawberry's Schema, logging a client's mistake (a malformed id, FORBIDDEN, a
    validation error) as one line, and only unexpected errors with their traceback."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            original = error.original_error
            if isinstance(original, ClientError):
                code = original.code
            elif original is None:
                code = "GRAPHQL_VALIDATION_FAILED"
            elif isinstance(original, GraphQLError):
                code = "BAD_USER_INPUT"
            else:
                log.error(
                    "unexpected error at %s: %s", error.path, error.message, exc_info=original
                )
                continue
            where = ".".join(str(p) for p in error.path) if error.path else "-"
            log.info("client error %s at %s: %s", code, where, error.message)


def _should_mask(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None or isinstance(original, ClientError | GraphQLError):
        return False
    return True


def build_extensions(settings: Settings) -> list[Callable[[], SchemaExtension] | type]:
    """The extensions for a schema under these settings (factories: no shared state)."""
    # The limit rules are classes made once here: the validation cache is keyed by the rule
    # classes, so building them per request (as a fresh QueryDepthLimiter does) never hits.
    rules = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]
    extensions: list[Any] = [
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        ErrorCodes,
        lambda: MaskErrors(should_mask_error=_should_mask),
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    return extensions
