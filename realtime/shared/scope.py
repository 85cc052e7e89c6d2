"""A document's access scope: per agent, or per role and departments (SCOPE_ONLY_RESOLVERS)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLSchema,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    visit,
)

from deskql.services.auth import Actor

# Resolver-backed fields whose value depends only on the object and the asker's role and
# department set (reviewed one by one); plain data fields need no entry.
SCOPE_ONLY_RESOLVERS: frozenset[tuple[str, str]] = frozenset(
    {
        ("Subscription", "ticketUpdates"),
        ("Subscription", "dashboardUpdates"),
        ("Activity", "actor"),
        ("Activity", "subjectId"),
        ("Agent", "departments"),
        ("Thread", "bodyHtml"),
        ("Agent", "teams"),
        ("Ticket", "department"),
        ("Ticket", "contact"),
        ("Ticket", "account"),
        ("Ticket", "product"),
        ("Ticket", "assignee"),
        ("Ticket", "tags"),
        ("Ticket", "comments"),
        ("Ticket", "threads"),
        ("Ticket", "attachments"),
        ("Ticket", "activities"),
        ("Comment", "author"),
        ("Team", "department"),
        ("Subscription", "notificationCreated"),
        ("Notification", "activity"),
        ("Notification", "ticket"),
    }
)


# Types whose objects differ for each member of a group of a personal event (each agent has
# its own notification): their plain data fields are filled in per member (`personalise`).
PERSONAL_TYPES: frozenset[str] = frozenset({"NotificationCreatedEvent", "Notification"})


def _scope_only(type_name: str, field_name: str) -> bool:
    # A connection's own fields (nodes, totalCount) only read the connection object, which
    # its parent field built for the scope.
    return (type_name, field_name) in SCOPE_ONLY_RESOLVERS or (
        type_name.endswith("Connection") and field_name in {"nodes", "totalCount"}
    )


class _PerAgentFields(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.per_agent = False

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        parent = self.type_info.get_parent_type()
        field = self.type_info.get_field_def()
        if parent is None or field is None or node.name.value == "__typename":
            return
        definition = (field.extensions or {}).get("strawberry-definition")
        has_resolver = definition is None or getattr(definition, "base_resolver", None)
        if has_resolver and not _scope_only(parent.name, node.name.value):
            self.per_agent = True


def document_is_per_agent(schema: GraphQLSchema, document: DocumentNode) -> bool:
    """Whether a document selects a field whose value depends on who asks (not only on the
    role and departments)."""
    type_info = TypeInfo(schema)
    visitor = _PerAgentFields(type_info)
    visit(document, TypeInfoVisitor(type_info, visitor))
    return visitor.per_agent


class _ByDocument:
    """An analysis of a subscription's document, made once per (schema, document text,
    operation name) and kept for the next subscriber (at most 1,024 documents)."""

    def __init__(
        self,
        analyse: Callable[
            [GraphQLSchema, OperationDefinitionNode, dict[str, FragmentDefinitionNode]], Any
        ],
        without_source: Any,
    ) -> None:
        self.analyse = analyse
        self.without_source = without_source  # the answer when the text is unknown
        self.found: dict[tuple[int, str, str | None], Any] = {}

    def __call__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
    ) -> Any:
        body = operation.loc.source.body if operation.loc else None
        if body is None:
            return self.without_source
        key = (id(schema), body, operation.name.value if operation.name else None)
        if key not in self.found:
            if len(self.found) > 1024:
                self.found.clear()
            self.found[key] = self.analyse(schema, operation, fragments)
        return self.found[key]


_is_per_agent = _ByDocument(
    lambda schema, operation, fragments: document_is_per_agent(
        schema, DocumentNode(definitions=(operation, *fragments.values()))
    ),
    without_source=True,
)


def scope_key(actor: Actor, *, per_agent: bool) -> Hashable:
    """What an event's result may depend on besides the document and the event."""
    # A frozenset hashes once (cached) and compares as a set: no sorting per event.
    scope: tuple[Any, ...] = (actor.role, actor.department_ids)
    if per_agent:
        scope += (actor.agent_id, actor.token_id)
    return scope
