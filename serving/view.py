"""The GraphQL view: strawberry's ASGI view with our context and token auth, orjson, text
WebSocket frames with shared events spliced in (realtime/shared), and the HTTP edges of
issue 11: the offline GraphiQL page, persisted queries, a clear answer to a subscription sent
over HTTP, the request record (operation, actor, error codes) and the WebSocket gauge."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Mapping
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError, GraphQLSyntaxError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry import UNSET
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.http.types import HTTPMethod
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from deskql.readpath import ReadPath, fresh_context, mismatch
from deskql.realtime.shared import EncodedData
from deskql.realtime.sink import SINK, Sink
from deskql.realtime.streams import connection_token
from deskql.schema.context import Context
from deskql.schema.root import build_schema
from deskql.services import auth, auth_cache
from deskql.services.auth_cache import AuthCache
from deskql.services.errors import NotAuthenticated
from deskql.serving import graphiql, metrics
from deskql.serving.observe import current
from deskql.serving.persisted import PersistedQueries, Refusal
from deskql.settings import Settings

log = logging.getLogger("deskql")
request_log = logging.getLogger("deskql.request")

SUBSCRIPTION_OVER_HTTP = (
    "subscriptions are served over WebSocket only: open a WebSocket to /graphql "
    "(subprotocol graphql-transport-ws or graphql-ws) and send the subscription there"
)


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
    shared subscription event can be sent to it pre-encoded (realtime/sink.py)."""

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

    def __init__(
        self, settings: Settings, *, auth_cache: AuthCache | None = None, **kwargs: Any
    ) -> None:
        self.settings = settings
        self.auth_cache = auth_cache
        self.persisted = PersistedQueries(settings)
        super().__init__(build_schema(settings), **kwargs)
        self.readpath = ReadPath(self.schema._schema, settings) if settings.readpath else None

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

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:  # type: ignore[override]
        token = bearer_token(request.headers)
        ctx = Context(settings=self.settings, actor=None, request=request, response=response)
        if isinstance(request, WebSocket):
            request.state.deskql_context = ctx  # its actor, for the connection's log line
        if token is not None:
            try:
                ctx.actor = await auth.authenticate(token, self.auth_cache)
            except NotAuthenticated as exc:
                ctx.auth_error = str(exc)
            else:
                record = current()
                if record is not None:
                    record.actor_id = ctx.actor.agent_id
        return ctx

    async def on_ws_connect(self, context: Context) -> Any:  # type: ignore[override]
        """Authenticate a WebSocket by the token in its connection_init payload
        ({"token": ...} or {"Authorization": "Bearer ..."}); refuse (4403) without a valid one."""
        token = connection_token(context.connection_params, context.request)
        if token is None:
            raise ConnectionRejectionError({"message": "authentication required"})
        try:
            context.actor = await auth.authenticate(token, self.auth_cache)
        except NotAuthenticated as exc:
            raise ConnectionRejectionError({"message": str(exc)}) from None
        context.auth_error = None
        return UNSET

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # Invalidations made while serving this request drop this app's cache at once (the
        # other apps' and processes' caches learn it through the broadcast).
        bound = auth_cache.bind(self.auth_cache)
        try:
            await super().__call__(scope, receive, send)
        finally:
            auth_cache.unbind(bound)

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:  # type: ignore[override]
        if not isinstance(request, WebSocket):
            return await super().run(request, context, root_value)
        metrics.WEBSOCKETS.inc()
        started = time.perf_counter()
        try:
            return await super().run(request, context, root_value)
        finally:
            metrics.WEBSOCKETS.dec()
            log_websocket(request, time.perf_counter() - started)

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET carrying only a persisted query's hash is an operation, not a page view.
        return super().should_render_graphql_ide(request) and (
            "extensions" not in request.query_params
        )

    async def render_graphql_ide(self, request: Request) -> Response:  # type: ignore[override]
        return HTMLResponse(graphiql.page(request))

    async def execute_single(  # type: ignore[override]
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """One operation: its persisted query resolved, subscriptions refused (they need a
        WebSocket), GET limited to queries; the operation name noted for logs and metrics;
        stopped with TIMEOUT after `request_timeout_seconds`."""
        limit = self.settings.request_timeout_seconds
        args = (request, request_adapter, sub_response, context, root_value, request_data)
        if limit <= 0:
            return await self._execute_single(*args)
        try:
            async with asyncio.timeout(limit):
                return await self._execute_single(*args)
        except TimeoutError:
            log.warning("an operation ran over %s s and was stopped", limit)
            return _refused(f"the operation ran over {limit} s and was stopped", "TIMEOUT")

    async def _execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        record = current()
        if record is not None:
            record.operation = request_data.operation_name
        query = self.persisted.resolve(request_data.query, request_data.extensions)
        if isinstance(query, Refusal):
            return _refused(query.message, query.code)
        method: HTTPMethod = request_adapter.method
        allowed = OperationType.from_http(method) - {OperationType.SUBSCRIPTION}
        if method == "GET" and not self.allow_queries_via_get:
            allowed -= {OperationType.QUERY}
        if self.readpath is not None and OperationType.QUERY in allowed:
            lean = await self.readpath.execute(
                query, request_data.variables, request_data.operation_name, context
            )
            if lean is not None:
                if self.settings.readpath_verify:
                    full = await self.schema.execute(
                        query,
                        root_value=root_value,
                        variable_values=request_data.variables,
                        context_value=fresh_context(context),
                        operation_name=request_data.operation_name,
                        allowed_operation_types=allowed,
                        operation_extensions=request_data.extensions,
                    )
                    return mismatch(lean, full) or lean
                return lean
        try:
            return await self.schema.execute(
                query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except CannotGetOperationTypeError as e:
            raise HTTPException(400, e.as_http_error_reason()) from e
        except MissingQueryError as e:
            raise HTTPException(400, "No GraphQL query found in the request") from e
        except InvalidOperationTypeError as e:
            if e.operation_type is OperationType.SUBSCRIPTION:
                return _refused(SUBSCRIPTION_OVER_HTTP, "SUBSCRIPTION_NEEDS_WEBSOCKET")
            raise HTTPException(400, e.as_http_error_reason(method)) from e

    async def process_result(  # type: ignore[override]
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
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
        record = current()
        if record is not None and result.errors:
            record.error_codes.extend(
                str((error.extensions or {}).get("code") or "INTERNAL") for error in result.errors
            )
        return response


def log_websocket(websocket: WebSocket, seconds: float) -> None:
    """One line when a GraphQL WebSocket closes: how long it lasted and whose it was."""
    if not request_log.isEnabledFor(logging.INFO):
        return
    ctx = getattr(websocket.state, "deskql_context", None)
    actor = ctx.actor.agent_id if ctx is not None and ctx.actor is not None else None
    request_id = secrets.token_hex(8)
    request_log.info(
        "WEBSOCKET %s closed after %.1fs actor=%s request_id=%s",
        websocket.url.path,
        seconds,
        actor if actor is not None else "-",
        request_id,
        extra={
            "request_id": request_id,
            "method": "WEBSOCKET",
            "path": websocket.url.path,
            "duration_ms": round(seconds * 1000, 2),
            "actor_id": actor,
        },
    )


def _refused(message: str, code: str) -> ExecutionResult:
    return ExecutionResult(data=None, errors=[GraphQLError(message, extensions={"code": code})])
