"""Knowledge-base queries and mutations (KB-1, KB-2, COL-1 for articles)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import strawberry

from deskql.models.kb import ArticleStatus, ArticleVisibility
from deskql.resolvers import kb as r
from deskql.schema.connections import Connection
from deskql.schema.errors import MutationError
from deskql.schema.kb_types import Article, ArticleCategory
from deskql.schema.permissions import IsAuthenticated
from deskql.schema.tickets import SortDirection


@strawberry.enum(description="Fields articles can be sorted by.")
class ArticleSortField(Enum):
    UPDATED_AT = "UPDATED_AT"
    PUBLISHED_AT = "PUBLISHED_AT"
    TITLE = "TITLE"
    VIEWS = "VIEWS"


@strawberry.input(description="How to sort articles; ties are broken by id in the same direction.")
class ArticleSort:
    field: ArticleSortField = strawberry.field(
        default=ArticleSortField.UPDATED_AT, description="The field to sort by."
    )
    direction: SortDirection = strawberry.field(
        default=SortDirection.DESC, description="ASC or DESC."
    )


@strawberry.input(description="Article criteria; every criterion given must hold.")
class ArticleFilter:
    category_id: strawberry.ID | None = strawberry.field(
        default=None, description="In this category (not its sub-categories)."
    )
    status: list[ArticleStatus] | None = strawberry.field(
        default=None, description="Any of these statuses."
    )
    visibility: list[ArticleVisibility] | None = strawberry.field(
        default=None, description="Any of these visibilities."
    )
    department_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="In any of these departments."
    )
    text: str | None = strawberry.field(
        default=None, description="Text in the title, summary or body (case-insensitive)."
    )
    tag: str | None = strawberry.field(default=None, description="Carrying this tag.")


@strawberry.input(description="A new article; it starts as a DRAFT.")
class ArticleCreateInput:
    title: str = strawberry.field(description="Title, 1 to 255 characters.")
    department_id: strawberry.ID = strawberry.field(
        description="Its department: one you belong to (administrators: any)."
    )
    body: str = strawberry.field(default="", description="Markdown, at most 200,000 characters.")
    summary: str = strawberry.field(default="", description="Short summary, at most 500.")
    category_id: strawberry.ID | None = strawberry.field(
        default=None, description="A category of the department or an organisation-wide one."
    )
    visibility: ArticleVisibility = strawberry.field(
        default=ArticleVisibility.AGENTS, description="Who reads it once published."
    )
    tags: list[str] | None = strawberry.field(
        default=None, description="Up to 10 tags (a-z0-9, as ticket tags)."
    )
    permalink: str | None = strawberry.field(
        default=None,
        description="Its permalink; default: made from the title. Normalised to lower-case "
        "a-z, 0-9 and dashes (spaces, slashes, dots become dashes); INVALID if nothing is "
        "left, DUPLICATE if any article has or ever had it.",
    )


@strawberry.input(description="Changes to an article; only the fields given change.")
class ArticleUpdateInput:
    id: strawberry.ID = strawberry.field(description="The article.")
    title: str | None = strawberry.field(default=strawberry.UNSET, description="New title.")
    body: str | None = strawberry.field(default=strawberry.UNSET, description="New body.")
    summary: str | None = strawberry.field(default=strawberry.UNSET, description="New summary.")
    category_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="New category; null: none."
    )
    department_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="New department (one you belong to)."
    )
    visibility: ArticleVisibility | None = strawberry.field(
        default=strawberry.UNSET, description="New visibility."
    )
    tags: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="The new set of tags (replaces them)."
    )
    permalink: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="New permalink (normalised as in articleCreate); the old one keeps "
        "working as a 301 redirect.",
    )


@strawberry.input(description="The article to publish, unpublish or delete.")
class ArticleIdInput:
    id: strawberry.ID = strawberry.field(description="The article.")


@strawberry.input(description="The article to take off the knowledge base.")
class ArticleUnpublishInput:
    id: strawberry.ID = strawberry.field(description="The article.")
    archive: bool = strawberry.field(
        default=False, description="True: ARCHIVED; false: back to DRAFT."
    )


@strawberry.input(description="A vote on a published article.")
class ArticleVoteInput:
    id: strawberry.ID = strawberry.field(description="The article (PUBLISHED).")
    helpful: bool = strawberry.field(description="True: helpful; false: not helpful.")


@strawberry.input(description="A new article category.")
class ArticleCategoryCreateInput:
    name: str = strawberry.field(description="Name, 1 to 120 characters.")
    description: str = strawberry.field(default="", description="What it holds.")
    parent_id: strawberry.ID | None = strawberry.field(
        default=None, description="Parent category (the tree is at most 4 levels deep)."
    )
    position: int = strawberry.field(default=0, description="Order among its siblings.")
    department_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Its department (one you belong to); null: organisation-wide "
        "(administrators only).",
    )


@strawberry.input(description="Changes to a category; only the fields given change.")
class ArticleCategoryUpdateInput:
    id: strawberry.ID = strawberry.field(description="The category.")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name.")
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="New description."
    )
    parent_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="New parent; null: a root. A category cannot become its own ancestor.",
    )
    position: int | None = strawberry.field(default=strawberry.UNSET, description="New position.")


@strawberry.input(description="The category to delete.")
class ArticleCategoryDeleteInput:
    id: strawberry.ID = strawberry.field(description="The category (IN_USE unless empty).")


@strawberry.type(description="Result of a mutation that changes an article.")
class ArticlePayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    article: Article | None = strawberry.field(
        default=None, description="The article as changed (as it was, for a delete)."
    )


@strawberry.type(description="Result of articleFollow and articleUnfollow.")
class ArticleFollowPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    article: Article | None = strawberry.field(default=None, description="The article.")
    following: bool | None = strawberry.field(
        default=None, description="Whether you follow it now."
    )


@strawberry.type(description="Result of a mutation that changes an article category.")
class ArticleCategoryPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    category: ArticleCategory | None = strawberry.field(
        default=None, description="The category as changed (as it was, for a delete)."
    )


@strawberry.type
class KnowledgeBaseQueries:
    @strawberry.field(
        description="Articles you may see (your departments'), filtered and sorted.",
        permission_classes=[IsAuthenticated],
    )
    async def articles(
        self,
        info: strawberry.Info,
        filter: Annotated[
            ArticleFilter | None, strawberry.argument(description="Criteria.")
        ] = None,
        sort: Annotated[ArticleSort | None, strawberry.argument(description="Order.")] = None,
        first: Annotated[
            int | None, strawberry.argument(description="Page size, 0 to 100 (default 20).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(description="Cursor of the item after which the page starts."),
        ] = None,
    ) -> Connection[Article]:
        return await r.articles(info, filter=filter, sort=sort, first=first, after=after)

    @strawberry.field(
        description="One article by global id or by permalink (an old permalink finds it "
        "too); null if absent or not yours to see.",
        permission_classes=[IsAuthenticated],
    )
    async def article(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID | None, strawberry.argument(description="Global id.")] = None,
        permalink: Annotated[
            str | None, strawberry.argument(description="A current or old permalink.")
        ] = None,
    ) -> Article | None:
        return await r.article(info, id=id, permalink=permalink)

    @strawberry.field(
        description="The categories you may see as a tree: the roots, each with `children`.",
        permission_classes=[IsAuthenticated],
    )
    async def article_categories(self, info: strawberry.Info) -> list[ArticleCategory]:
        return await r.article_categories(info)


@strawberry.type
class KnowledgeBaseMutations:
    @strawberry.mutation(
        description="Write a new article (a DRAFT) in one of your departments.",
        permission_classes=[IsAuthenticated],
    )
    async def article_create(
        self, info: strawberry.Info, input: ArticleCreateInput
    ) -> ArticlePayload:
        return await r.article_create(info, input)

    @strawberry.mutation(
        description="Change an article; a new permalink keeps the old ones working (301).",
        permission_classes=[IsAuthenticated],
    )
    async def article_update(
        self, info: strawberry.Info, input: ArticleUpdateInput
    ) -> ArticlePayload:
        return await r.article_update(info, input)

    @strawberry.mutation(
        description="Publish an article: its audience (visibility) may read it.",
        permission_classes=[IsAuthenticated],
    )
    async def article_publish(self, info: strawberry.Info, input: ArticleIdInput) -> ArticlePayload:
        return await r.article_publish(info, input)

    @strawberry.mutation(
        description="Take an article off the knowledge base (DRAFT, or ARCHIVED).",
        permission_classes=[IsAuthenticated],
    )
    async def article_unpublish(
        self, info: strawberry.Info, input: ArticleUnpublishInput
    ) -> ArticlePayload:
        return await r.article_unpublish(info, input)

    @strawberry.mutation(
        description="Delete an article with its comments; its permalinks stay reserved "
        "(410 Gone on the page), its history is kept.",
        permission_classes=[IsAuthenticated],
    )
    async def article_delete(self, info: strawberry.Info, input: ArticleIdInput) -> ArticlePayload:
        return await r.article_delete(info, input)

    @strawberry.mutation(
        description="Vote a published article helpful or not (INVALID_STATE for others); "
        "voting again replaces your vote.",
        permission_classes=[IsAuthenticated],
    )
    async def article_vote(self, info: strawberry.Info, input: ArticleVoteInput) -> ArticlePayload:
        return await r.article_vote(info, input)

    @strawberry.mutation(
        description="Follow an article you may see: its activity and comments reach you.",
        permission_classes=[IsAuthenticated],
    )
    async def article_follow(
        self, info: strawberry.Info, input: ArticleIdInput
    ) -> ArticleFollowPayload:
        return await r.article_follow(info, input, True)

    @strawberry.mutation(
        description="Stop following an article.", permission_classes=[IsAuthenticated]
    )
    async def article_unfollow(
        self, info: strawberry.Info, input: ArticleIdInput
    ) -> ArticleFollowPayload:
        return await r.article_follow(info, input, False)

    @strawberry.mutation(
        description="Create an article category.", permission_classes=[IsAuthenticated]
    )
    async def article_category_create(
        self, info: strawberry.Info, input: ArticleCategoryCreateInput
    ) -> ArticleCategoryPayload:
        return await r.article_category_create(info, input)

    @strawberry.mutation(
        description="Change an article category (no cycles: INVALID).",
        permission_classes=[IsAuthenticated],
    )
    async def article_category_update(
        self, info: strawberry.Info, input: ArticleCategoryUpdateInput
    ) -> ArticleCategoryPayload:
        return await r.article_category_update(info, input)

    @strawberry.mutation(
        description="Delete an empty article category (IN_USE while it holds articles or "
        "sub-categories).",
        permission_classes=[IsAuthenticated],
    )
    async def article_category_delete(
        self, info: strawberry.Info, input: ArticleCategoryDeleteInput
    ) -> ArticleCategoryPayload:
        return await r.article_category_delete(info, input)
