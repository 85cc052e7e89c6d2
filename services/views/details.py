"""The detail views: a ticket's conversation (TIC-4) and a contact's timeline (TIC-5)."""

from __future__ import annotations

from tortoise.queryset import QuerySet

from deskql import models
from deskql.services.auth import Actor
from deskql.services.policies import (
    visible_tickets,
)
from deskql.services.sort_keys import epoch_micros

# --- detail views -------------------------------------------------------------------------

ConversationItem = models.Thread | models.Comment


# (created_at in microseconds since 1970 UTC, 0 for a message or 1 for a comment, its id): the
# order of a conversation, and the values of its keyset cursors.
ConversationKey = tuple[int, int, int]


async def conversation_keys(actor: Actor, *, ticket_id: int) -> list[ConversationKey]:
    """The keys of a ticket's threads and comments interleaved oldest first (TIC-4): ties in
    time put messages before comments, then follow ids. Empty for a ticket out of reach.
    Private items are included (agents see them). Three statements."""
    if not await visible_tickets(actor).filter(id=ticket_id).exists():
        return []
    threads = await models.Thread.filter(ticket_id=ticket_id).values_list("id", "created_at")
    comments = await models.Comment.filter(ticket_id=ticket_id).values_list("id", "created_at")
    return sorted(
        [(epoch_micros(at), 0, pk) for pk, at in threads]
        + [(epoch_micros(at), 1, pk) for pk, at in comments]
    )


async def conversation_items(keys: list[ConversationKey]) -> list[ConversationItem | None]:
    """The thread or comment of each key (None: gone meanwhile); one statement per kind."""
    thread_ids = [pk for _, kind, pk in keys if kind == 0]
    comment_ids = [pk for _, kind, pk in keys if kind == 1]
    rows: dict[tuple[int, int], ConversationItem] = {}
    if thread_ids:
        rows |= {(0, t.id): t for t in await models.Thread.filter(id__in=thread_ids)}
    if comment_ids:
        rows |= {(1, c.id): c for c in await models.Comment.filter(id__in=comment_ids)}
    return [rows.get((kind, pk)) for _, kind, pk in keys]


def contact_timeline(actor: Actor, *, contact_id: int) -> QuerySet[models.Ticket]:
    """The contact's tickets the actor may see, newest first (TIC-5)."""
    return visible_tickets(actor).filter(contact_id=contact_id).order_by("-created_at", "-id")
