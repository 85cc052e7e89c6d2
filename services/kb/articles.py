"""Articles (KB-1): create, update, publish, unpublish, delete, list and read, for agents.

Every change is one transaction with an Activity row about the Article (`article.created`,
`.updated` with old and new values, `.published`, `.unpublished`, `.deleted`), linked to the
article's department; its author (OWNER) and followers are notified of changes by others.
Articles take comments and followers through services.records (registered at the bottom).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from deskql import models
from deskql.models.kb import ArticleStatus, ArticleVisibility
from deskql.services import activity, records, uow
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.kb import checks, permalinks

BODY_MAX = checks.BODY_MAX
tags_of = checks.tags_of  # tag names of articles, by article (resolvers' loader)

# Fields articleUpdate may change.
UPDATABLE = (
    "title",
    "body",
    "summary",
    "category_id",
    "department_id",
    "visibility",
    "permalink",
    "tags",
)


def visible_articles(actor: Actor) -> QuerySet[models.Article]:
    """The articles the actor may see: those of their departments (administrators: all)."""
    qs = models.Article.all()
    if not actor.is_admin:
        qs = qs.filter(department_id__in=list(actor.department_ids))
    return qs


async def get_article(actor: Actor, *, article_id: int) -> models.Article | None:
    """The article, or None when absent or not the actor's to see."""
    return await visible_articles(actor).filter(id=article_id).first()


async def get_by_permalink(actor: Actor, *, permalink: str) -> models.Article | None:
    """The article that has or had this permalink (old ones too), if the actor may see it."""
    if not 0 < len(permalink) <= permalinks.MAX_GIVEN:
        return None
    slug = permalinks.normalise(permalink)
    found = await visible_articles(actor).filter(permalink=slug).first()
    if found is not None:
        return found
    taken, owner = await permalinks.owner_of(slug)
    if owner is None:
        return None
    return await get_article(actor, article_id=owner)


async def require_article(actor: Actor, article_id: int, field: str = "id") -> models.Article:
    """The article the actor may see, or NOT_FOUND on `field`."""
    row = await get_article(actor, article_id=article_id)
    if row is None:
        raise ValidationFailed.one(field, "no such article", ErrorCode.NOT_FOUND)
    return row


@asynccontextmanager
async def _changing() -> AsyncIterator[None]:
    """A unit of work that changes what readers see: the public pages' caches in this
    process drop their pages when it begins and again once it is over (services.kb.public)."""
    from deskql.services.kb import public  # public imports articles, which imports categories

    public.changed()
    async with uow.transaction():
        yield
    public.changed()


async def _record(
    actor: Actor, kind: str, article: models.Article, changes: dict[str, Any]
) -> models.Activity:
    return await activity.record(
        actor=actor,
        kind=kind,
        subject_type="Article",
        subject_id=article.id,
        department_id=article.department_id,  # type: ignore[attr-defined]
        changes=changes,
        owners=_owners(article),
    )


def _owners(article: models.Article) -> list[int]:
    author = article.author_id  # type: ignore[attr-defined]
    return [author] if author is not None else []


async def create_article(
    actor: Actor,
    *,
    title: str,
    department_id: int,
    body: str = "",
    summary: str = "",
    category_id: int | None = None,
    visibility: ArticleVisibility = ArticleVisibility.AGENTS,
    tags: list[str] | None = None,
    permalink: str | None = None,
) -> models.Article:
    """Create a DRAFT article in one of the actor's departments; its permalink is made from
    the title unless given (normalised; DUPLICATE if any article has or had it)."""
    errors = Errors()
    values = checks.clean_fields(
        errors, {"title": title, "body": body, "summary": summary, "visibility": visibility}
    )
    cleaned_tags = checks.clean_tags(errors, tags or [])
    slug = permalinks.clean_given(errors, permalink) if permalink is not None else None
    await checks.check_department(errors, actor, department_id)
    await checks.check_category(errors, actor, category_id, department_id)
    errors.raise_if_any()
    try:
        return await _insert(actor, values, department_id, category_id, slug, cleaned_tags)
    except IntegrityError:  # another article took the permalink at the same moment
        raise ValidationFailed.one(
            "permalink", "the permalink was taken meanwhile; try again", ErrorCode.DUPLICATE
        ) from None


