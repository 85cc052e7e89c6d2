"""Static query cost analysis: the document's cost is computed before execution and a document
over the budget is refused with QUERY_TOO_COSTLY and its cost (issue 17, point 1).

The cost model (also in the schema's description and the README):

- every selected field costs 1 (`FIELD_COSTS` raises a few expensive ones; `__typename` and
  introspection are free of multiplication: `__schema`/`__type` cost 1 each);
- a list field multiplies the cost of what is selected under it by its size: the `first` or
  `last` argument of the field (or of the connection it is the `edges`/`nodes` of), else that
  argument's default, else `DEFAULT_PAGE_SIZE` (20); `nodes(ids:)` by the number of ids; a list
  without a page-size argument (e.g. `tags`) by its bound in `BOUNDED_LISTS`, else
  `DEFAULT_LIST_SIZE`;
- fragments (named and inline) are expanded where they are spread; the selections on every
  type of an abstract field count (an upper bound).

Every field of the schema, including fields added later, gets a cost from these default rules;
`FIELD_COSTS` and `BOUNDED_LISTS` only refine them.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)
from graphql.pyutils import Undefined
from strawberry.extensions import SchemaExtension

from deskql.schema.connections import DEFAULT_PAGE_SIZE

CODE = "QUERY_TOO_COSTLY"
# Assumed size of a list field that takes no page size (all such lists are small and bounded:
# a ticket's tags, an agent's departments).
DEFAULT_LIST_SIZE = 10
# Fields that cost more than 1 each (they run their own queries or aggregates).
FIELD_COSTS: dict[str, int] = {
    "Ticket.timeSummary": 5,
    "TicketView.ticketCount": 5,
    "Connection.totalCount": 1,
}
# The list fields that are not connections, because they cannot grow with the data, and the
# size the cost model counts for each. tests/security/test_query_cost.py fails on any other
# list field: make it a connection (schema/connections.py), or add it here with its bound.
BOUNDED_LISTS: dict[str, int] = {
    "Ticket.tags": 10,  # at most 10 (services.tickets.MAX_TAGS_PER_TICKET)
    "Agent.departments": DEFAULT_LIST_SIZE,  # the organisation's departments
    "Agent.teams": DEFAULT_LIST_SIZE,
    "Agent.timers": DEFAULT_LIST_SIZE,  # the agent's own timers
    "Department.teams": DEFAULT_LIST_SIZE,
    "Macro.actions": DEFAULT_LIST_SIZE,  # given in the macro's input
    "MacroAction.tags": 10,
    "Query.nodes": 100,  # counted by its `ids` (at most 100)
    "Query.replyFromChoice": DEFAULT_LIST_SIZE,  # a department's From addresses
    "Query.topTags": 100,  # counted by its own `first` (at most 100)
    "Query.teams": DEFAULT_LIST_SIZE,
    "Query.departments": DEFAULT_LIST_SIZE,
    "OutgoingEmail.to": DEFAULT_LIST_SIZE,  # recipients of one email
    "OutgoingEmail.cc": DEFAULT_LIST_SIZE,
    "OutgoingEmail.bcc": DEFAULT_LIST_SIZE,
    "Draft.to": DEFAULT_LIST_SIZE,
    "Draft.cc": DEFAULT_LIST_SIZE,
    "Draft.bcc": DEFAULT_LIST_SIZE,
    # Added with the customer tools, knowledge base, search, activities and webhooks:
    "CustomerOverview.ticketsByStatus": 10,  # one per TicketStatus
    "CrmRecord.fields": DEFAULT_LIST_SIZE,  # the configured DESKQL_CRM_*_PROPERTIES
    "Event.attendees": 50,  # services.activities.events.MAX_ATTENDEES
    "Article.tags": 10,  # services.kb.checks.MAX_TAGS
    "Article.oldPermalinks": DEFAULT_LIST_SIZE,  # one per rename of one article
    "ArticleCategory.children": DEFAULT_LIST_SIZE,  # a curated tree of a few levels
    "Query.articleCategories": DEFAULT_LIST_SIZE,
    "Query.standardCustomerViews": 10,  # the five standard views
    "Query.searchSuggest": 20,  # its own `first` (at most 20)
    "Query.contactLetters": 100,  # A-Z, the other letters in use, and #
    "Query.accountLetters": 100,
    "SearchFacet.values": 50,  # services.search.facets.TOP
    "Webhook.events": 10,  # one per WebhookEvent
    "TicketAssignResult.errors": DEFAULT_LIST_SIZE,  # a mutation's errors for one ticket
    "MacroTicketResult.errors": DEFAULT_LIST_SIZE,
}
_PAGE_ARGS = ("first", "last")


class _Walk:
    """One computation: the document's fragments and the request's variables."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        defaults: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.defaults = defaults

    def value(self, node: Any) -> Any:
        if isinstance(node, VariableNode):
            name = node.name.value
            return self.variables.get(name, self.defaults.get(name))
        if isinstance(node, IntValueNode):
            return int(node.value)
        if isinstance(node, ListValueNode):
            return list(node.values)
        return None

    def selections(
        self, selection_set: SelectionSetNode | None, seen: frozenset[str]
    ) -> Iterator[tuple[FieldNode, str | None]]:
        """The fields of a selection set with fragments expanded (with their type condition)."""
        if selection_set is None:
            return
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                yield sel, None
            elif isinstance(sel, InlineFragmentNode):
                cond = sel.type_condition.name.value if sel.type_condition else None
                for f, c in self.selections(sel.selection_set, seen):
                    yield f, c or cond
            elif isinstance(sel, FragmentSpreadNode):
                name = sel.name.value
                frag = self.fragments.get(name)
                if frag is None or name in seen:  # validation refuses both; stay safe
                    continue
                cond = frag.type_condition.name.value
                for f, c in self.selections(frag.selection_set, seen | {name}):
                    yield f, c or cond

    def cost(self, selection_set: SelectionSetNode | None, type_name: str, page: int | None) -> int:
        total = 0
        for field, cond in self.selections(selection_set, frozenset()):
            total += self.field_cost(field, cond or type_name, page)
        return total

    def field_cost(self, field: FieldNode, type_name: str, page: int | None) -> int:
        name = field.name.value
        if name == "__typename":
            return 0
        if name.startswith("__"):
            return 1  # introspection: bounded by the schema's size
        parent = self.schema.get_type(type_name)
        fields = getattr(parent, "fields", None)
        definition = fields.get(name) if fields else None
        if definition is None:
            return 1
        key = f"{type_name}.{name}"
        own = FIELD_COSTS.get(key, 1)
        if type_name.endswith("Connection") and name == "totalCount":
            own = FIELD_COSTS["Connection.totalCount"]
        args = {a.name.value: a.value for a in field.arguments or ()}
        size: int | None = None
        for arg in _PAGE_ARGS:
            if arg in definition.args:
                given = self.value(args[arg]) if arg in args else None
                default = definition.args[arg].default_value
                if given is None and default is not Undefined and isinstance(default, int):
                    given = default
                if given is None and arg == "first" and "last" not in args:
                    given = DEFAULT_PAGE_SIZE
                if isinstance(given, int):
                    size = max(0, given) if size is None else max(size, given)
        gql_type = definition.type
        if isinstance(gql_type, GraphQLNonNull):
            gql_type = gql_type.of_type
        is_list = isinstance(gql_type, GraphQLList)
        while isinstance(gql_type, GraphQLList | GraphQLNonNull):
            gql_type = gql_type.of_type
        # A connection passes its page size to its `edges` and `nodes` lists.
        children = (
            self.cost(field.selection_set, gql_type.name, None if is_list else size)
            if field.selection_set
            else 0
        )
        if not is_list:
            return own + children
        if size is None:
            ids = self.value(args["ids"]) if "ids" in args else None
            if isinstance(ids, list):
                size = len(ids)
            elif page is not None:
                size = page  # the edges/nodes of a connection: its page size
            else:
                size = BOUNDED_LISTS.get(key, DEFAULT_LIST_SIZE)
        return own + size * children


