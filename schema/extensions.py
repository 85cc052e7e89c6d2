"""Protection for a public endpoint: depth, alias and token limits, caches, error masking,
error codes (issue 2, point 7)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.validation.validate import ValidationAbortedError
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

from deskql.schema.cost import QueryCost
from deskql.services.errors import ClientError
from deskql.serving.observe import current as current_request
from deskql.settings import Settings

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


# The same field selected more often than this in one selection set is refused: graphql-core's
# overlap check compares repeats pairwise and recursed past Python's limit at ~800 of them,
# answering only "Validation aborted." (issue 17, point 5).
MAX_REPEATED_FIELD = 50


def _repeats(selection_set: SelectionSetNode | None) -> Iterator[tuple[str, int]]:
    if selection_set is None:
        return
    counts: Counter[str] = Counter()
    for sel in selection_set.selections:
        if isinstance(sel, FieldNode):
            counts[sel.alias.value if sel.alias else sel.name.value] += 1
        yield from _repeats(getattr(sel, "selection_set", None))
    yield from counts.items()


class RepeatedFieldLimit(ValidationRule):
    """Refuse a selection set that repeats one field (response key) over MAX_REPEATED_FIELD
    times, with the field's name, before the other rules walk it."""

    def enter_document(self, node: DocumentNode, *_args: Any) -> None:
        for definition in node.definitions:
            for key, count in _repeats(getattr(definition, "selection_set", None)):
                if count > MAX_REPEATED_FIELD:
                    # Abort now: the rules that would run next are the ones that overflow.
                    raise ValidationAbortedError(
                        f"the field '{key}' is selected {count} times in one selection set "
                        f"(at most {MAX_REPEATED_FIELD}): select it once"
                    )


class EmptySelectionSet(ValidationRule):
    """Refuse `{ }`: graphql-core 3.3 parses a selection set that selects nothing, which the
    specification's grammar does not allow and strawberry's depth limiter fails on."""

    def enter_selection_set(self, node: SelectionSetNode, *_args: Any) -> None:
        if not node.selections:
            self.report_error(
                GraphQLError("a selection set selects nothing: name at least one field", node)
            )


def _selects_nothing(node: Any) -> bool:
    selection_set = getattr(node, "selection_set", None)
    if selection_set is None:
        return False
    if not selection_set.selections:
        return True
    return any(_selects_nothing(sel) for sel in selection_set.selections)


def _guard_empty(rule: type[ValidationRule]) -> type[ValidationRule]:
    """`rule`, not built for a document with an empty selection set (EmptySelectionSet
    reports that one): strawberry's depth limiter walks the document when built, and fails."""

    class Guarded(rule):  # type: ignore[valid-type, misc]
        def __init__(self, context: ValidationContext) -> None:
            if any(_selects_nothing(d) for d in context.document.definitions):
                ValidationRule.__init__(self, context)
            else:
                super().__init__(context)

    Guarded.__name__ = rule.__name__
    return Guarded


def broken_text(value: Any, path: str) -> str | None:
    """The path of the first string in `value` that is not valid Unicode (a lone surrogate,
    which JSON's \\ud800 escapes can carry), or None."""
    if isinstance(value, str):
        if value.isascii():
            return None
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            found = broken_text(item, f"{path}.{key}")
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = broken_text(item, f"{path}[{i}]")
            if found:
                return found
    return None


class TextInputGuard(SchemaExtension):
    """Refuse text that is not valid Unicode with BAD_USER_INPUT before anything runs (it
    raised UnicodeEncodeError deep in a service: "Unexpected error.", issue 17 point 4)."""

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        if not ctx.result:
            where = broken_text(ctx.variables or {}, "$") or broken_text(ctx.query, "query")
            if where:
                ctx.result = GraphQLExecutionResult(
                    data=None,
                    errors=[
                        GraphQLError(
                            f"the text at {where} is not valid Unicode (it holds a lone "
                            "surrogate, such as \\ud800): send UTF-8 text",
                            extensions={"code": "BAD_USER_INPUT"},
                        )
                    ],
                )
        yield


def _introspects(document: DocumentNode) -> bool:
    """Whether a document asks for `__schema` or `__type` anywhere (fragments included)."""
    stack: list[Any] = [getattr(d, "selection_set", None) for d in document.definitions]
    while stack:
        selection_set = stack.pop()
        if selection_set is None:
            continue
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode) and sel.name.value in {"__schema", "__type"}:
                return True
            stack.append(getattr(sel, "selection_set", None))
    return False


class IntrospectionNeedsToken(SchemaExtension):
    """Introspection, like every other query, needs a bearer token unless the
    `public_introspection` setting allows it without one (issue 17, point 5)."""

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        context = ctx.context
        if (
            not ctx.result
            and document is not None
            and getattr(context, "actor", True) is None
            and _introspects(document)
        ):
            ctx.result = GraphQLExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        "authentication required: introspection needs a bearer token too "
                        "(send 'Authorization: Bearer <token>'; DESKQL_PUBLIC_INTROSPECTION=true "
                        "allows it without one)",
                        extensions={"code": "UNAUTHENTICATED"},
                    )
                ],
            )
        yield


def _should_mask(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None or isinstance(original, ClientError | GraphQLError):
        return False
    return True


def validation_rules(settings: Settings) -> list[Any]:
    """Our validation rules beyond the specification's: repeats, depth and aliases."""
    # The limit rules are classes made once per schema: the validation cache is keyed by the
    # rule classes, so building them per request (as a fresh QueryDepthLimiter does) never hits.
    return [
        EmptySelectionSet,
        RepeatedFieldLimit,
        *map(_guard_empty, QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules),
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]


def build_extensions(settings: Settings) -> list[Callable[[], SchemaExtension] | type]:
    """The extensions for a schema under these settings (factories: no shared state)."""
    rules = validation_rules(settings)
    extensions: list[Any] = [
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        TextInputGuard,
        lambda: QueryCost(budget=settings.max_query_cost),
        ErrorCodes,
        lambda: MaskErrors(should_mask_error=_should_mask),
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    elif not settings.public_introspection:
        extensions.insert(extensions.index(TextInputGuard), IntrospectionNeedsToken)
    return extensions
