"""The read path (issue 18): queries the lean executor can answer skip graphql-core's
field-by-field execution; everything else runs as before.

A document is parsed and validated once (the same rules and token limit as the full path) and
remembered by its text. Per request the same guards run as on the full path (the cost budget,
text that is not valid Unicode); any doubt sends the request to the full executor, which then
gives the error or the answer it always gave. `verify` (tests) runs both and fails loudly when
their `data` differ byte for byte.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
from graphql import (
    DirectiveNode,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    VariableNode,
    Visitor,
    parse,
    specified_rules,
    visit,
)
from graphql.error import GraphQLSyntaxError
from graphql.execution.executor import Executor
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionResult

from deskql.readpath.executor import Fallback, LeanExecution
from deskql.readpath.registry import planned
from deskql.schema.cost import cached_cost
from deskql.schema.extensions import broken_text, validation_rules
from deskql.settings import Settings

log = logging.getLogger("deskql.readpath")

MISMATCH = "READPATH_MISMATCH"


@dataclass(frozen=True)
class Prepared:
    """A document that parsed and validated, with its query operations by name."""

    document: DocumentNode
    operations: dict[str | None, OperationDefinitionNode]
    # Whether an @include/@skip takes a variable (then what is selected depends on them)
    variable_directives: bool = False
    # The compiled read path's plans of its root lists, by the directives' variables
    plans: dict[bytes, dict[Any, Any]] = field(default_factory=dict)

    def plan_cache(self, variables: dict[str, Any] | None) -> dict[Any, Any]:
        """The plans of this document for these variables (all the same without variable
        directives); at most PLAN_CACHES sets of variables are kept."""
        key = (
            orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
            if self.variable_directives
            else b""
        )
        cache = self.plans.get(key)
        if cache is None:
            if len(self.plans) >= PLAN_CACHES:
                self.plans.clear()
            cache = self.plans[key] = {}
        return cache


# Sets of variables whose plans one document keeps (a document with variable directives).
PLAN_CACHES = 16


def _variable_directives(document: DocumentNode) -> bool:
    """Whether any @include/@skip of the document takes a variable."""
    found = False

    class Finder(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
            nonlocal found
            if node.name.value in ("include", "skip") and any(
                isinstance(arg.value, VariableNode) for arg in node.arguments
            ):
                found = True

    visit(document, Finder())
    return found


class ReadPath:
    """Answers eligible queries on the lean executor (see the module docstring)."""

    def __init__(self, schema: GraphQLSchema, settings: Settings, size: int = 256) -> None:
        self.schema = schema
        self.settings = settings
        # The specification's rules and ours, as the full path's AddValidationRules gives them.
        self.rules = (*specified_rules, *validation_rules(settings))
        self.size = size
        self.documents: OrderedDict[str, Prepared | None] = OrderedDict()
        # Requests answered here, and requests handed to the full executor with the reason.
        self.answered = 0
        # Of those, requests with a root list read by the compiled path (readpath/compiled).
        self.compiled = 0
        self.fallbacks: list[str] = []

    def prepare(self, query: str) -> Prepared | None:
        """The parsed, validated document of this text, or None when it is not eligible."""
        cached = self.documents.get(query, False)
        if cached is not False:
            self.documents.move_to_end(query)
            return cached  # type: ignore[return-value]
        prepared = self._prepare(query)
        self.documents[query] = prepared
        if len(self.documents) > self.size:
            self.documents.popitem(last=False)
        return prepared

    def _prepare(self, query: str) -> Prepared | None:
        if broken_text(query, "query"):
            return None
        try:
            document = parse(query, max_tokens=self.settings.max_tokens)
        except GraphQLSyntaxError:
            return None
        if validate_document(self.schema, document, self.rules):
            return None
        operations: dict[str | None, OperationDefinitionNode] = {}
        count = 0
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                count += 1
                if definition.operation.value == "query":
                    operations[definition.name.value if definition.name else None] = definition
        if not operations:
            return None
        if count == 1:
            operations[None] = next(iter(operations.values()))
        return Prepared(document, operations, _variable_directives(document))

    async def execute(
        self,
        query: str | None,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        context: Any,
    ) -> ExecutionResult | None:
        """The result of a lean execution, or None: run the full executor."""
        if query is None or getattr(context, "actor", None) is None:
            return None
        prepared = self.prepare(query)
        if prepared is None or operation_name not in prepared.operations:
            return None
        if variables is not None and (
            not isinstance(variables, dict) or broken_text(variables, "$")
        ):
            return None
        budget = self.settings.max_query_cost
        if budget > 0:
            cost = cached_cost(
                self.schema,
                prepared.document,
                operation_name=operation_name,
                variables=variables,
            )
            if cost > budget:
                return None
        executor = Executor.build(
            self.schema,
            prepared.document,
            context_value=context,
            raw_variable_values=variables,
            operation_name=operation_name,
        )
        if isinstance(executor, list):
            return None
        lean = LeanExecution(
            executor,
            planned,
            compiled=self.settings.readpath_compiled,
            plans=prepared.plan_cache(variables),
        )
        try:
            data = await lean.run()
        except Exception as exc:  # noqa: BLE001 - the full executor reports it as it always did
            why = str(exc) if isinstance(exc, Fallback) else f"{type(exc).__name__}: {exc}"
            log.debug("full executor: %s", why)
            self.fallbacks[:] = [*self.fallbacks[-19:], why]
            context.reset_loaders()
            return None
        self.answered += 1
        self.compiled += any(page.used for page in lean.pages)
        return ExecutionResult(data=data, errors=None)


def mismatch(lean: ExecutionResult, full: ExecutionResult) -> ExecutionResult | None:
    """An error result when the full executor's answer differs from the lean one, else None."""
    if full.errors:
        return ExecutionResult(
            data=None,
            errors=[
                GraphQLError(
                    "read path mismatch: the full executor gave errors where the lean one "
                    f"answered: {[e.message for e in full.errors]}",
                    extensions={"code": MISMATCH},
                )
            ],
        )
    ours, theirs = orjson.dumps(lean.data), orjson.dumps(full.data)
    if ours == theirs:
        return None
    log.error("read path mismatch:\nlean %s\nfull %s", ours[:2000], theirs[:2000])
    return ExecutionResult(
        data=None,
        errors=[
            GraphQLError(
                f"read path mismatch: lean {ours[:500]!r} full {theirs[:500]!r}",
                extensions={"code": MISMATCH},
            )
        ],
    )


def fresh_context(context: Any) -> Any:
    """A copy of a request's context with its own loaders (for the verifying second run)."""
    return replace(context, _loaders=None)