def document_cost(
    schema: GraphQLSchema,
    document: Any,
    *,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> int:
    """The cost of the operation a request runs (see the module's docstring for the model)."""
    fragments: dict[str, FragmentDefinitionNode] = {}
    operations: list[OperationDefinitionNode] = []
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            fragments[definition.name.value] = definition
        elif isinstance(definition, OperationDefinitionNode):
            operations.append(definition)
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if not operations:
        return 0
    operation = operations[0]
    root = {
        "query": schema.query_type,
        "mutation": schema.mutation_type,
        "subscription": schema.subscription_type,
    }[operation.operation.value]
    if root is None:
        return 0
    defaults: dict[str, Any] = {}
    walk0 = _Walk(schema, fragments, {}, {})
    for var in operation.variable_definitions or ():
        if var.default_value is not None:
            defaults[var.variable.name.value] = walk0.value(var.default_value)
    walk = _Walk(schema, fragments, variables or {}, defaults)
    return walk.cost(operation.selection_set, root.name, None)


def too_costly(cost: int, budget: int) -> GraphQLError:
    """The error of a document over the budget."""
    return GraphQLError(
        f"query cost {cost} exceeds the budget of {budget}: ask for smaller pages (first:) or "
        "fewer nested lists (each list multiplies the cost of what it selects by its page size)",
        extensions={"code": CODE, "cost": cost, "budget": budget},
    )


# Costs of recent documents (the parser cache hands out the same document object for the
# same text), per operation and the variables a cost depends on: {id: (ref, {key: cost})}.
_MEMO: OrderedDict[int, tuple[weakref.ref[Any], dict[Hashable, int]]] = OrderedDict()
_MEMO_SIZE = 512


def _variables_key(operation_name: str | None, variables: dict[str, Any] | None) -> Hashable:
    # Only numbers (page sizes) and list lengths (ids) enter a cost.
    out: list[tuple[str, Any]] = []
    for name, value in (variables or {}).items():
        if isinstance(value, int):
            out.append((name, value))
        elif isinstance(value, list):
            out.append((name, ("len", len(value))))
    return (operation_name, tuple(sorted(out)))


def cached_cost(
    schema: GraphQLSchema,
    document: Any,
    *,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> int:
    """document_cost, remembered per document object and the variables that matter."""
    key = _variables_key(operation_name, variables)
    entry = _MEMO.get(id(document))
    if entry is None or entry[0]() is not document:
        entry = (weakref.ref(document), {})
        _MEMO[id(document)] = entry
        if len(_MEMO) > _MEMO_SIZE:
            _MEMO.popitem(last=False)
    costs = entry[1]
    if key not in costs:
        if len(costs) > 64:
            costs.clear()
        costs[key] = document_cost(
            schema, document, operation_name=operation_name, variables=variables
        )
    return costs[key]


class QueryCost(SchemaExtension):
    """Refuse an operation whose static cost is over the budget, before it executes."""

    def __init__(self, *, budget: int) -> None:
        self.budget = budget

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        if self.budget > 0 and document is not None and not ctx.result:
            cost = cached_cost(
                ctx.schema._schema,
                document,
                operation_name=ctx.operation_name,
                variables=ctx.variables,
            )
            if cost > self.budget:
                ctx.result = GraphQLExecutionResult(
                    data=None, errors=[too_costly(cost, self.budget)]
                )
        yield
