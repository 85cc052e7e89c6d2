"""The DeskQL ASGI application: one Starlette app whose lifespan owns the database, the
broadcast bus and the SMTP server; GraphQL over HTTP and WebSocket on /graphql."""

from __future__ import annotations

import asyncio
import gc
import html
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import orjson
from graphql import GraphQLError, GraphQLSyntaxError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry import UNSET
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types import ExecutionResult

import db
import web
from channels.email.server import smtp_running
from realtime.bus import Bus
from realtime.hub import DEFAULT_QUEUE_SIZE, Hub
from realtime.shared import SINK, EncodedData, Sink
from realtime.streams import connection_token
from schema.context import Context
from schema.ids import InvalidId, decode_id
from schema.root import build_schema
from services import attachments, auth, from_addresses, outbox, uow
from services.errors import NotAuthenticated
from services.organisation import ensure_organisation
from settings import Settings

log = logging.getLogger("deskql")


def bearer_token(headers: Any) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if any."""
    value = headers.get("authorization") or ""
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class TextWebSocket(ASGIWebSocketAdapter):
    """Sends every subscription message as a TEXT frame (graphql-ws and graphql-transport-ws
    clients, browsers included, parse text; strawberry sends binary when encode_json returns
    bytes), splicing the JSON a shared event was encoded to once (realtime/shared)."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(encode_frame(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


def encode_frame(message: Mapping[str, object]) -> bytes:
    """The JSON of a protocol message; a shared `data` is spliced in pre-encoded."""
    payload = message.get("payload")
    if isinstance(payload, dict) and len(payload) == 1:
        data = payload.get("data")
        if isinstance(data, EncodedData):
            head = {k: v for k, v in message.items() if k != "payload"}
            return orjson.dumps(head)[:-1] + b',"payload":{"data":' + data.json + b"}}"
    return orjson.dumps(message)


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws; each operation's task knows where its frames go (SINK), so a
    shared subscription event can be sent to it pre-encoded (realtime/shared.py)."""

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        SINK.set(Sink(self.websocket.ws, operation.id, "next"))  # type: ignore[attr-defined]
        await super().run_operation(operation)


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    """Legacy graphql-ws, with the same SINK as TransportWSHandler (message type `data`)."""

    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        SINK.set(Sink(self.websocket.ws, operation_id, "data"))  # type: ignore[attr-defined]
        await super().handle_async_results(operation_id, query, operation_name, variables)


class DeskQLGraphQL(GraphQL):
    """Strawberry's ASGI view with our context, orjson encoding and token auth."""

    websocket_adapter_class = TextWebSocket  # type: ignore[assignment]
    graphql_transport_ws_handler_class = TransportWSHandler  # type: ignore[assignment]
    graphql_ws_handler_class = LegacyWSHandler  # type: ignore[assignment]

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        self.settings = settings
        super().__init__(build_schema(settings), **kwargs)

    def encode_json(self, data: object) -> bytes:  # type: ignore[override]
        body = orjson.dumps(data)
        cap = self.settings.max_response_bytes
        if cap and len(body) > cap:
            # The last guard after the cost budget and the timeout: never send a huge answer.
            return orjson.dumps(
                {
                    "data": None,
                    "errors": [
                        {
                            "message": f"the response would be {len(body)} bytes, over the "
                            f"limit of {cap}: ask for less",
                            "extensions": {"code": "RESPONSE_TOO_LARGE", "bytes": len(body)},
                        }
                    ],
                }
            )
        return body

    async def process_result(self, request: Any, result: ExecutionResult) -> Any:  # type: ignore[override]
        response = await super().process_result(request, result)
        # A document that does not parse is refused before the extensions that set codes run.
        for error, shown in zip(result.errors or [], response.get("errors") or [], strict=False):
            if isinstance(error, GraphQLSyntaxError) and "code" not in (
                shown.get("extensions") or {}
            ):
                shown["extensions"] = {
                    **(shown.get("extensions") or {}),
                    "code": "GRAPHQL_PARSE_FAILED",
                }
        return response

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:  # type: ignore[override]
        limit = self.settings.request_timeout_seconds
        if limit <= 0:
            return await super().execute_single(*args, **kwargs)
        try:
            async with asyncio.timeout(limit):
                return await super().execute_single(*args, **kwargs)
        except TimeoutError:
            log.warning("an operation ran over %s s and was stopped", limit)
            return ExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        f"the operation ran over {limit} s and was stopped",
                        extensions={"code": "TIMEOUT"},
                    )
                ],
            )

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:  # type: ignore[override]
        token = bearer_token(request.headers)
        ctx = Context(settings=self.settings, actor=None, request=request, response=response)
        if token is not None:
            try:
                ctx.actor = await auth.authenticate(token)
            except NotAuthenticated as exc:
                ctx.auth_error = str(exc)
        return ctx

    async def on_ws_connect(self, context: Context) -> Any:  # type: ignore[override]
        """Authenticate a WebSocket by the token in its connection_init payload
        ({"token": ...} or {"Authorization": "Bearer ..."}); refuse (4403) without a valid one."""
        token = connection_token(context.connection_params, context.request)
        if token is None:
            raise ConnectionRejectionError({"message": "authentication required"})
        try:
            context.actor = await auth.authenticate(token)
        except NotAuthenticated as exc:
            raise ConnectionRejectionError({"message": str(exc)}) from None
        context.auth_error = None
        return UNSET


