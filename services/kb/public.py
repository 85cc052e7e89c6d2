"""What readers outside the agents' article lists get: published articles by audience (the
/kb pages: PUBLIC; the help center's contacts: PUBLIC and CONTACTS; search), permalink
resolution with redirects (KB-2), the rendered body, view counts and votes."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.expressions import F
from tortoise.queryset import QuerySet

from deskql import models
from deskql.models.kb import ArticleStatus, ArticleVisibility
from deskql.services import activity, notifications, uow
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, ValidationFailed
from deskql.services.kb import permalinks
from deskql.services.kb.articles import require_article
from deskql.services.sanitize import render_markdown

log = logging.getLogger("deskql.kb")

# Bumped by every change to an article or category in this process: readers' caches of
# rendered pages (web/kb.py) drop what they hold. Other processes' caches expire on their own.
_generation = 0


def changed() -> None:
    """Note that an article or category changed (the public pages' caches drop their pages)."""
    global _generation
    _generation += 1


def generation() -> int:
    """How many article or category changes this process has seen."""
    return _generation


PUBLIC = (ArticleVisibility.PUBLIC,)
CONTACTS = (ArticleVisibility.PUBLIC, ArticleVisibility.CONTACTS)


def published(visibilities: Iterable[ArticleVisibility] = PUBLIC) -> QuerySet[models.Article]:
    """PUBLISHED articles of these visibilities (PUBLIC: anyone; CONTACTS: signed-in contacts)."""
    return models.Article.filter(status=ArticleStatus.PUBLISHED, visibility__in=list(visibilities))


@dataclass(frozen=True)
class Page:
    """What a public article page shows (read in one query, no model objects)."""

    id: int
    title: str
    summary: str
    body: str
    permalink: str
    updated_at: datetime
    category_name: str | None


@dataclass(frozen=True)
class Resolved:
    """What a permalink names for a reader: the article (current permalink), a redirect to
    the current permalink (an old one), gone (a deleted article's), or nothing."""

    article: models.Article | None = None
    redirect_to: str | None = None
    gone: bool = False


@dataclass(frozen=True)
class ResolvedPage:
    """`Resolved`, with what the /kb page shows instead of the article row."""

    article: Page | None = None
    redirect_to: str | None = None
    gone: bool = False


async def resolve(permalink: str, visibilities: Iterable[ArticleVisibility] = PUBLIC) -> Resolved:
    """Resolve a permalink for readers of these visibilities (the help center, search):
    the article row for its current permalink, a redirect for an old one, gone for a deleted
    article's; a malformed one is not even looked up."""
    allowed = list(visibilities)
    if not permalinks.is_well_formed(permalink):
        return Resolved()
    article = await published(allowed).filter(permalink=permalink).first()
    if article is not None:
        return Resolved(article=article)
    rows = await models.ArticlePermalink.filter(permalink=permalink).values_list(
        "article_id", "article__permalink", "article__status", "article__visibility"
    )
    if not rows:
        return Resolved()
    article_id, current, status, visibility = rows[0]
    if article_id is None:
        return Resolved(gone=True)
    allowed_values = {v.value for v in allowed}
    if (
        getattr(status, "value", status) != ArticleStatus.PUBLISHED.value
        or getattr(visibility, "value", visibility) not in allowed_values
        or current == permalink
    ):
        return Resolved()
    return Resolved(redirect_to=current)


# The page's one statement, as SQL: Tortoise spends ~0.9 ms building the same joined query
# on every call (bench/kb_pages.py), more than the database takes to answer it.
_PAGE_SQL = (
    'SELECT p."article_id", a."permalink", a."status", a."visibility", a."title", '
    'a."summary", a."body", a."updated_at", c."name" '
    'FROM "article_permalink" p '
    'LEFT JOIN "article" a ON a."id" = p."article_id" '
    'LEFT JOIN "article_category" c ON c."id" = a."category_id" '
    'WHERE p."permalink" = {mark}'
)


async def resolve_page(
    permalink: str, visibilities: Iterable[ArticleVisibility] = PUBLIC
) -> ResolvedPage:
    """`resolve` for the /kb page, in one statement (the permalink row joined to its article
    and the article's category), current and old permalinks alike."""
    allowed = {v.value for v in visibilities}
    if not permalinks.is_well_formed(permalink):
        return ResolvedPage()
    conn = models.ArticlePermalink._meta.db
    mark = "$1" if conn.capabilities.dialect == "postgres" else "?"
    _, rows = await conn.execute_query(_PAGE_SQL.format(mark=mark), [permalink])
    if not rows:
        return ResolvedPage()
    pk, current, status, visibility, title, summary, body, updated_at, category = tuple(rows[0])
    if pk is None:
        return ResolvedPage(gone=True)
    if status != ArticleStatus.PUBLISHED.value or visibility not in allowed:
        return ResolvedPage()
    if current != permalink:
        return ResolvedPage(redirect_to=current)
    page = Page(pk, title, summary, body, current, _aware(updated_at), category)
    return ResolvedPage(article=page)


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):  # some backends hand joined datetimes back as text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# Views are counted in memory and written every FLUSH_SECONDS, one UPDATE per article
# (`view_count = view_count + n`, so processes never overwrite each other's counts): a page
# view costs no write of its own. Views of the last interval are lost if the process dies.
FLUSH_SECONDS = 1.0
_pending: Counter[int] = Counter()
_flusher: asyncio.Task[None] | None = None


