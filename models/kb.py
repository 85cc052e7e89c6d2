"""The knowledge base (KB-1, KB-2): categories, articles, every permalink an article ever had,
tags and votes."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class ArticleStatus(StrEnum):
    """Where an article stands: only PUBLISHED ones are shown outside the agents' API."""

    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    ARCHIVED = "ARCHIVED"


class ArticleVisibility(StrEnum):
    """Who may read a published article: anyone, signed-in contacts, or agents only."""

    PUBLIC = "PUBLIC"
    CONTACTS = "CONTACTS"
    AGENTS = "AGENTS"


class ArticleCategory(Model):
    """A category of articles, in a tree of at most a few levels. A category of a department
    is that department's, one without is organisation-wide."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=120)
    description = fields.TextField(default="")
    parent = fields.ForeignKeyField(
        "models.ArticleCategory", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    position = fields.IntField(default=0)
    department = fields.ForeignKeyField(
        "models.Department", related_name="article_categories", null=True, on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "article_category"
        ordering = ["position", "id"]


class Article(Model):
    """A knowledge-base article of a department: Markdown body, status, visibility and one
    current permalink (the old ones are ArticlePermalink rows)."""

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=255)
    body = fields.TextField(default="")
    summary = fields.CharField(max_length=500, default="")
    category = fields.ForeignKeyField(
        "models.ArticleCategory", related_name="articles", null=True, on_delete=fields.RESTRICT
    )
    department = fields.ForeignKeyField(
        "models.Department", related_name="articles", on_delete=fields.RESTRICT
    )
    author = fields.ForeignKeyField(
        "models.Agent", related_name="articles", null=True, on_delete=fields.SET_NULL
    )
    status = fields.CharEnumField(ArticleStatus, max_length=16, default=ArticleStatus.DRAFT)
    visibility = fields.CharEnumField(
        ArticleVisibility, max_length=16, default=ArticleVisibility.AGENTS
    )
    permalink = fields.CharField(max_length=150, unique=True)
    view_count = fields.IntField(default=0)
    helpful_count = fields.IntField(default=0)
    not_helpful_count = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True, db_index=True)
    published_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "article"
        ordering = ["-id"]
        indexes = (("status", "visibility"),)


class ArticlePermalink(Model):
    """Every permalink an article ever had, the current one included (KB-2). A permalink is
    taken once and for all: a renamed article's old ones redirect to its current one, and those
    of a deleted article (article NULL) are never given to another article."""

    id = fields.IntField(primary_key=True)
    permalink = fields.CharField(max_length=150, unique=True)
    article = fields.ForeignKeyField(
        "models.Article", related_name="permalinks", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "article_permalink"


class ArticleTag(Model):
    """A tag (the tickets' Tag names, TIC-6 rules) on an article."""

    id = fields.IntField(primary_key=True)
    article = fields.ForeignKeyField(
        "models.Article", related_name="tag_links", on_delete=fields.CASCADE
    )
    tag = fields.ForeignKeyField(
        "models.Tag", related_name="article_links", on_delete=fields.CASCADE
    )

    class Meta:
        table = "article_tag"
        unique_together = (("article", "tag"),)


class ArticleVote(Model):
    """One agent's (or one contact's) vote on an article: helpful or not.

    Voting again replaces the vote."""

    id = fields.IntField(primary_key=True)
    article = fields.ForeignKeyField(
        "models.Article", related_name="votes", on_delete=fields.CASCADE
    )
    agent = fields.ForeignKeyField(
        "models.Agent", related_name="article_votes", null=True, on_delete=fields.CASCADE
    )
    contact = fields.ForeignKeyField(
        "models.Contact", related_name="article_votes", null=True, on_delete=fields.CASCADE
    )
    helpful = fields.BooleanField()
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "article_vote"
        unique_together = (("article", "agent"), ("article", "contact"))