class BodySizeLimit:
    """Refuse request bodies over a limit with 413, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # Multipart requests carry file uploads: they get the attachment limit (plus room
        # for the operations and map parts).
        self.max_upload_bytes = max_upload_bytes + 64 * 1024

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        for name, value in scope.get("headers", []):
            if name == b"content-type" and value.lower().startswith(b"multipart/form-data"):
                limit = self.max_upload_bytes
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await self._refuse(scope, receive, send, limit)
                return
        received = 0
        too_large = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = JSONResponse(
            {
                "errors": [
                    {
                        "message": f"request body too large: at most {limit} bytes",
                        "extensions": {"code": "PAYLOAD_TOO_LARGE"},
                    }
                ]
            },
            status_code=413,
        )
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


def tune_gc(threshold: int) -> None:
    """Fewer garbage-collector passes for a long-running server process (Settings.gc_threshold):
    what start-up built (modules, the schema) is frozen out of every later full collection,
    and young-generation passes run every `threshold` allocations (0: Python's defaults)."""
    if threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(threshold, middle, old)


def create_app(settings: Settings | None = None, *, manage_db: bool = True) -> Starlette:
    """The application; `manage_db=False` when the caller (a test) owns the ORM already."""
    settings = settings or Settings.from_env()
    auth.configure_hasher(
        settings.password_time_cost,
        settings.password_memory_kib,
        settings.password_hash_concurrency,
    )
    bus = Bus(settings.broadcast_url)
    hub = Hub(
        settings.broadcast_url,
        bus=bus,
        queue_size=getattr(settings, "subscriber_queue_size", DEFAULT_QUEUE_SIZE),
    )
    graphql = DeskQLGraphQL(
        settings,
        graphql_ide="graphiql" if settings.graphiql else None,
        allowed_origins=settings.allowed_origins,
        # Safe from CSRF: every operation needs an Authorization header, never a cookie.
        multipart_uploads_enabled=True,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if manage_db:  # this process is the server's own (not a test's)
            tune_gc(settings.gc_threshold)
            await db.init_db(settings)
        await ensure_organisation(settings)
        # The hub owns the bus: it connects it, and reconnects after backend failures.
        await hub.start()
        uow.set_publisher(hub.publish_many)
        # The outbox worker sends queued email from this process (no SMTP I/O in requests).
        worker = outbox.OutboxWorker(settings) if settings.outbox_enabled else None
        if worker is not None:
            worker.start()
        try:
            # The SMTP server (when enabled) runs in this loop with the database.
            async with smtp_running(settings):
                yield
        finally:
            if worker is not None:
                await worker.stop()
            uow.clear_publisher(hub.publish_many)
            await hub.stop()
            if manage_db:
                await db.close_db()

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def root(request: Request) -> Response:
        return RedirectResponse("/graphql")

    async def download(request: Request) -> Response:
        try:
            actor = await auth.authenticate(bearer_token(request.headers))
        except NotAuthenticated as exc:
            return JSONResponse({"error": str(exc)}, status_code=401)
        try:
            pk = decode_id(request.path_params["attachment_id"], "Attachment")
        except InvalidId as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        row = await attachments.get_attachment(actor, attachment_id=pk)
        path = attachments.blob_path(settings.attachments_dir, row.sha256) if row else None
        if row is None or path is None or not path.exists():
            return JSONResponse({"error": "no such attachment"}, status_code=404)
        return FileResponse(
            path,
            media_type=row.content_type,
            filename=row.filename,
            headers={"X-Content-Type-Options": "nosniff"},
        )

    async def verify_from_address(request: Request) -> Response:
        # The single-use link of a From address verification email (EM-6).
        row, why = await from_addresses.verify_token(request.path_params["token"])
        if row is None:
            return HTMLResponse(f"<p>{html.escape(why)}</p>", status_code=410)
        return HTMLResponse(f"<p>{html.escape(row.email)} is verified as a From address.</p>")

    app = Starlette(
        routes=[
            Route("/verify-from-address/{token}", verify_from_address),
            Route("/", root),
            Route("/health", health),
            Route("/attachments/{attachment_id}", download),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            *web.routes(settings),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.bus = bus
    app.state.hub = hub
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.attachment_max_bytes,
    )
    return app
