"""GraphQL types of search (SRC-1..4): hits, facets, letters, and the inputs that narrow."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from enum import Enum

import strawberry

from deskql.schema.connections import Edge, PageInfo
from deskql.schema.types import Node
from deskql.services.search.criteria import Op


@strawberry.enum(description="A kind of record search covers.")
class SearchModule(Enum):
    TICKETS = "ticket"
    CONTACTS = "contact"
    ACCOUNTS = "account"
    PRODUCTS = "product"
    TASKS = "task"
    ARTICLES = "article"


@strawberry.enum(
    description="A field search counts its matches by. Tickets: STATUS, PRIORITY, CHANNEL, "
    "DEPARTMENT, ASSIGNEE, TAG; contacts: ACCOUNT, OWNER."
)
class SearchFacetField(Enum):
    STATUS = "status"
    PRIORITY = "priority"
    CHANNEL = "channel"
    DEPARTMENT = "department"
    ASSIGNEE = "assignee"
    TAG = "tag"
    ACCOUNT = "account"
    OWNER = "owner"


strawberry.enum(
    Op,
    name="SearchOperator",
    description="How a criterion compares: EQUALS (1 value; text ignores case), IN (1-100 "
    "values), CONTAINS and STARTS_WITH (text, 1 value, taken literally), BEFORE/AFTER (dates "
    "and numbers, 1 value; AFTER includes it), BETWEEN (2 values: from included, to excluded), "
    "IS_EMPTY / NOT_EMPTY (no value).",
)


@strawberry.input(
    description="Facet values chosen to narrow a search (values of one facet are "
    "alternatives; facets combine with AND)."
)
class SearchFacetInput:
    field: SearchFacetField = strawberry.field(description="The facet.")
    values: list[str] = strawberry.field(
        description="Values as `search` returns them in `facets` (enum names, global ids, tag "
        "names)."
    )


@strawberry.input(
    description="An advanced-search criterion (SRC-3) on one field of one module; criteria "
    "combine with AND and narrow the search to their modules. Fields: tickets number, subject, "
    "description, status, priority, channel, department, assignee, team, contact, account, "
    "product, isSpam, createdAt, updatedAt, dueAt, closedAt; contacts firstName, lastName, "
    "email, phone, mobile, description, account, owner, createdAt, updatedAt; accounts name, "
    "email, phone, website, description, owner, createdAt, updatedAt; products name, code, "
    "description, createdAt; tasks title, description, dueAt, completed, assignee, ticket, "
    "contact, createdAt."
)
class SearchCriterion:
    module: SearchModule = strawberry.field(description="Whose field.")
    field: str = strawberry.field(description="The field's name, as listed above.")
    operator: Op = strawberry.field(description="How to compare.")
    values: list[str] = strawberry.field(
        default_factory=list,
        description="Values: text, enum names, global ids, ISO 8601 times, numbers, true/false.",
    )


@strawberry.type(description="A record search found.")
class SearchHit:
    module: SearchModule = strawberry.field(description="What kind of record.")
    node: Node = strawberry.field(description="The record.")
    score: float = strawberry.field(description="Relevance: higher matches better.")
    title: str = strawberry.field(description="Its subject, name or title.")
    snippet: str = strawberry.field(
        description="HTML: the text around the first match, escaped, matches in <mark>."
    )


@strawberry.type(description="One value of a facet and how many matches have it.")
class SearchFacetValue:
    value: str = strawberry.field(
        description="Pass back in `facets` to narrow (enum name, global id or tag name)."
    )
    label: str = strawberry.field(description="For people: a name where the value is an id.")
    count: int = strawberry.field(description="Matches with this value.")


@strawberry.type(description="A field of the modules hit, with the values among the matches.")
class SearchFacet:
    field: SearchFacetField = strawberry.field(description="The facet.")
    values: list[SearchFacetValue] = strawberry.field(
        description="Up to 50 values, most frequent first."
    )


@strawberry.type(description="How many matches a module has.")
class SearchModuleCount:
    module: SearchModule = strawberry.field(description="The module.")
    count: int = strawberry.field(description="Its matches.")


@strawberry.type(description="A first letter of names and how many records start with it.")
class SearchLetter:
    letter: str = strawberry.field(description="An upper-case letter (Ł, Ś, ...), or `#`.")
    count: int = strawberry.field(description="Records whose name starts with it; 0: none.")


@strawberry.type(description="A page of search hits, ranked by relevance then recency.")
class SearchConnection:
    edges: list[Edge[SearchHit]] = strawberry.field(description="The hits of this page.")
    page_info: PageInfo = strawberry.field(description="Pagination state.")
    load_counts: strawberry.Private[Callable[[], Awaitable[tuple]]]  # type: ignore[type-arg]
    # True: the search honoured `last`/`before` (schema/page_request.py refuses them else).
    handles_backward: strawberry.Private[bool] = False
    _counts: strawberry.Private[asyncio.Future | None] = None  # type: ignore[type-arg]

    async def _get(self) -> tuple:  # type: ignore[type-arg]
        if self._counts is None:
            self._counts = asyncio.ensure_future(self.load_counts())
        return await self._counts

    @strawberry.field(description="Matches in all (all pages), counted with the same access.")
    async def total_count(self) -> int:
        return (await self._get())[0]

    @strawberry.field(description="Matches per module.")
    async def module_counts(self) -> list[SearchModuleCount]:
        return (await self._get())[1]

    @strawberry.field(
        description="Facets of the modules hit, each value counted among the matches narrowed "
        "by the other chosen facets (SRC-2)."
    )
    async def facets(self) -> list[SearchFacet]:
        return (await self._get())[2]

    @strawberry.field(description="The hits of this page, without cursors.")
    def nodes(self) -> list[SearchHit]:
        return [edge.node for edge in self.edges]
