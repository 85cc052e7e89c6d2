"""Helpers of the serving tests: the real app over httpx with settings of the test's own,
with or without its lifespan (hub, outbox worker, SMTP listener)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx

from deskql.server import create_app
from deskql.settings import Settings


def free_port() -> int:
    """A TCP port of 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def app_client(
    settings: Settings, *, lifespan: bool = False, middleware: bool = True, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client of the app built with these settings (SMTP and the outbox worker off
    unless overridden); with `lifespan`, the app's start-up and shut-down run around it."""
    values: dict[str, Any] = {"smtp_enabled": False, "outbox_enabled": False}
    values.update(overrides)
    app = create_app(replace(settings, **values), manage_db=False, middleware=middleware)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        if lifespan:
            async with app.router.lifespan_context(app):
                client.app = app  # type: ignore[attr-defined]
                yield client
        else:
            client.app = app  # type: ignore[attr-defined]
            yield client
