"""The DeskQL ASGI application: one Starlette app whose lifespan owns the database, the
broadcast bus and the SMTP server; GraphQL over HTTP and WebSocket on /graphql (the view is
serving/view.py); /health, /ready and /metrics; the middleware of serving/ (CORS, request
ids, request logs and metrics, the body size limit)."""

from __future__ import annotations

import gc
import html
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

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

from deskql import db, web
from deskql.channels.email.server import smtp_running
from deskql.channels.telephony import intake as telephony_intake
from deskql.realtime.bus import Bus
from deskql.realtime.hub import DEFAULT_QUEUE_SIZE, Hub
from deskql.schema.ids import InvalidId, decode_id
from deskql.services import attachments, auth, auth_cache, from_addresses, outbox, uow
from deskql.services.activities.reminders import ReminderWorker
from deskql.services.errors import NotAuthenticated
from deskql.services.organisation import ensure_organisation
from deskql.services.webhooks.delivery import DeliveryWorker
from deskql.serving import health, logs
from deskql.serving.cors import OriginCORS
from deskql.serving.limits import BodySizeLimit
from deskql.serving.observe import RequestObserver
from deskql.serving.view import (
    DeskQLGraphQL,
    LegacyWSHandler,
    TextWebSocket,
    TransportWSHandler,
    bearer_token,
    encode_frame,
)
from deskql.settings import Settings

log = logging.getLogger("deskql")

# The view's classes live in serving/view.py; their names stay importable from here.
__all__ = [
    "DeskQLGraphQL",
    "LegacyWSHandler",
    "TextWebSocket",
    "TransportWSHandler",
    "bearer_token",
    "create_app",
    "encode_frame",
    "tune_gc",
]


# Full collections (every long-lived object: subscribers' tasks, queues, caches) once per
# FULL_EVERY allocations, the rate of the former 200,000 x 10 x 10 thresholds, whatever the
# young generation's threshold.
MIDDLE_PASSES = 20  # young passes between two middle-generation passes
FULL_EVERY = 20_000_000


def tune_gc(threshold: int) -> None:
    """Short, rare garbage-collector passes for a long-running server process
    (Settings.gc_threshold): what start-up built is frozen out of every later collection,
    young-generation passes run every `threshold` allocations (short pauses: they free only
    the recent requests' cyclic garbage), and full passes once per FULL_EVERY allocations
    (0: Python's defaults)."""
    if threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(threshold, MIDDLE_PASSES, max(1, FULL_EVERY // (threshold * MIDDLE_PASSES)))


def create_app(
    settings: Settings | None = None, *, manage_db: bool = True, middleware: bool = True
) -> Starlette:
    """The application; `manage_db=False` when the caller (a test) owns the ORM already;
    `middleware=False` leaves out CORS and the request observer (request ids, logs, metrics):
    the reference the middleware benchmark measures against (bench/middleware_overhead.py)."""
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
    # Token -> Actor for auth_cache_ms; dropped by invalidations from this process and, through
    # the hub, from the others (services/auth_cache.py).
    tokens = auth_cache.AuthCache(ttl_ms=settings.auth_cache_ms, size=settings.auth_cache_size)
    graphql = DeskQLGraphQL(
        settings,
        auth_cache=tokens,
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
        await hub.listen(auth_cache.CHANNEL, tokens.receive)
        hub.on_reconnect(tokens.clear)  # invalidations published meanwhile were lost
        # The outbox worker sends queued email from this process (no SMTP I/O in requests).
        worker = outbox.OutboxWorker(settings) if settings.outbox_enabled else None
        if worker is not None:
            worker.start()
        hooks = DeliveryWorker(settings) if settings.webhook_worker_enabled else None
        if hooks is not None:
            hooks.start()  # webhook deliveries (services/webhooks/delivery.py)
        reminder_worker = ReminderWorker(settings) if settings.reminders_enabled else None
        if reminder_worker is not None:
            reminder_worker.start()
        try:
            # The SMTP server (when enabled) runs in this loop with the database.
            async with smtp_running(settings) as smtp:
                app.state.smtp = smtp
                paths = [getattr(route, "path", "") for route in app.routes]
                port = smtp.port if smtp is not None else None
                for line in logs.banner_lines(settings, smtp_port=port, paths=paths):
                    log.info("%s", line)
                yield
                app.state.smtp = None
        finally:
            if worker is not None:
                await worker.stop()
            if hooks is not None:
                await hooks.stop()
            if reminder_worker is not None:
                await reminder_worker.stop()
            uow.clear_publisher(hub.publish_many)
            await hub.stop()
            if manage_db:
                await db.close_db()

    async def root(request: Request) -> Response:
        return RedirectResponse("/graphql")

    async def download(request: Request) -> Response:
        try:
            actor = await auth.authenticate(bearer_token(request.headers), tokens)
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
            # The API first: the router tries each route in turn for every request.
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/verify-from-address/{token}", verify_from_address),
            Route("/", root),
            *health.routes(settings, hub),
            Route("/attachments/{attachment_id}", download),
            *web.routes(settings),
            *telephony_intake.routes(settings),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.bus = bus
    app.state.hub = hub
    app.state.auth_cache = tokens
    app.state.smtp = None
    # The last added is the outermost: the observer sees every answer (CORS ones included).
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.attachment_max_bytes,
    )
    if middleware:
        app.add_middleware(OriginCORS, settings=settings)
        app.add_middleware(
            RequestObserver,
            log_requests=settings.log_requests,
            metrics_on=settings.metrics_enabled,
        )
    return app
