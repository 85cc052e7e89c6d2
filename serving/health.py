"""/health (the process answers), /ready (its dependencies answer) and /metrics.

/ready runs every check at once, each bounded by `ready_timeout_ms`, and answers 503 when one
fails: the database (SELECT 1), the broadcast backend (connected, and a publish goes
through), the SMTP listener when this process runs one (it greets with 220), and the outbox
(the oldest due outgoing email waited less than `ready_outbox_max_age_seconds`).
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tortoise.connection import get_connection

from deskql import models
from deskql.models.outbound import OutboxStatus
from deskql.realtime.hub import Hub
from deskql.serving import metrics
from deskql.settings import Settings

READY_CHANNEL = "deskql.ready"
Check = Callable[[], Awaitable[dict[str, Any]]]


async def check_database() -> dict[str, Any]:
    """The database answers a trivial statement."""
    await get_connection("default").execute_query("SELECT 1")
    return {}


def check_broadcast(hub: Hub) -> Check:
    """The hub is connected to its backend and a publish goes through."""

    async def check() -> dict[str, Any]:
        if not hub.connected:
            raise RuntimeError(f"not connected to {hub.url}")
        await hub.bus.publish(READY_CHANNEL, {"type": "ready"})
        return {}

    return check


def check_smtp(settings: Settings, request: Request) -> Check:
    """The SMTP listener of this process accepts a connection and greets with 220."""

    async def check() -> dict[str, Any]:
        service = getattr(request.app.state, "smtp", None)
        if service is None or service.server is None or not service.server.is_serving():
            raise RuntimeError("the SMTP listener is not running")
        host = settings.smtp_host
        host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
        reader, writer = await asyncio.open_connection(host, service.port)
        try:
            greeting = await reader.readline()
            writer.write(b"QUIT\r\n")
            await writer.drain()
        finally:
            writer.close()
        if not greeting.startswith(b"220"):
            raise RuntimeError(f"unexpected greeting {greeting[:80]!r}")
        return {"port": service.port}

    return check


async def outbox_backlog() -> tuple[int, float]:
    """Outgoing emails not sent yet, and the age in seconds of the oldest due one."""
    now = datetime.now(UTC)
    waiting = models.OutboxMessage.filter(status__in=[OutboxStatus.QUEUED, OutboxStatus.SENDING])
    depth = await waiting.count()
    oldest = (
        await models.OutboxMessage.filter(status=OutboxStatus.QUEUED, next_attempt_at__lte=now)
        .order_by("created_at")
        .first()
        .values_list("created_at", flat=True)
    )
    age = max((now - oldest).total_seconds(), 0.0) if oldest else 0.0
    return depth, age


def check_outbox(settings: Settings) -> Check:
    """The oldest due outgoing email is younger than the threshold."""

    async def check() -> dict[str, Any]:
        depth, age = await outbox_backlog()
        details = {"depth": depth, "oldest_due_age_seconds": round(age, 1)}
        if age > settings.ready_outbox_max_age_seconds:
            raise CheckFailed(
                f"the oldest due email has waited {age:.0f} s "
                f"(more than {settings.ready_outbox_max_age_seconds} s)",
                details,
            )
        return details

    return check


class CheckFailed(RuntimeError):
    """A check that failed with details worth showing."""

    def __init__(self, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.details = details


async def run_check(check: Check, seconds: float) -> dict[str, Any]:
    """One check's result: ok, latency in ms, details or error (bounded by `seconds`)."""
    timeout = seconds
    started = time.perf_counter()
    try:
        details = await asyncio.wait_for(check(), timeout)
        result: dict[str, Any] = {"ok": True, **details}
    except TimeoutError:
        result = {"ok": False, "error": f"no answer within {timeout:g} s"}
    except CheckFailed as exc:
        result = {"ok": False, "error": str(exc), **exc.details}
    except Exception as exc:  # noqa: BLE001 - any failure is the check's answer
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return result


class HubCounters:
    """Moves the hub's own delivered/dropped counts into the Prometheus counters."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.delivered = 0
        self.dropped = 0

    def sync(self) -> None:
        """Add what the hub counted since the last call."""
        delivered, dropped = self.hub.delivered, self.hub.dropped
        if delivered > self.delivered:
            metrics.EVENTS.labels("delivered").inc(delivered - self.delivered)
        if dropped > self.dropped:
            metrics.EVENTS.labels("dropped").inc(dropped - self.dropped)
        self.delivered, self.dropped = delivered, dropped
        metrics.SUBSCRIPTIONS.set(self.hub.count())


def routes(settings: Settings, hub: Hub) -> list[Route]:
    """The /health, /ready and (when enabled) /metrics routes."""
    timeout = settings.ready_timeout_ms / 1000
    counters = HubCounters(hub)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def ready(request: Request) -> Response:
        checks: dict[str, Check] = {
            "database": check_database,
            "broadcast": check_broadcast(hub),
            "outbox": check_outbox(settings),
        }
        if settings.smtp_enabled:
            checks["smtp"] = check_smtp(settings, request)
        results = await asyncio.gather(*(run_check(c, timeout) for c in checks.values()))
        body = dict(zip(checks, results, strict=True))
        ok = all(r["ok"] for r in results)
        return JSONResponse(
            {"status": "ready" if ok else "unavailable", "checks": body},
            status_code=200 if ok else 503,
        )

    async def metrics_page(request: Request) -> Response:
        if settings.metrics_token and not _authorised(request, settings.metrics_token):
            return JSONResponse(
                {"error": "metrics need 'Authorization: Bearer <DESKQL_METRICS_TOKEN>'"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        counters.sync()
        try:
            depth, age = await asyncio.wait_for(outbox_backlog(), timeout)
            metrics.OUTBOX_DEPTH.set(depth)
            metrics.OUTBOX_OLDEST.set(age)
        except Exception:  # noqa: BLE001, S110 - the other metrics are still worth serving
            pass
        return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)

    found = [Route("/health", health), Route("/ready", ready)]
    if settings.metrics_enabled:
        found.append(Route("/metrics", metrics_page))
    return found


def _authorised(request: Request, token: str) -> bool:
    scheme, _, given = (request.headers.get("authorization") or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )
