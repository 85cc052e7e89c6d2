"""The per-request GraphQL context: the acting agent and fresh DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry.types import Info as StrawberryInfo

from deskql.schema.loaders import Loaders
from deskql.services.auth import Actor
from deskql.services.errors import NotAuthenticated
from deskql.settings import Settings


@dataclass
class Context:
    """What resolvers see as `info.context`."""

    settings: Settings
    actor: Actor | None
    auth_error: str | None = None
    request: Any = None
    response: Any = None
    connection_params: dict[str, Any] | None = None
    _loaders: Loaders | None = field(default=None, repr=False)

    @property
    def loaders(self) -> Loaders:
        """DataLoaders for this request, scoped to the actor's access."""
        if self._loaders is None:
            self._loaders = Loaders(self.require_actor())
        return self._loaders

    def fresh_loaders(self) -> Loaders:
        """New loaders (for each subscription event: a WebSocket context lives long)."""
        self._loaders = Loaders(self.require_actor())
        return self._loaders

    def reset_loaders(self) -> None:
        """Drop this request's loaders (the read path's fallback starts from clean caches)."""
        self._loaders = None

    def require_actor(self) -> Actor:
        """The authenticated actor, or NotAuthenticated with the reason."""
        if self.actor is None:
            raise NotAuthenticated(
                self.auth_error or "authentication required: send 'Authorization: Bearer <token>'"
            )
        return self.actor


Info = StrawberryInfo[Context, None]


def actor_of(info: Info) -> Actor:
    """The authenticated actor of a resolver's request."""
    return info.context.require_actor()
