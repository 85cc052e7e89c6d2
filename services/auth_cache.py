"""The bearer-token cache: token -> Actor (agent, role, departments) per server process.

Every request used to read its token and the agent's departments from the database (issue 18:
`{ __typename }` was bound by those two statements). An `AuthCache` keeps the Actor a token
resolved to for `auth_cache_ms` (least recently used entries go past `auth_cache_size`).

The guarantee of today is kept within a documented bound: a revoked token, a deactivated or
deleted agent, a changed role or department set stop working

- at once on the process that made the change: the service calls `invalidate(...)`, which
  drops the entries after the transaction commits (`uow.on_commit`);
- within the broadcast's latency on every other process: the same call publishes
  `{"type": "auth.invalidate", ...}` on CHANNEL after the commit, and each process's hub hands
  it to its cache (`AuthCache.receive`); when the hub reconnects (messages may have been lost)
  the whole cache is cleared;
- within `auth_cache_ms` in any case (a change written to the database by other means, or
  while the broadcast is down).

A lookup that started before an invalidation must not store what it read (it may have read
the rows before the change committed): every invalidation bumps `generation`, and `put` only
stores when the generation is still the one the lookup started with.

Entries are keyed by the token's sha256 (the stored digest), never the token itself; a
token's own expiry is kept with the entry and checked on every hit. Failures are not cached.
"""

from __future__ import annotations

import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from datetime import datetime
from typing import TYPE_CHECKING, Any

from deskql.services import uow

if TYPE_CHECKING:
    from deskql.services.auth import Actor

# The broadcast channel of invalidations (an internal hub channel: never a subscription).
CHANNEL = "deskql.auth"
INVALIDATE = "auth.invalidate"

# Every cache of this process (normally one per app), and the one of the app serving the
# current request (set by the GraphQL view for the request's duration).
_caches: weakref.WeakSet[AuthCache] = weakref.WeakSet()
_bound: ContextVar[AuthCache | None] = ContextVar("deskql_auth_cache", default=None)


class AuthCache:
    """An LRU of token digest -> (deadline, Actor, token expiry) with a generation guard."""

    def __init__(
        self, *, ttl_ms: int, size: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = max(0, ttl_ms) / 1000
        self.size = max(0, size)
        self.clock = clock
        self.generation = 0
        self.hits = 0
        self.misses = 0
        # Invalidation messages received from the broadcast (tests, diagnostics).
        self.received = 0
        self._entries: OrderedDict[str, tuple[float, Actor, datetime | None]] = OrderedDict()
        _caches.add(self)

    @property
    def enabled(self) -> bool:
        """False when auth_cache_ms or auth_cache_size is 0: every lookup reads the database."""
        return self.ttl > 0 and self.size > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> tuple[Actor, datetime | None] | None:
        """The fresh entry of a token digest (Actor, the token's expiry), or None."""
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        if entry[0] <= self.clock():
            del self._entries[key]
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry[1], entry[2]

    def put(self, key: str, actor: Actor, expires_at: datetime | None, generation: int) -> bool:
        """Store what a lookup that started at `generation` read; refused (False) when an
        invalidation happened since, or when the cache is off."""
        if not self.enabled or generation != self.generation:
            return False
        self._entries[key] = (self.clock() + self.ttl, actor, expires_at)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return True

    def forget(self, key: str) -> None:
        """Drop one token digest's entry (an expired token seen on a hit)."""
        self._entries.pop(key, None)

    def drop(
        self,
        *,
        agent_ids: Iterable[int] = (),
        token_ids: Iterable[int] = (),
        everything: bool = False,
    ) -> None:
        """Drop the entries of these agents and tokens (or all); lookups in flight won't store."""
        self.generation += 1
        if everything:
            self._entries.clear()
            return
        agents, tokens = set(agent_ids), set(token_ids)
        if not agents and not tokens:
            return
        stale = [
            key
            for key, (_, actor, _) in self._entries.items()
            if actor.agent_id in agents or actor.token_id in tokens
        ]
        for key in stale:
            del self._entries[key]

    def clear(self) -> None:
        """Drop every entry (the hub reconnected: invalidations may have been missed)."""
        self.drop(everything=True)

    def receive(self, message: dict[str, Any]) -> None:
        """Apply an invalidation message from the broadcast (the hub's listener)."""
        if message.get("type") != INVALIDATE:
            return
        self.received += 1
        _apply(self, message)


def _apply(cache: AuthCache, message: dict[str, Any]) -> None:
    cache.drop(
        agent_ids=_ints(message.get("agents")),
        token_ids=_ints(message.get("tokens")),
        everything=bool(message.get("all")),
    )


def _ints(values: Any) -> list[int]:
    if not isinstance(values, list):
        return []
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool)]


def bind(cache: AuthCache | None) -> Any:
    """Make `cache` this context's local cache (the view, per request); returns the reset token."""
    return _bound.set(cache)


def unbind(token: Any) -> None:
    """Undo `bind`."""
    _bound.reset(token)


def local_caches() -> list[AuthCache]:
    """The caches an invalidation made here drops at once: the current request's app's, or
    (outside a request: services called directly, the CLI) every cache of the process."""
    bound = _bound.get()
    return [bound] if bound is not None else list(_caches)


def invalidate(
    *,
    agent_ids: Iterable[int] = (),
    token_ids: Iterable[int] = (),
    everything: bool = False,
) -> None:
    """After the surrounding transaction commits (at once outside one): drop the cached Actors
    of these agents/tokens in this process and publish the same on CHANNEL for the others."""
    message: dict[str, Any] = {
        "type": INVALIDATE,
        "agents": sorted(set(agent_ids)),
        "tokens": sorted(set(token_ids)),
        "all": everything,
    }
    caches = local_caches()

    def drop_local() -> None:
        for cache in caches:
            _apply(cache, message)

    uow.on_commit(drop_local)
    uow.add_event(CHANNEL, message)