async def _insert(
    actor: Actor,
    values: dict[str, Any],
    department_id: int,
    category_id: int | None,
    slug: str | None,
    tags: list[str],
) -> models.Article:
    async with _changing():
        if slug is None:
            slug = await permalinks.free_from_title(values["title"])
        else:
            taken, _ = await permalinks.owner_of(slug)
            if taken:
                raise ValidationFailed.one(
                    "permalink",
                    f"the permalink {slug!r} is another article's (current or old) or was a "
                    "deleted article's: permalinks are never reused",
                    ErrorCode.DUPLICATE,
                )
        article = await models.Article.create(
            department_id=department_id,
            category_id=category_id,
            author_id=actor.agent_id,
            permalink=slug,
            status=ArticleStatus.DRAFT,
            **values,
        )
        await permalinks.claim(article.id, slug)
        await checks.set_tags(article.id, tags)
        await _record(
            actor,
            "article.created",
            article,
            {
                "title": article.title,
                "permalink": slug,
                "status": ArticleStatus.DRAFT.value,
                "visibility": article.visibility.value,
                "department_id": department_id,
                "category_id": category_id,
                "tags": tags,
            },
        )
    return article


async def update_article(
    actor: Actor, *, article_id: int, changes: dict[str, Any]
) -> models.Article:
    """Change an article's fields (UPDATABLE); a new permalink keeps the old ones working."""
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    article = await require_article(actor, article_id)
    errors = Errors()
    values = checks.clean_fields(errors, changes)
    department_id = changes.get("department_id", article.department_id)  # type: ignore[attr-defined]
    if "department_id" in changes:
        await checks.check_department(errors, actor, department_id)
        values["department_id"] = department_id
    category_id = changes.get("category_id", article.category_id)  # type: ignore[attr-defined]
    if "category_id" in changes or "department_id" in changes:
        await checks.check_category(errors, actor, category_id, department_id)
        values["category_id"] = category_id
    if changes.get("permalink") is not None:
        values["permalink"] = permalinks.clean_given(errors, changes["permalink"])
    new_tags = checks.clean_tags(errors, changes["tags"] or []) if "tags" in changes else None
    errors.raise_if_any()
    old_tags = (await tags_of([article.id]))[article.id]
    before = {key: getattr(article, key) for key in values}
    diff = activity.diff(before, values)
    if new_tags is not None and sorted(new_tags) != old_tags:
        diff["tags"] = {"old": old_tags, "new": sorted(new_tags)}
    if not diff:
        return article
    async with _changing():
        if "permalink" in diff:
            await permalinks.claim(article.id, values["permalink"])
        for key in ("department_id", "category_id", "permalink"):
            if key not in diff:
                values.pop(key, None)
        plain = {key: value for key, value in values.items() if key in diff}
        if plain:
            await models.Article.filter(id=article.id).update(updated_at=datetime.now(UTC), **plain)
        else:
            await models.Article.filter(id=article.id).update(updated_at=datetime.now(UTC))
        if new_tags is not None and "tags" in diff:
            await checks.set_tags(article.id, new_tags)
        await article.refresh_from_db()
        await _record(actor, "article.updated", article, diff)
    return article


