"""Logging for a server process: readable text by default, one JSON object a line with
DESKQL_LOG_FORMAT=json; DeskQL's own INFO lines shown; and the start-up banner."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from deskql.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
JSON_FIELDS = "%(levelname)s %(name)s %(message)s"
# Libraries whose INFO lines are noise for an operator.
QUIET_LIBRARIES = (
    "tortoise",
    "aiosqlite",
    "asyncio",
    "httpx",
    "multipart",
    "aiosmtplib",
    "mail.log",  # aiosmtpd: several lines per SMTP connection
)


def formatter(settings: Settings) -> logging.Formatter:
    """The formatter for DESKQL_LOG_FORMAT (text or json)."""
    if settings.log_format == "json":
        # "time": ISO 8601 in UTC with microseconds, what log collectors parse.
        return JsonFormatter(
            JSON_FIELDS,
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
        )
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(settings: Settings, *, stream: Any = None) -> logging.Handler:
    """Send every log record to stderr (or `stream`) in the configured format; uvicorn's own
    loggers propagate to it, its access log is replaced by deskql.request lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(settings))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    for name in QUIET_LIBRARIES:  # at debug level, their lines too (SQL statements...)
        logging.getLogger(name).setLevel(
            logging.NOTSET if root.level <= logging.DEBUG else logging.WARNING
        )
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
    # Our own request lines replace the access log.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    return handler


def banner_lines(
    settings: Settings,
    *,
    smtp_port: int | None,
    paths: Iterable[str],
) -> list[str]:
    """What a newcomer needs to know at start-up: the URLs, SMTP and where mail goes."""
    base = settings.base_url if not settings.public_base_url else _local_base(settings)
    known = set(paths)
    lines = [f"GraphQL endpoint: {base}/graphql (HTTP and WebSocket)"]
    if settings.graphiql:
        lines.append(f"GraphiQL: {base}/graphql in a browser")
    if "/help" in known or any(p.startswith("/help/") for p in known):
        lines.append(f"Help center: {base}/help")
    lines.append(f"Health: {base}/health, readiness: {base}/ready")
    if settings.metrics_enabled:
        guard = " (bearer token required)" if settings.metrics_token else ""
        lines.append(f"Metrics: {base}/metrics{guard}")
    if smtp_port is not None:
        lines.append(f"Inbound SMTP (mail to tickets): {settings.smtp_host}:{smtp_port}")
    else:
        lines.append("Inbound SMTP: off in this process (DESKQL_SMTP_ENABLED=false)")
    if settings.relay_configured:
        lines.append(
            f"Outgoing mail: through the relay {settings.relay_host}:{settings.relay_port}"
        )
    else:
        lines.append(
            f"Outgoing mail: no relay configured, written to {settings.outgoing_mail_dir}"
            "/*.eml (set DESKQL_RELAY_HOST to send it)"
        )
    if settings.public_base_url:
        lines.append(f"Links in emails point to {settings.base_url}")
    return lines


def _local_base(settings: Settings) -> str:
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"http://{shown}:{settings.port}"
