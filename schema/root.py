"""The schema: Query and Mutation composed from one class per family of fields."""

from __future__ import annotations

import strawberry

from realtime.shared import SharedExecutor
from schema.attachments import AttachmentMutations
from schema.auth import AuthMutations, AuthQueries
from schema.comments import CommentMutations
from schema.customers import CustomerMutations, CustomerQueries
from schema.email import EmailMutations, EmailQueries
from schema.extensions import build_extensions
from schema.kb import KnowledgeBaseMutations, KnowledgeBaseQueries
from schema.kb_types import Article, ArticleCategory
from schema.macros import MacroMutations, MacroQueries
from schema.merge_split import MergeSplitMutations
from schema.nodes import NodeQueries
from schema.organisation import OrganisationMutations, OrganisationQueries
from schema.outbound import OutboundMutations, OutboundQueries
from schema.realtime import RealtimeMutations, RealtimeQueries, Subscription
from schema.search import SearchQueries
from schema.tickets import TicketMutations, TicketQueries
from schema.time_tracking import TimeTrackingMutations
from schema.types import (
    Account,
    Activity,
    Agent,
    ApiToken,
    Attachment,
    Comment,
    Contact,
    Department,
    Organisation,
    Product,
    Team,
    Thread,
    Ticket,
)
from schema.views import ViewMutations, ViewQueries
from schema.workflows_assign import AssignmentMutations, AssignmentQueries
from settings import Settings


@strawberry.type(description="Everything you can read. All fields need a bearer token.")
class Query(
    NodeQueries,
    AuthQueries,
    TicketQueries,
    CustomerQueries,
    RealtimeQueries,
    OrganisationQueries,
    EmailQueries,
    OutboundQueries,
    AssignmentQueries,
    ViewQueries,
    MacroQueries,
    SearchQueries,
    KnowledgeBaseQueries,
):
    pass


@strawberry.type(
    description="Everything you can change. All but `login` need a bearer token. Expected "
    "failures come back in each payload's `errors`, with nothing written."
)
class Mutation(
    AuthMutations,
    TicketMutations,
    CommentMutations,
    AttachmentMutations,
    CustomerMutations,
    RealtimeMutations,
    OrganisationMutations,
    EmailMutations,
    OutboundMutations,
    AssignmentMutations,
    TimeTrackingMutations,
    ViewMutations,
    MacroMutations,
    MergeSplitMutations,
    KnowledgeBaseMutations,
):
    pass


NODE_TYPES = [
    Organisation,
    Department,
    Agent,
    Team,
    Product,
    Account,
    Contact,
    Attachment,
    Thread,
    Comment,
    Activity,
    Ticket,
    ApiToken,
    Article,
    ArticleCategory,
]


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    """The DeskQL schema with the protective extensions for these settings."""
    settings = settings or Settings()
    schema = strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=NODE_TYPES,
        extensions=build_extensions(settings),
        # Subscription events shared by a group of subscribers execute once (realtime/shared).
        execution_context_class=SharedExecutor,
    )
    _describe_inputs(schema)
    return schema


def _describe_inputs(schema: strawberry.Schema) -> None:
    """Give every mutation's `input` argument its input type's description."""
    mutation = schema._schema.mutation_type
    for field in mutation.fields.values() if mutation else []:
        arg = field.args.get("input")
        if arg is not None and not arg.description:
            of_type = getattr(arg.type, "of_type", arg.type)
            arg.description = getattr(of_type, "description", None) or "The mutation's input."


def schema_sdl() -> str:
    """The schema in SDL, as committed in schema.graphql."""
    return build_schema().as_str() + "\n"
