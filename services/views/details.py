"""The detail views: a ticket's conversation (TIC-4) and a contact's timeline (TIC-5)."""

from __future__ import annotations

from tortoise.queryset import QuerySet

from deskql import models
from deskql.services.auth import Actor
from deskql.services.policies import (
    visible_tickets,
)

# --- detail views -------------------------------------------------------------------------

ConversationItem = models.Thread | models.Comment


async def conversation(
    actor: Actor, *, ticket_id: int, offset: int, limit: int
) -> tuple[list[ConversationItem], int]:
    """A page of a ticket's threads and comments interleaved oldest first (TIC-4), and how
    many there are. Private items are included (agents see them); each keeps its is_public.

    Four statements whatever the page size: the (id, time) keys of both kinds, then the rows
    of the page. Ties in time put messages before comments, then follow ids."""
    if not await visible_tickets(actor).filter(id=ticket_id).exists():
        return [], 0
    threads = await models.Thread.filter(ticket_id=ticket_id).values_list("id", "created_at")
    comments = await models.Comment.filter(ticket_id=ticket_id).values_list("id", "created_at")
    keys = sorted(
        [(at, 0, pk) for pk, at in threads] + [(at, 1, pk) for pk, at in comments],
    )
    page = keys[offset : offset + limit]
    thread_ids = [pk for _, kind, pk in page if kind == 0]
    comment_ids = [pk for _, kind, pk in page if kind == 1]
    rows: dict[tuple[int, int], ConversationItem] = {}
    if thread_ids:
        rows |= {(0, t.id): t for t in await models.Thread.filter(id__in=thread_ids)}
    if comment_ids:
        rows |= {(1, c.id): c for c in await models.Comment.filter(id__in=comment_ids)}
    return [rows[(kind, pk)] for _, kind, pk in page if (kind, pk) in rows], len(keys)


def contact_timeline(actor: Actor, *, contact_id: int) -> QuerySet[models.Ticket]:
    """The contact's tickets the actor may see, newest first (TIC-5)."""
    return visible_tickets(actor).filter(contact_id=contact_id).order_by("-created_at", "-id")
