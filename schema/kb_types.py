"""Knowledge-base object types (KB-1, KB-2): Article and ArticleCategory."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from deskql import models
from deskql.models.kb import ArticleStatus, ArticleVisibility
from deskql.schema.connections import Connection
from deskql.schema.ids import to_global_id
from deskql.schema.lookahead import peek
from deskql.schema.types import Activity, Agent, Comment, Department, Node

strawberry.enum(
    ArticleStatus,
    description="Where an article stands: DRAFT (being written), PUBLISHED (shown to its "
    "audience), ARCHIVED (kept, shown to nobody outside the agents' API).",
)
strawberry.enum(
    ArticleVisibility,
    description="Who reads a published article: PUBLIC (anyone, on /kb without signing in), "
    "CONTACTS (signed-in customers in the help center, and PUBLIC readers not), AGENTS (agents "
    "only).",
)

_First = Annotated[int | None, strawberry.argument(description="Page size, 0 to 100 (default 20).")]
_After = Annotated[
    str | None, strawberry.argument(description="Cursor of the item after which the page starts.")
]


@strawberry.type(
    description="A category of knowledge-base articles, in a tree of at most 4 levels; a "
    "department's, or organisation-wide (department null)."
)
class ArticleCategory(Node):
    name: str = strawberry.field(description="Name.")
    description: str = strawberry.field(description="What the category holds.")
    position: int = strawberry.field(description="Order among its siblings (ascending).")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    pk: strawberry.Private[int]
    parent_pk: strawberry.Private[int | None]
    department_pk: strawberry.Private[int | None]
    children_rows: strawberry.Private[list[ArticleCategory]]

    @classmethod
    def from_row(cls, row: models.ArticleCategory) -> ArticleCategory:
        """Build from a database row (children filled in by the tree query)."""
        return cls(
            id=strawberry.ID(to_global_id("ArticleCategory", row.id)),
            name=row.name,
            description=row.description,
            position=row.position,
            created_at=row.created_at,
            updated_at=row.updated_at,
            pk=row.id,
            parent_pk=row.parent_id,  # type: ignore[attr-defined]
            department_pk=row.department_id,  # type: ignore[attr-defined]
            children_rows=[],
        )

    @strawberry.field(description="Global id of the parent category; null for a root.")
    def parent_id(self) -> strawberry.ID | None:
        if self.parent_pk is None:
            return None
        return strawberry.ID(to_global_id("ArticleCategory", self.parent_pk))

    @strawberry.field(
        description="Sub-categories you may see, by position (filled in `articleCategories`; "
        "empty elsewhere)."
    )
    def children(self) -> list[ArticleCategory]:
        return self.children_rows

    @strawberry.field(description="The department it belongs to; null: organisation-wide.")
    def department(self, info: strawberry.Info) -> Department | None:
        if self.department_pk is None:
            return None
        return peek(info.context.loaders.department, self.department_pk)


@strawberry.type(description="A knowledge-base article (KB-1): Markdown body, permalink, status.")
class Article(Node):
    title: str = strawberry.field(description="Title.")
    body: str = strawberry.field(description="The body as written (Markdown).")
    summary: str = strawberry.field(description="A short summary for lists.")
    status: ArticleStatus = strawberry.field(description="DRAFT, PUBLISHED or ARCHIVED.")
    visibility: ArticleVisibility = strawberry.field(description="Who reads it once published.")
    permalink: str = strawberry.field(
        description="Current permalink: the page is /kb/articles/<permalink>; every older one "
        "redirects there (301)."
    )
    view_count: int = strawberry.field(description="Views of its public page.")
    helpful_count: int = strawberry.field(description="Helpful votes.")
    not_helpful_count: int = strawberry.field(description="Not-helpful votes.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    published_at: datetime | None = strawberry.field(
        description="When it was first published; null while never published."
    )
    pk: strawberry.Private[int]
    department_pk: strawberry.Private[int]
    category_pk: strawberry.Private[int | None]
    author_pk: strawberry.Private[int | None]
    row: strawberry.Private[models.Article]

    @classmethod
    def from_row(cls, row: models.Article) -> Article:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("Article", row.id)),
            title=row.title,
            body=row.body,
            summary=row.summary,
            status=row.status,
            visibility=row.visibility,
            permalink=row.permalink,
            view_count=row.view_count,
            helpful_count=row.helpful_count,
            not_helpful_count=row.not_helpful_count,
            created_at=row.created_at,
            updated_at=row.updated_at,
            published_at=row.published_at,
            pk=row.id,
            department_pk=row.department_id,  # type: ignore[attr-defined]
            category_pk=row.category_id,  # type: ignore[attr-defined]
            author_pk=row.author_id,  # type: ignore[attr-defined]
            row=row,
        )

    @strawberry.field(
        description="The body rendered to HTML (markdown-it-py) and sanitized (nh3): no "
        "scripts, event handlers or javascript: links."
    )
    def body_html(self) -> str:
        from deskql.services.kb.public import body_html

        return body_html(self.row)

    @strawberry.field(description="The public page's path: /kb/articles/<permalink>.")
    def url(self) -> str:
        return f"/kb/articles/{self.permalink}"

    @strawberry.field(
        description="Permalinks it had before the current one, oldest first; each redirects "
        "to the current one."
    )
    async def old_permalinks(self, info: strawberry.Info) -> list[str]:
        from deskql.resolvers import kb

        return await kb.old_permalinks(info, self.pk, self.permalink)

    @strawberry.field(description="Tags, sorted.")
    async def tags(self, info: strawberry.Info) -> list[str]:
        from deskql.resolvers import kb

        return await kb.article_tags(info, self.pk)

    @strawberry.field(description="Its category; null when uncategorised.")
    async def category(self, info: strawberry.Info) -> ArticleCategory | None:
        from deskql.resolvers import kb

        return await kb.article_category(info, self.category_pk)

    @strawberry.field(description="The department it belongs to.")
    def department(self, info: strawberry.Info) -> Department:
        return peek(info.context.loaders.department, self.department_pk)

    @strawberry.field(description="Who wrote it; null once that agent is deleted.")
    async def author(self, info: strawberry.Info) -> Agent | None:
        if self.author_pk is None:
            return None
        return await info.context.loaders.agent.load(self.author_pk)

    @strawberry.field(description="Comments (with @mentions, COL-1), oldest first.")
    async def comments(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Comment]:
        from deskql.resolvers import kb

        return await kb.article_comments(info, self.pk, first=first, after=after)

    @strawberry.field(description="History of the article, newest first.")
    async def activities(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Activity]:
        from deskql.resolvers import kb

        return await kb.article_activities(info, self.pk, first=first, after=after)

    @strawberry.field(description="Whether you follow it (its activity reaches you).")
    async def following(self, info: strawberry.Info) -> bool:
        from deskql.resolvers import kb

        return await kb.article_following(info, self.pk)
