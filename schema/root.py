"""The schema: Query and Mutation composed from one class per family of fields."""

from __future__ import annotations

from datetime import datetime

import strawberry

from deskql.realtime.shared import SharedExecutor
from deskql.schema.activities.root import ActivityMutations, ActivityQueries
from deskql.schema.activities.types import Call, Event, Task
from deskql.schema.attachments import AttachmentMutations
from deskql.schema.auth import AuthMutations, AuthQueries
from deskql.schema.comments import CommentMutations
from deskql.schema.crm import CrmMutations
from deskql.schema.customer_merge import CustomerMergeMutations
from deskql.schema.customer_views import CustomerViewMutations, CustomerViewQueries
from deskql.schema.customers import CustomerMutations, CustomerQueries
from deskql.schema.duplicates import DuplicateQueries
from deskql.schema.email import EmailMutations, EmailQueries
from deskql.schema.exports import ExportMutations
from deskql.schema.extensions import DeskQLSchema, build_extensions
from deskql.schema.helpcenter import HelpCenterMutations, HelpCenterQueries, TicketRating
from deskql.schema.kb import KnowledgeBaseMutations, KnowledgeBaseQueries
from deskql.schema.kb_types import Article, ArticleCategory
from deskql.schema.macros import MacroMutations, MacroQueries
from deskql.schema.merge_split import MergeSplitMutations
from deskql.schema.nodes import NodeQueries
from deskql.schema.organisation import OrganisationMutations, OrganisationQueries
from deskql.schema.outbound import OutboundMutations, OutboundQueries
from deskql.schema.page_request import add_backward_arguments
from deskql.schema.realtime import RealtimeMutations, RealtimeQueries, Subscription
from deskql.schema.scalars import DateTime
from deskql.schema.search import SearchQueries
from deskql.schema.tickets import TicketMutations, TicketQueries
from deskql.schema.time_tracking import TimeTrackingMutations
from deskql.schema.types import (
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
from deskql.schema.views import ViewMutations, ViewQueries
from deskql.schema.webhooks import WebhookMutations, WebhookQueries
from deskql.schema.workflows_assign import AssignmentMutations, AssignmentQueries
from deskql.settings import Settings


@strawberry.type(
    description="Everything you can read. All fields need a bearer token.\n\n"
    "Query cost: before it runs, an operation's cost is computed from its document and an "
    "operation over the budget (50,000 by default) is refused with the code "
    "QUERY_TOO_COSTLY and its `cost` and `budget` in the error's extensions. Every selected "
    "field costs 1; a list multiplies the cost of what it selects by its size: the `first` "
    "(or `last`) of its connection, 20 when not given, the number of `ids` for `nodes`, 10 "
    "for a list without a page size (such as `tags`); fragments count where they are spread. "
    "So `tickets(first: 50) { nodes { id subject contact { name } } }` costs "
    "1 + 1 + 50 x (1 + 1 + 1 + 1) = 202. An operation also stops after 30 s (TIMEOUT) and "
    "a response over 20 MB is replaced by a RESPONSE_TOO_LARGE error."
)
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
    WebhookQueries,
    ActivityQueries,
    DuplicateQueries,
    CustomerViewQueries,
    SearchQueries,
    HelpCenterQueries,
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
    WebhookMutations,
    ActivityMutations,
    CustomerMergeMutations,
    CrmMutations,
    CustomerViewMutations,
    ExportMutations,
    HelpCenterMutations,
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
    Task,
    Event,
    Call,
    TicketRating,
    Article,
    ArticleCategory,
]


def build_schema(settings: Settings | None = None) -> DeskQLSchema:
    """The DeskQL schema with the protective extensions for these settings."""
    settings = settings or Settings()
    schema = DeskQLSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=NODE_TYPES,
        extensions=build_extensions(settings),
        # Subscription events shared by a group of subscribers execute once (realtime/shared).
        execution_context_class=SharedExecutor,
        # DateTime inputs within a documented range (schema/scalars.py).
        scalar_overrides={datetime: DateTime},
    )
    _describe_inputs(schema)
    # `last`/`before` on every connection field (issue 18).
    add_backward_arguments(schema._schema)
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