async def count_view(article_id: int) -> None:
    """Count one view of an article (written within FLUSH_SECONDS)."""
    global _flusher
    _pending[article_id] += 1
    if _flusher is None or _flusher.done():
        _flusher = asyncio.get_running_loop().create_task(_flush_later())


async def _flush_later() -> None:
    await asyncio.sleep(FLUSH_SECONDS)
    try:
        await flush_views()
    except Exception:  # noqa: BLE001 - counts are best effort; the next flush retries them
        log.warning("writing article view counts failed; will retry", exc_info=True)


async def flush_views() -> None:
    """Write the views counted so far (called every FLUSH_SECONDS, and by tests)."""
    if not _pending:
        return
    batch = dict(_pending)
    _pending.clear()
    try:
        async with uow.transaction():
            for article_id, views in sorted(batch.items()):
                await models.Article.filter(id=article_id).update(
                    view_count=F("view_count") + views
                )
    except BaseException:
        _pending.update(batch)  # put them back for the next flush
        raise


# Rendered bodies by (article, last change): rendering is the page's costliest step.
_RENDERED: OrderedDict[tuple[int, datetime], str] = OrderedDict()
_RENDERED_MAX = 512


def body_html(article: models.Article | Page) -> str:
    """The article's Markdown body rendered and sanitized (markdown-it-py + nh3)."""
    key = (article.id, article.updated_at)
    html = _RENDERED.get(key)
    if html is None:
        html = render_markdown(article.body)
        _RENDERED[key] = html
        if len(_RENDERED) > _RENDERED_MAX:
            _RENDERED.popitem(last=False)
    return html


async def _vote(
    article: models.Article, helpful: bool, *, agent_id: int | None, contact_id: int | None
) -> bool | None:
    """Store one voter's vote and move the counters; the previous vote (None: first)."""
    voter = {"agent_id": agent_id} if agent_id is not None else {"contact_id": contact_id}
    existing = await models.ArticleVote.filter(article_id=article.id, **voter).first()
    previous = existing.helpful if existing is not None else None
    if previous is helpful:
        return previous
    counter = "helpful_count" if helpful else "not_helpful_count"
    changes = {counter: F(counter) + 1}
    if existing is None:
        await models.ArticleVote.create(article_id=article.id, helpful=helpful, **voter)
    else:
        await models.ArticleVote.filter(id=existing.id).update(helpful=helpful)
        other = "not_helpful_count" if helpful else "helpful_count"
        changes[other] = F(other) - 1
    await models.Article.filter(id=article.id).update(**changes)
    return previous


def _require_published(article: models.Article) -> None:
    if article.status is not ArticleStatus.PUBLISHED:
        raise ValidationFailed.one(
            "id", "only a published article takes votes", ErrorCode.INVALID_STATE
        )


async def vote(actor: Actor, *, article_id: int, helpful: bool) -> models.Article:
    """An agent's helpful / not-helpful vote on a published article they may see; voting
    again replaces their vote. Recorded as an Activity that notifies nobody."""
    article = await require_article(actor, article_id)
    _require_published(article)
    async with uow.transaction():
        previous = await _vote(article, helpful, agent_id=actor.agent_id, contact_id=None)
        if previous is not helpful:
            with notifications.quiet():
                await activity.record(
                    actor=actor,
                    kind="article.voted",
                    subject_type="Article",
                    subject_id=article.id,
                    department_id=article.department_id,  # type: ignore[attr-defined]
                    changes={"helpful": {"old": previous, "new": helpful}},
                )
        await article.refresh_from_db()
    return article


async def vote_as_contact(
    *,
    contact_id: int,
    article_id: int,
    helpful: bool,
    visibilities: Iterable[ArticleVisibility] = CONTACTS,
) -> models.Article:
    """A contact's vote on a published article of their audience (the help center)."""
    article = await published(visibilities).filter(id=article_id).first()
    if article is None:
        raise ValidationFailed.one("id", "no such article", ErrorCode.NOT_FOUND)
    async with uow.transaction():
        previous = await _vote(article, helpful, agent_id=None, contact_id=contact_id)
        if previous is not helpful:
            with notifications.quiet():
                await activity.record(
                    actor=None,
                    kind="article.voted",
                    subject_type="Article",
                    subject_id=article.id,
                    department_id=article.department_id,  # type: ignore[attr-defined]
                    contact_id=contact_id,
                    changes={"helpful": {"old": previous, "new": helpful}},
                )
        await article.refresh_from_db()
    return article
