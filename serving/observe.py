"""One ASGI middleware per HTTP request: a request id (echoed in `X-Request-ID`), one log line
(operation name, status, duration, actor, request id) and the request metrics.

The GraphQL view fills in what only it knows (operation name, actor, error codes) on the
request's `RequestRecord`, found through a context variable: no body is parsed twice.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from contextvars import ContextVar
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from deskql.serving import metrics

log = logging.getLogger("deskql.request")

REQUEST_ID_HEADER = b"x-request-id"
# An incoming X-Request-ID (from a proxy or client) is kept when it looks like an id.
_VALID_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")
# Routes that probes and scrapers call all the time: logged at DEBUG, not INFO.
QUIET_ROUTES = frozenset({"/health", "/ready", "/metrics", "/static"})


@dataclass(slots=True)
class RequestRecord:
    """What is known about the request being answered."""

    request_id: str
    operation: str | None = None
    actor_id: int | None = None
    error_codes: list[str] = field(default_factory=list)


CURRENT: ContextVar[RequestRecord | None] = ContextVar("deskql_request", default=None)


def current() -> RequestRecord | None:
    """The record of the HTTP request being answered, if any (None over WebSocket)."""
    return CURRENT.get()


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER:
            if _VALID_ID.fullmatch(value):
                return value.decode()
            break
    return secrets.token_hex(8)


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else "unmatched"


def _outcome(status: int, record: RequestRecord) -> str:
    if status >= 500:
        return "server_error"
    if status >= 400:
        return "client_error"
    if record.error_codes:
        return "graphql_error"
    return "ok"


class RequestObserver:
    """Request id, log line and metrics of each HTTP request (WebSockets pass through)."""

    def __init__(self, app: ASGIApp, *, log_requests: bool = True, metrics_on: bool = True):
        self.app = app
        self.log_requests = log_requests
        self.metrics_on = metrics_on

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        record = RequestRecord(_request_id(scope))
        header = (REQUEST_ID_HEADER, record.request_id.encode())
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        token = CURRENT.set(record)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            CURRENT.reset(token)
            self._finish(scope, record, status, time.perf_counter() - started)

    def _finish(self, scope: Scope, record: RequestRecord, status: int, seconds: float) -> None:
        route = _route(scope)
        if self.metrics_on:
            operation = metrics.operation_label(record.operation)
            metrics.REQUESTS.labels(route, operation, _outcome(status, record)).inc()
            metrics.LATENCY.labels(route, operation).observe(seconds)
            for code in record.error_codes:
                metrics.GRAPHQL_ERRORS.labels(code).inc()
        if not self.log_requests:
            return
        level = logging.DEBUG if route in QUIET_ROUTES else logging.INFO
        if not log.isEnabledFor(level):
            return
        ms = round(seconds * 1000, 2)
        codes = ",".join(record.error_codes)
        log.log(
            level,
            "%s %s %s %s %.1fms actor=%s request_id=%s%s",
            scope["method"],
            scope["path"],
            record.operation or "-",
            status,
            ms,
            record.actor_id if record.actor_id is not None else "-",
            record.request_id,
            f" errors={codes}" if codes else "",
            extra={
                "request_id": record.request_id,
                "method": scope["method"],
                "path": scope["path"],
                "operation": record.operation,
                "status": status,
                "duration_ms": ms,
                "actor_id": record.actor_id,
                "error_codes": record.error_codes,
            },
        )
