"""The Prometheus metrics of a DeskQL process (prometheus-client), in a registry of their own.

A leaf module: the layers that count something (requests, inbound mail, sign-ins, the
realtime hub) import it and increment; /metrics (serving/health.py) renders the registry after
reading the gauges that live elsewhere (hub counts, outbox depth) at scrape time.
"""

from __future__ import annotations

import re

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
)

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)

REQUESTS = Counter(
    "deskql_http_requests",
    "HTTP requests answered, by route, GraphQL operation name and outcome.",
    ["route", "operation", "outcome"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "deskql_http_request_duration_seconds",
    "Time to answer an HTTP request, by route and GraphQL operation name.",
    ["route", "operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
GRAPHQL_ERRORS = Counter(
    "deskql_graphql_errors",
    "Top-level GraphQL errors returned over HTTP, by code.",
    ["code"],
    registry=REGISTRY,
)
WEBSOCKETS = Gauge(
    "deskql_websocket_connections",
    "Open GraphQL WebSocket connections.",
    registry=REGISTRY,
)
SUBSCRIPTIONS = Gauge(
    "deskql_subscriptions",
    "Active subscriptions (local subscribers of the realtime hub).",
    registry=REGISTRY,
)
EVENTS = Counter(
    "deskql_realtime_events",
    "Events handed to local subscribers (delivered), and subscribers dropped for not keeping "
    "up (dropped), by this process's realtime hub.",
    ["result"],
    registry=REGISTRY,
)
INBOUND_MAIL = Counter(
    "deskql_inbound_mail_replies",
    "SMTP replies of the inbound mail channel at RCPT and DATA, by reply code "
    "(250 accepted, 4xx temporarily refused, 5xx refused).",
    ["stage", "code"],
    registry=REGISTRY,
)
OUTBOX_DEPTH = Gauge(
    "deskql_outbox_depth",
    "Outgoing emails waiting to be sent (QUEUED or SENDING).",
    registry=REGISTRY,
)
OUTBOX_OLDEST = Gauge(
    "deskql_outbox_oldest_age_seconds",
    "Age of the oldest outgoing email that is due and not sent (0 when none).",
    registry=REGISTRY,
)
LOGIN_FAILURES = Counter(
    "deskql_login_failures",
    "Refused agent sign-ins (wrong email or password, or a deactivated agent); throttled "
    "attempts are refused before the password is checked and not counted here.",
    registry=REGISTRY,
)

# Operation names come from clients: only well-formed names become label values, and at most
# MAX_OPERATIONS distinct ones per process (later ones count as "other").
MAX_OPERATIONS = 200
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_known: set[str] = set()


def operation_label(name: str | None) -> str:
    """The label value for a GraphQL operation name (bounded cardinality)."""
    if not name:
        return ""
    if name in _known:
        return name
    if not _NAME.fullmatch(name) or len(_known) >= MAX_OPERATIONS:
        return "other"
    _known.add(name)
    return name


def count_inbound_reply(stage: str, reply: str) -> None:
    """Count an SMTP reply of the inbound channel by its three-digit code."""
    INBOUND_MAIL.labels(stage=stage, code=reply[:3]).inc()
