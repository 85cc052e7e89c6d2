"""Knowledge-base resolvers: decode ids and enums, call services.kb, build payloads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.dataloader import DataLoader

from deskql import models
from deskql.resolvers.common import given, mutate, page
from deskql.schema.connections import Connection
from deskql.schema.context import actor_of
from deskql.schema.ids import decode_id, input_id, optional_input_id
from deskql.schema.kb_types import Article, ArticleCategory
from deskql.schema.types import Activity, Comment
from deskql.services import comments, follows, policies
from deskql.services.errors import ClientError
from deskql.services.kb import articles as svc
from deskql.services.kb import categories, public

if TYPE_CHECKING:
    from deskql.schema.kb import (
        ArticleCategoryCreateInput,
        ArticleCategoryDeleteInput,
        ArticleCategoryUpdateInput,
        ArticleCreateInput,
        ArticleFilter,
        ArticleIdInput,
        ArticleSort,
        ArticleUnpublishInput,
        ArticleUpdateInput,
        ArticleVoteInput,
    )


class _Loaders:
    """Per-request loaders of the article fields (kept on the request's Loaders)."""

    def __init__(self) -> None:
        self.tags = DataLoader(load_fn=self._tags)
        self.category = DataLoader(load_fn=self._categories)
        self.permalinks = DataLoader(load_fn=self._permalinks)

    @staticmethod
    async def _tags(keys: Sequence[int]) -> list[list[str]]:
        found = await svc.tags_of(list(set(keys)))
        return [found.get(k, []) for k in keys]

    @staticmethod
    async def _categories(keys: Sequence[int]) -> list[ArticleCategory | None]:
        rows = await models.ArticleCategory.filter(id__in=list(set(keys)))
        by_id = {row.id: ArticleCategory.from_row(row) for row in rows}
        return [by_id.get(k) for k in keys]

    @staticmethod
    async def _permalinks(keys: Sequence[int]) -> list[list[str]]:
        groups: dict[int, list[str]] = defaultdict(list)
        rows = (
            await models.ArticlePermalink.filter(article_id__in=list(set(keys)))
            .order_by("id")
            .values_list("article_id", "permalink")
        )
        for pk, permalink in rows:
            groups[pk].append(permalink)
        return [groups.get(k, []) for k in keys]


def _loaders(info: strawberry.Info) -> _Loaders:
    holder = info.context.loaders
    found = getattr(holder, "kb", None)
    if found is None:
        found = _Loaders()
        holder.kb = found
    return found  # type: ignore[no-any-return]


async def old_permalinks(info: strawberry.Info, pk: int, current: str) -> list[str]:
    """`Article.oldPermalinks`."""
    return [p for p in await _loaders(info).permalinks.load(pk) if p != current]


async def article_tags(info: strawberry.Info, pk: int) -> list[str]:
    """`Article.tags`."""
    return await _loaders(info).tags.load(pk)


async def article_category(info: strawberry.Info, pk: int | None) -> ArticleCategory | None:
    """`Article.category`."""
    if pk is None:
        return None
    return await _loaders(info).category.load(pk)


async def article_comments(
    info: strawberry.Info, pk: int, *, first: int | None, after: str | None
) -> Connection[Comment]:
    """`Article.comments` (the article itself was checked when it was fetched)."""
    return await page(
        info,
        comments.comments_of("Article", pk),
        first=first,
        after=after,
        convert=Comment.from_row,
    )


async def article_activities(
    info: strawberry.Info, pk: int, *, first: int | None, after: str | None
) -> Connection[Activity]:
    """`Article.activities`: newest first."""
    query = policies.visible(actor_of(info), models.Activity).filter(
        subject_type="Article", subject_id=pk
    )
    return await page(
        info, query.order_by("-id"), first=first, after=after, convert=Activity.from_row
    )


async def article_following(info: strawberry.Info, pk: int) -> bool:
    """`Article.following`."""
    return await follows.is_following_record(actor_of(info), type_name="Article", record_id=pk)


def _filter(flt: ArticleFilter | None) -> svc.ArticleFilter | None:
    if flt is None:
        return None
    return svc.ArticleFilter(
        category_id=(
            decode_id(flt.category_id, "ArticleCategory") if flt.category_id is not None else None
        ),
        statuses=flt.status,
        visibilities=flt.visibility,
        department_ids=(
            [decode_id(d, "Department") for d in flt.department_ids] if flt.department_ids else None
        ),
        text=flt.text,
        tag=flt.tag,
    )


async def articles(
    info: strawberry.Info,
    *,
    filter: ArticleFilter | None,
    sort: ArticleSort | None,
    first: int | None,
    after: str | None,
) -> Connection[Article]:
    """`articles`."""
    query = svc.list_articles(
        actor_of(info),
        _filter(filter),
        sort=sort.field.value if sort else "UPDATED_AT",
        desc=sort.direction.value == "DESC" if sort else True,
    )
    return await page(info, query, first=first, after=after, convert=Article.from_row)


async def article(
    info: strawberry.Info, *, id: str | None, permalink: str | None
) -> Article | None:
    """`article(id|permalink)`."""
    actor = actor_of(info)
    if (id is None) == (permalink is None):
        raise ClientError("article needs an id or a permalink (one of them)")
    if id is not None:
        row = await svc.get_article(actor, article_id=decode_id(id, "Article"))
    else:
        row = await svc.get_by_permalink(actor, permalink=permalink or "")
    return Article.from_row(row) if row else None


async def article_categories(info: strawberry.Info) -> list[ArticleCategory]:
    """`articleCategories`: the visible categories as a tree (roots at the top level)."""
    rows = await categories.category_tree(actor_of(info))
    nodes = {row.id: ArticleCategory.from_row(row) for row in rows}
    roots: list[ArticleCategory] = []
    for node in nodes.values():  # by position then id: children keep that order
        parent = nodes.get(node.parent_pk) if node.parent_pk is not None else None
        if parent is not None:
            parent.children_rows.append(node)
        else:
            roots.append(node)  # a root, or under a category the actor may not see
    return roots


def _article_payload() -> Any:
    from deskql.schema.kb import ArticlePayload

    return ArticlePayload


async def article_create(info: strawberry.Info, input: ArticleCreateInput) -> Any:
    """`articleCreate`."""

    async def run() -> dict[str, Any]:
        row = await svc.create_article(
            actor_of(info),
            title=input.title,
            department_id=input_id(input.department_id, "Department", "departmentId"),
            body=input.body,
            summary=input.summary,
            category_id=optional_input_id(input.category_id, "ArticleCategory", "categoryId"),
            visibility=input.visibility,
            tags=input.tags,
            permalink=input.permalink,
        )
        return {"article": Article.from_row(row)}

    return await mutate(_article_payload(), run)


async def article_update(info: strawberry.Info, input: ArticleUpdateInput) -> Any:
    """`articleUpdate`."""

    async def run() -> dict[str, Any]:
        changes = given(
            input,
            {
                "title": "title",
                "body": "body",
                "summary": "summary",
                "visibility": "visibility",
                "tags": "tags",
                "permalink": "permalink",
            },
        )
        if changes.get("title", "") is None:
            changes["title"] = ""  # null title: refused as empty
        if changes.get("visibility", 0) is None:
            changes.pop("visibility")
        if input.category_id is not strawberry.UNSET:
            changes["category_id"] = optional_input_id(
                input.category_id, "ArticleCategory", "categoryId"
            )
        if input.department_id is not strawberry.UNSET and input.department_id is not None:
            changes["department_id"] = input_id(input.department_id, "Department", "departmentId")
        if "permalink" in changes and changes["permalink"] is None:
            changes.pop("permalink")
        row = await svc.update_article(
            actor_of(info), article_id=input_id(input.id, "Article", "id"), changes=changes
        )
        return {"article": Article.from_row(row)}

    return await mutate(_article_payload(), run)


async def article_publish(info: strawberry.Info, input: ArticleIdInput) -> Any:
    """`articlePublish`."""

    async def run() -> dict[str, Any]:
        row = await svc.publish_article(
            actor_of(info), article_id=input_id(input.id, "Article", "id")
        )
        return {"article": Article.from_row(row)}

    return await mutate(_article_payload(), run)


async def article_unpublish(info: strawberry.Info, input: ArticleUnpublishInput) -> Any:
    """`articleUnpublish`."""

    async def run() -> dict[str, Any]:
        row = await svc.unpublish_article(
            actor_of(info), article_id=input_id(input.id, "Article", "id"), archive=input.archive
        )
        return {"article": Article.from_row(row)}

    return await mutate(_article_payload(), run)


async def article_delete(info: strawberry.Info, input: ArticleIdInput) -> Any:
    """`articleDelete`."""

    async def run() -> dict[str, Any]:
        row = await svc.delete_article(
            actor_of(info), article_id=input_id(input.id, "Article", "id")
        )
        return {"article": Article.from_row(row)}

    return await mutate(_article_payload(), run)


async def article_vote(info: strawberry.Info, input: ArticleVoteInput) -> Any:
    """`articleVote`."""

    async def run() -> dict[str, Any]:
        row = await public.vote(
            actor_of(info), article_id=input_id(input.id, "Article", "id"), helpful=input.helpful
        )
        return {"article": Article.from_row(row)}

    return await mutate(_article_payload(), run)


async def article_follow(info: strawberry.Info, input: ArticleIdInput, follow: bool) -> Any:
    """`articleFollow` / `articleUnfollow`."""
    from deskql.schema.kb import ArticleFollowPayload

    async def run() -> dict[str, Any]:
        call = follows.follow_record if follow else follows.unfollow_record
        row = await call(
            actor_of(info),
            type_name="Article",
            record_id=input_id(input.id, "Article", "id"),
            field="id",
        )
        return {"article": Article.from_row(row), "following": follow}

    return await mutate(ArticleFollowPayload, run)


def _category_payload() -> Any:
    from deskql.schema.kb import ArticleCategoryPayload

    return ArticleCategoryPayload


async def article_category_create(info: strawberry.Info, input: ArticleCategoryCreateInput) -> Any:
    """`articleCategoryCreate`."""

    async def run() -> dict[str, Any]:
        row = await categories.create_category(
            actor_of(info),
            name=input.name,
            description=input.description,
            parent_id=optional_input_id(input.parent_id, "ArticleCategory", "parentId"),
            position=input.position,
            department_id=optional_input_id(input.department_id, "Department", "departmentId"),
        )
        return {"category": ArticleCategory.from_row(row)}

    return await mutate(_category_payload(), run)


async def article_category_update(info: strawberry.Info, input: ArticleCategoryUpdateInput) -> Any:
    """`articleCategoryUpdate`."""

    async def run() -> dict[str, Any]:
        changes = given(input, {"name": "name", "description": "description"})
        if changes.get("name", "") is None:
            changes["name"] = ""
        if input.position is not strawberry.UNSET and input.position is not None:
            changes["position"] = input.position
        if input.parent_id is not strawberry.UNSET:
            changes["parent_id"] = optional_input_id(input.parent_id, "ArticleCategory", "parentId")
        row = await categories.update_category(
            actor_of(info),
            category_id=input_id(input.id, "ArticleCategory", "id"),
            changes=changes,
        )
        return {"category": ArticleCategory.from_row(row)}

    return await mutate(_category_payload(), run)


async def article_category_delete(info: strawberry.Info, input: ArticleCategoryDeleteInput) -> Any:
    """`articleCategoryDelete`."""

    async def run() -> dict[str, Any]:
        row = await categories.delete_category(
            actor_of(info), category_id=input_id(input.id, "ArticleCategory", "id")
        )
        return {"category": ArticleCategory.from_row(row)}

    return await mutate(_category_payload(), run)