async def _set_status(
    actor: Actor, article_id: int, status: ArticleStatus, kind: str
) -> models.Article:
    # An article of a department the actor does not belong to is NOT_FOUND (ORG-5).
    article = await require_article(actor, article_id)
    if article.status is status:
        return article
    old = article.status
    values: dict[str, Any] = {"status": status, "updated_at": datetime.now(UTC)}
    if status is ArticleStatus.PUBLISHED and article.published_at is None:
        values["published_at"] = datetime.now(UTC)
    async with _changing():
        await models.Article.filter(id=article.id).update(**values)
        await article.refresh_from_db()
        await _record(actor, kind, article, {"status": {"old": old.value, "new": status.value}})
    return article


async def publish_article(actor: Actor, *, article_id: int) -> models.Article:
    """Publish an article (its first publication time is kept)."""
    return await _set_status(actor, article_id, ArticleStatus.PUBLISHED, "article.published")


async def unpublish_article(
    actor: Actor, *, article_id: int, archive: bool = False
) -> models.Article:
    """Take an article off the knowledge base: back to DRAFT, or ARCHIVED."""
    status = ArticleStatus.ARCHIVED if archive else ArticleStatus.DRAFT
    return await _set_status(actor, article_id, status, "article.unpublished")


async def delete_article(actor: Actor, *, article_id: int) -> models.Article:
    """Delete an article with its comments, follows, tags and votes; its permalinks stay
    reserved (they answer 410 Gone), its history stays. Returns it as it was."""
    article = await require_article(actor, article_id)
    async with _changing():
        await _record(
            actor,
            "article.deleted",
            article,
            {"title": article.title, "permalink": article.permalink},
        )
        await records.forget_record("Article", article.id)
        await models.Article.filter(id=article.id).delete()
    return article


@dataclass
class ArticleFilter:
    """Criteria for article lists; every given criterion must hold."""

    category_id: int | None = None
    statuses: list[ArticleStatus] | None = None
    visibilities: list[ArticleVisibility] | None = None
    department_ids: list[int] | None = None
    text: str | None = None
    tag: str | None = None


SORT_FIELDS = {
    "UPDATED_AT": "updated_at",
    "PUBLISHED_AT": "published_at",
    "TITLE": "title",
    "VIEWS": "view_count",
}


def filter_articles(
    qs: QuerySet[models.Article], flt: ArticleFilter | None
) -> QuerySet[models.Article]:
    """Narrow an article query to the filter's criteria (the one filter implementation)."""
    f = flt or ArticleFilter()
    if f.category_id is not None:
        qs = qs.filter(category_id=f.category_id)
    if f.statuses:
        qs = qs.filter(status__in=f.statuses)
    if f.visibilities:
        qs = qs.filter(visibility__in=f.visibilities)
    if f.department_ids:
        qs = qs.filter(department_id__in=f.department_ids)
    if f.text and f.text.strip():
        words = f.text.strip()[:200]
        qs = qs.filter(
            Q(title__icontains=words) | Q(summary__icontains=words) | Q(body__icontains=words)
        )
    if f.tag:
        tagged = models.ArticleTag.filter(tag__name=f.tag.strip().lower()).values("article_id")
        qs = qs.filter(id__in=Subquery(tagged))
    return qs


def list_articles(
    actor: Actor, flt: ArticleFilter | None = None, *, sort: str = "UPDATED_AT", desc: bool = True
) -> QuerySet[models.Article]:
    """The actor's visible articles matching the filter, sorted (ties broken by id)."""
    prefix = "-" if desc else ""
    return filter_articles(visible_articles(actor), flt).order_by(
        f"{prefix}{SORT_FIELDS[sort]}", f"{prefix}id"
    )


# -- comments and followers (services.records) ------------------------------------------


async def _load_for_record(actor: Actor, pk: int, field: str) -> models.Article:
    return await require_article(actor, pk, field)


records.register(
    records.RecordType(
        name="Article",
        kind="article",
        field="articleId",
        load=_load_for_record,
        visible=visible_articles,
        record_activity=records.generic_activity(
            "Article", department_of=lambda article: article.department_id
        ),
        owners=_owners,
    )
)
