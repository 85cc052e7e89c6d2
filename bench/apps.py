"""The two reference servers of bench/ticket_list.py, served by uvicorn like DeskQL itself.

Both read the JSON response that DeskQL gave for the benchmark query from the file named by
DESKQL_BENCH_DOCUMENT, so they serve the very same document:

- `bare_app` (a): a Starlette endpoint that reads the request body and returns the prebuilt
  JSON bytes. The floor: HTTP, routing and the bytes, no GraphQL, no data.
- `inmemory_app` (b): a strawberry schema of the same shape as DeskQL's ticket list (same
  types, enums, union, connection; leaf fields are attributes and the relations DeskQL resolves
  with methods -- tags, contact, account, assignee, department -- are resolver methods here
  too), whose resolvers return prebuilt Python objects, synchronously. Parsing, validating and
  executing the query and encoding the result, but no database, no auth, no DataLoaders.
  Encoded with orjson, like DeskQL.
"""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import orjson
import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from strawberry.asgi import GraphQL


def _document() -> bytes:
    return Path(os.environ["DESKQL_BENCH_DOCUMENT"]).read_bytes()


# (a) ------------------------------------------------------------------------------------------


def _bare() -> Starlette:
    payload = _document()

    async def graphql(request: Request) -> Response:
        await request.body()
        return Response(payload, media_type="application/json")

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])


def bare_html_app() -> Starlette:
    """The floor of bench/kb_pages.py: a Starlette route answering GET /kb/articles/{permalink}
    with the prebuilt HTML page DeskQL served (DESKQL_BENCH_DOCUMENT)."""
    from starlette.responses import HTMLResponse

    payload = _document()

    async def page(request: Request) -> Response:
        return HTMLResponse(payload)

    return Starlette(routes=[Route("/kb/articles/{permalink}", page, methods=["GET"])])


# (b) ------------------------------------------------------------------------------------------


@strawberry.enum
class TicketStatus(Enum):
    OPEN = "OPEN"
    ON_HOLD = "ON_HOLD"
    ESCALATED = "ESCALATED"
    CLOSED = "CLOSED"


@strawberry.enum
class TicketPriority(Enum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    URGENT = 4


@strawberry.type
class Department:
    id: strawberry.ID
    name: str


@strawberry.type
class Agent:
    id: strawberry.ID
    name: str


@strawberry.type
class Team:
    id: strawberry.ID
    name: str


Assignee = Annotated[Agent | Team, strawberry.union("Assignee")]


@strawberry.type
class Account:
    id: strawberry.ID
    name: str


@strawberry.type
class Contact:
    id: strawberry.ID
    name: str
    email: str | None
    account_obj: strawberry.Private[Account | None]

    @strawberry.field
    def account(self) -> Account | None:
        return self.account_obj


@strawberry.type
class Ticket:
    """Leaf fields are attributes and relations are resolver methods, as in DeskQL's Ticket;
    here the methods return objects built in advance instead of loading them."""

    id: strawberry.ID
    number: int
    subject: str
    status: TicketStatus
    priority: TicketPriority
    tag_names: strawberry.Private[list[str]]
    contact_obj: strawberry.Private[Contact | None]
    assignee_obj: strawberry.Private[Agent | Team | None]
    department_obj: strawberry.Private[Department]

    @strawberry.field
    def tags(self) -> list[str]:
        return self.tag_names

    @strawberry.field
    def contact(self) -> Contact | None:
        return self.contact_obj

    @strawberry.field
    def assignee(self) -> Assignee | None:
        return self.assignee_obj

    @strawberry.field
    def department(self) -> Department:
        return self.department_obj


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class TicketEdge:
    cursor: str
    node: Ticket


@strawberry.type
class TicketConnection:
    total_count: int
    edges: list[TicketEdge]
    page_info: PageInfo


def _tickets_from(document: dict[str, Any]) -> tuple[int, list[Ticket]]:
    """Python objects holding the same values as DeskQL's response."""
    conn = document["data"]["tickets"]
    tickets = []
    for i, edge in enumerate(conn["edges"]):
        node = edge["node"]
        contact = node.get("contact")
        assignee = node.get("assignee")
        tickets.append(
            Ticket(
                id=strawberry.ID(node.get("id", f"t{i}")),
                number=node["number"],
                subject=node["subject"],
                status=TicketStatus[node["status"]],
                priority=TicketPriority[node["priority"]],
                tag_names=list(node["tags"]),
                contact_obj=None
                if contact is None
                else Contact(
                    id=strawberry.ID(f"c{i}"),
                    name=contact["name"],
                    email=contact["email"],
                    account_obj=None
                    if contact["account"] is None
                    else Account(id=strawberry.ID(f"a{i}"), name=contact["account"]["name"]),
                ),
                assignee_obj=None
                if not assignee
                else (Agent if assignee.get("__typename", "Agent") == "Agent" else Team)(
                    id=strawberry.ID(f"s{i}"), name=assignee["name"]
                ),
                department_obj=Department(
                    id=strawberry.ID(f"d{i}"), name=node["department"]["name"]
                ),
            )
        )
    return conn["totalCount"], tickets


def _inmemory() -> Starlette:
    total, tickets = _tickets_from(orjson.loads(_document()))
    edges = [TicketEdge(cursor=f"cursor{i}", node=tk) for i, tk in enumerate(tickets)]

    @strawberry.type
    class Query:
        @strawberry.field
        def tickets(self, first: int | None = None) -> TicketConnection:
            page = edges[: 20 if first is None else first]
            return TicketConnection(
                total_count=total,
                edges=page,
                page_info=PageInfo(
                    has_next_page=len(page) < total,
                    has_previous_page=False,
                    start_cursor=page[0].cursor if page else None,
                    end_cursor=page[-1].cursor if page else None,
                ),
            )

    class View(GraphQL):
        def encode_json(self, data: object) -> bytes:  # type: ignore[override]
            return orjson.dumps(data)

    view = View(strawberry.Schema(query=Query), graphql_ide=None)
    return Starlette(routes=[Route("/graphql", view, methods=["POST"])])


def bare_app() -> Starlette:
    """(a): uvicorn factory."""
    return _bare()


def inmemory_app() -> Starlette:
    """(b): uvicorn factory."""
    return _inmemory()
