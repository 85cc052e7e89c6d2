"""Who a stream's subscriber is now: the Actor of the connection's token, re-loaded on a short
cache (ACTOR_TTL) and re-read ahead in the background, so that a revoked token, a deactivated
agent or a lost membership ends a stream within that time without every event waiting."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from deskql.realtime import batch
from deskql.realtime.streams.common import AccessLost
from deskql.services.auth import Actor

log = logging.getLogger("deskql.streams")

# Seconds a re-loaded Actor is reused at most: bounds the database work of a burst of events
# while a revoked token or lost membership still stops a stream within this time. Past half
# of it the Actor is still served, and re-read in the background for every such token at
# once, so a steady stream of events never waits for the re-check (`_refresh_ahead`).
ACTOR_TTL = 0.5

_actors: dict[str, tuple[float, Actor | None, str]] = {}


async def reload_actor(token: str) -> Actor:
    """The Actor of a token as the database says now (at most ACTOR_TTL seconds old)."""
    now = time.monotonic()
    cached = _actors.get(token)
    age = now - cached[0] if cached is not None else ACTOR_TTL
    if cached is not None and age < ACTOR_TTL:
        actor, reason = cached[1], cached[2]
        if age >= ACTOR_TTL / 2:
            _refresh_ahead(token)
    else:
        # Batched: every subscriber woken by one event re-checks its token in one query.
        actor, reason = _remember(token, now, await batch.actor(token))
    if actor is None:
        raise AccessLost(f"access lost: {reason}")
    return actor


def cached_actor(token: str, since: float | None = None) -> Actor | str | None:
    """`reload_actor` without waiting: the cached Actor (re-read ahead as `reload_actor`
    does), the reason the token is refused, or None when it must be re-read first.

    `since` (time.monotonic() when the event being delivered arrived): the Actor counts as
    fresh if it was read at most ACTOR_TTL before then. An event is delivered only on an
    access check made at most ACTOR_TTL before it arrived (or after), however long its
    delivery to thousands of subscribers takes: an Actor re-read for this event does not go
    stale again halfway through delivering it."""
    cached = _actors.get(token)
    if cached is None:
        return None
    now = time.monotonic()
    age = now - cached[0]
    if (now if since is None else min(since, now)) - cached[0] >= ACTOR_TTL:
        return None
    if age >= ACTOR_TTL / 2:
        _refresh_ahead(token)
    return cached[1] if cached[1] is not None else cached[2]


async def reload_actors(tokens: list[str]) -> None:
    """Re-read the Actors of these tokens now, in one query (into the cache)."""
    at = time.monotonic()
    found = await batch.load_actors(tokens)
    for token, value in zip(tokens, found, strict=True):
        _remember(token, at, value)


def _remember(token: str, at: float, found: Actor | str) -> tuple[Actor | None, str]:
    actor, reason = (found, "") if isinstance(found, Actor) else (None, found)
    if len(_actors) > 10_000:
        _actors.clear()
    _actors[token] = (at, actor, reason)
    return actor, reason


_stale: set[str] = set()
_refresher: asyncio.Task[None] | None = None


def _refresh_ahead(token: str) -> None:
    """Re-read this token's Actor soon, with every other token that got old meanwhile."""
    global _refresher
    _stale.add(token)
    if _refresher is None or _refresher.done():
        _refresher = asyncio.get_running_loop().create_task(_refresh())


async def _refresh() -> None:
    await asyncio.sleep(0)  # let every subscriber woken by this event add its token
    while _stale:
        tokens = list(_stale)
        _stale.clear()
        try:
            await reload_actors(tokens)
        except Exception:  # noqa: BLE001 - the next reload_actor re-reads it synchronously
            log.warning("re-reading %d subscribers' tokens failed", len(tokens))
            return


def connection_token(params: Any, request: Any = None) -> str | None:
    """The token of a WebSocket: connection_init payload {"token": ...} or
    {"Authorization": "Bearer ..."} (any case), else the handshake's Authorization header."""
    if isinstance(params, dict):
        token = params.get("token")
        if isinstance(token, str) and token.strip():
            return token.strip()
        for key, value in params.items():
            if isinstance(key, str) and key.lower() == "authorization" and isinstance(value, str):
                scheme, _, rest = value.partition(" ")
                if scheme.lower() == "bearer" and rest.strip():
                    return rest.strip()
    headers = getattr(request, "headers", None)
    if headers is not None:
        scheme, _, rest = (headers.get("authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and rest.strip():
            return rest.strip()
    return None


def forget_actor(token: str) -> None:
    """Drop a token's cached Actor (tests, and after a revocation in this process)."""
    _actors.pop(token, None)
    _stale.discard(token)
