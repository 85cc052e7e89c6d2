"""Automatic persisted queries (Apollo's APQ protocol) and an allow-list for production.

A client sends `extensions: {"persistedQuery": {"version": 1, "sha256Hash": H}}` without the
query; an unknown H answers `PersistedQueryNotFound` (code PERSISTED_QUERY_NOT_FOUND), the
client sends H with the query once, the server checks that H is the query's SHA-256 (a
mismatch is refused: PERSISTED_QUERY_HASH_MISMATCH) and remembers it; later requests carry H
only. Works over POST and GET (where a mutation stays refused, as without APQ).

With `persisted_queries_allowlist` set (a JSON file: Apollo's persisted query manifest, or
an object of {hash: query}), only those operations run, whether sent by hash or in full:
anything else is refused (PERSISTED_QUERY_NOT_ALLOWED), and nothing new is remembered.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deskql.settings import Settings

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
NOT_ALLOWED = "PERSISTED_QUERY_NOT_ALLOWED"


@dataclass(frozen=True)
class Refusal:
    """Why a request's persisted query cannot run: a GraphQL error message and code."""

    message: str
    code: str


def sha256(query: str) -> str:
    """The hex SHA-256 of a query text, as APQ clients compute it."""
    return hashlib.sha256(query.encode("utf-8")).hexdigest()


def load_allowlist(path: str) -> dict[str, str]:
    """{hash: query} from Apollo's manifest (`operations: [{id, body}]`) or a {hash: query}
    object; every hash must be its query's SHA-256 (ValueError otherwise)."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read the persisted query allow-list {path}: {exc}") from None
    if isinstance(raw, dict) and isinstance(raw.get("operations"), list):
        pairs = [(op.get("id"), op.get("body")) for op in raw["operations"]]
    elif isinstance(raw, dict):
        pairs = list(raw.items())
    else:
        raise ValueError(f"{path}: expected a manifest or an object of hash: query")
    found: dict[str, str] = {}
    for key, body in pairs:
        if not isinstance(key, str) or not isinstance(body, str):
            raise ValueError(f"{path}: every entry needs a hash and a query text")
        if sha256(body) != key.lower():
            raise ValueError(f"{path}: {key} is not the SHA-256 of its query")
        found[key.lower()] = body
    return found


class PersistedQueries:
    """One process's store of persisted queries: a bounded LRU, or a fixed allow-list."""

    def __init__(self, settings: Settings) -> None:
        self.max_size = max(settings.persisted_queries_cache_size, 0)
        self.allowlist: dict[str, str] | None = None
        if settings.persisted_queries_allowlist:
            self.allowlist = load_allowlist(settings.persisted_queries_allowlist)
        self._cache: OrderedDict[str, str] = OrderedDict()

    def resolve(self, query: str | None, extensions: dict[str, Any] | None) -> str | Refusal:
        """The query text to run for a request, or why it is refused."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            if self.allowlist is None or query is None:
                return query  # type: ignore[return-value] - None: strawberry says "no query"
            if sha256(query) not in self.allowlist:
                return Refusal("this server only runs registered operations", NOT_ALLOWED)
            return query
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            return Refusal("persistedQuery: only version 1 is supported", NOT_SUPPORTED)
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str) or len(digest) != 64:
            return Refusal("persistedQuery.sha256Hash must be 64 hex digits", HASH_MISMATCH)
        digest = digest.lower()
        if query is not None:
            if sha256(query) != digest:
                return Refusal("provided sha does not match query", HASH_MISMATCH)
            if self.allowlist is not None:
                if digest not in self.allowlist:
                    return Refusal("this server only runs registered operations", NOT_ALLOWED)
                return query
            self._remember(digest, query)
            return query
        if self.allowlist is not None:
            known = self.allowlist.get(digest)
            if known is None:
                return Refusal("this server only runs registered operations", NOT_ALLOWED)
            return known
        if self.max_size == 0:
            return Refusal("PersistedQueryNotSupported", NOT_SUPPORTED)
        known = self._cache.get(digest)
        if known is None:
            return Refusal("PersistedQueryNotFound", NOT_FOUND)
        self._cache.move_to_end(digest)
        return known

    def _remember(self, digest: str, query: str) -> None:
        if self.max_size == 0:
            return
        self._cache[digest] = query
        self._cache.move_to_end(digest)
        while len(self._cache) > self.max_size:
            self._cache.popitem(last=False)
