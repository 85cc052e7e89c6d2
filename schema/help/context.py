"""The per-request context of the help center's schema: the signed-in contact and loaders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader

from deskql import models
from deskql.services.errors import NotAuthenticated
from deskql.services.helpcenter import messages
from deskql.services.helpcenter.access import ContactActor
from deskql.settings import Settings


async def _ratings(keys: Sequence[int]) -> list[models.TicketRating | None]:
    rows = {r.ticket_id: r for r in await models.TicketRating.filter(ticket_id__in=list(keys))}  # type: ignore[attr-defined]
    return [rows.get(k) for k in keys]


async def _messages(keys: Sequence[int]) -> list[list[messages.Message]]:
    found = await messages.conversation(list(set(keys)))
    return [found.get(k, []) for k in keys]


@dataclass
class HelpContext:
    """What the help center's resolvers see as `info.context`."""

    settings: Settings
    contact: ContactActor | None
    auth_error: str | None = None
    request: Any = None
    response: Any = None
    connection_params: dict[str, Any] | None = None
    token: str | None = None
    _ratings: DataLoader[int, models.TicketRating | None] | None = field(default=None, repr=False)
    _messages: DataLoader[int, list[messages.Message]] | None = field(default=None, repr=False)

    @property
    def ratings(self) -> DataLoader[int, models.TicketRating | None]:
        """Ratings by ticket id (one query per request level)."""
        if self._ratings is None:
            self._ratings = DataLoader(load_fn=_ratings)
        return self._ratings

    @property
    def messages(self) -> DataLoader[int, list[messages.Message]]:
        """Public messages by ticket id (a few queries per request level)."""
        if self._messages is None:
            self._messages = DataLoader(load_fn=_messages)
        return self._messages

    def fresh(self, contact: ContactActor) -> None:
        """A subscription event: the contact as re-checked now, and empty caches."""
        self.contact = contact
        self._ratings = None
        self._messages = None

    def require_contact(self) -> ContactActor:
        """The signed-in contact, or NotAuthenticated with the reason."""
        if self.contact is None:
            raise NotAuthenticated(
                self.auth_error or "sign in first: send 'Authorization: Bearer <contact token>'"
            )
        return self.contact
