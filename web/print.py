"""GET /print/tickets/{id}: the printable ticket for a browser holding a signed URL (TIC-11)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from deskql.services import signed_urls, ticket_print
from deskql.settings import Settings
from deskql.web import templates
from deskql.web.exports import STATUS


def routes(settings: Settings) -> list[BaseRoute]:
    """The print view route."""

    async def page(request: Request) -> Response:
        try:
            ticket_id = int(request.path_params["ticket_id"])
            ticket, entries = await ticket_print.open_print(
                settings, ticket_id=ticket_id, query=dict(request.query_params)
            )
        except signed_urls.SignedUrlError as exc:
            return PlainTextResponse(str(exc), status_code=STATUS[exc.reason])
        except (ticket_print.PrintGone, ValueError) as exc:
            return PlainTextResponse(str(exc) or "no such ticket", status_code=404)
        await ticket.fetch_related("department", "contact", "assignee_agent")
        return templates.TemplateResponse(
            request,
            "print_ticket.html",
            {"ticket": ticket, "entries": entries},
            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
        )

    return [Route("/print/tickets/{ticket_id}", page, methods=["GET"])]
