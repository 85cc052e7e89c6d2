"""Published articles in the help center (KB): PUBLIC ones for anyone, PUBLIC and CONTACTS
ones for signed-in contacts, read through the knowledge base's own services
(services.kb.public). Until the search issue lands, `query` matches every word in the title,
summary or body (case-insensitive)."""

from __future__ import annotations

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from deskql import models
from deskql.models.kb import ArticleVisibility
from deskql.services.kb import public

QUERY_MAX = 200


def audience(signed_in: bool) -> tuple[ArticleVisibility, ...]:
    """The visibilities a reader may see: contacts also read CONTACTS articles."""
    return tuple(public.CONTACTS if signed_in else public.PUBLIC)


def list_articles(signed_in: bool, query: str | None = None) -> QuerySet[models.Article]:
    """Published articles the reader may see, newest first, matching every word of `query`."""
    qs = public.published(audience(signed_in))
    for word in (query or "")[:QUERY_MAX].split()[:10]:
        qs = qs.filter(
            Q(title__icontains=word) | Q(summary__icontains=word) | Q(body__icontains=word)
        )
    return qs.order_by("-published_at", "-id")


async def get_article(signed_in: bool, permalink: str) -> models.Article | None:
    """The published article a permalink names for contacts (an old permalink follows its
    redirect, KB-2), counted as a view; None when there is none."""
    found = await public.resolve(permalink, audience(signed_in))
    if found.redirect_to is not None:
        found = await public.resolve(found.redirect_to, audience(signed_in))
    if found.article is None:
        return None
    await public.count_view(found.article.id)
    return found.article
