"""The help center for customers: the page at /help, its GraphQL endpoint /help/graphql
(HTTP, graphql-transport-ws and graphql-ws) and attachment downloads.

Authentication is a contact's bearer token, kept by the page's script in sessionStorage and
sent in the Authorization header (and in connection_init on WebSockets). No cookie is ever
set or read, so a page on another site cannot make a signed-in browser act (no CSRF surface),
and the token leaves with the tab. Links emailed to contacts carry their token in the URL
fragment (`/help#/invite/<token>`), which browsers never send to the server.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry import UNSET
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError

from deskql.realtime.streams import connection_token
from deskql.schema.help.context import HelpContext
from deskql.schema.help.root import build_help_schema
from deskql.schema.ids import InvalidId, decode_id
from deskql.services import attachments
from deskql.services.errors import NotAuthenticated
from deskql.services.helpcenter import access, messages
from deskql.serving.view import LegacyWSHandler, TextWebSocket, TransportWSHandler, bearer_token
from deskql.settings import Settings
from deskql.web import templates

# Headers of the page: nothing from elsewhere, no framing, no inline script.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data: blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def _view(settings: Settings) -> GraphQL:
    class HelpGraphQL(GraphQL):
        """The help center's GraphQL view: contact tokens only."""

        websocket_adapter_class = TextWebSocket  # type: ignore[assignment]
        graphql_transport_ws_handler_class = TransportWSHandler  # type: ignore[assignment]
        graphql_ws_handler_class = LegacyWSHandler  # type: ignore[assignment]

        async def get_context(self, request: Request | WebSocket, response: Any) -> HelpContext:  # type: ignore[override]
            token = bearer_token(request.headers)
            ctx = HelpContext(settings=settings, contact=None, request=request, response=response)
            if token is not None:
                ctx.token = token
                try:
                    ctx.contact = await access.authenticate(token)
                except NotAuthenticated as exc:
                    ctx.auth_error = str(exc)
            return ctx

        async def on_ws_connect(self, context: HelpContext) -> Any:  # type: ignore[override]
            token = connection_token(context.connection_params, context.request)
            if token is None:
                raise ConnectionRejectionError({"message": "sign in first"})
            try:
                context.contact = await access.authenticate(token)
            except NotAuthenticated as exc:
                raise ConnectionRejectionError({"message": str(exc)}) from None
            context.token = token
            context.auth_error = None
            return UNSET

    return HelpGraphQL(
        build_help_schema(settings),
        graphql_ide=None,  # the page is the help center's client
        allowed_origins=settings.allowed_origins,
        # Safe from CSRF: every operation needs an Authorization header, never a cookie.
        multipart_uploads_enabled=True,
    )


def routes(settings: Settings) -> list[BaseRoute]:
    """/help, /help/graphql (HTTP and WebSocket) and /help/attachments/{id}."""
    graphql = _view(settings)

    async def page(request: Request) -> Response:
        return templates.TemplateResponse(
            request,
            "help/index.html",
            {"org_name": settings.org_name},
            headers=PAGE_HEADERS,
        )

    async def download(request: Request) -> Response:
        try:
            contact = await access.authenticate(bearer_token(request.headers))
        except NotAuthenticated as exc:
            return JSONResponse({"error": str(exc)}, status_code=401)
        try:
            pk = decode_id(request.path_params["attachment_id"], "Attachment")
        except InvalidId as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        row = await messages.get_attachment(contact, attachment_id=pk)
        path = attachments.blob_path(settings.attachments_dir, row.sha256) if row else None
        if row is None or path is None or not path.exists():
            return JSONResponse({"error": "no such attachment"}, status_code=404)
        return FileResponse(
            path,
            media_type=row.content_type,
            filename=row.filename,
            headers={"X-Content-Type-Options": "nosniff"},
        )

    return [
        Route("/help", page),
        Route("/help/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/help/graphql", graphql),
        Route("/help/attachments/{attachment_id}", download),
    ]
