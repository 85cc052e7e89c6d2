"""Checks and tags of articles (services.kb.articles): field rules, the department and
category an article may be in, and its tags (the tickets' tag names, TIC-6 rules)."""

from __future__ import annotations

from typing import Any

from deskql import models
from deskql.models.kb import ArticleVisibility
from deskql.services import validation
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors
from deskql.services.kb import categories
from deskql.services.policies import can_see_department
from deskql.services.tickets import clean_tag

TITLE_MAX = 255
SUMMARY_MAX = 500
BODY_MAX = 200_000  # characters of Markdown: a long manual page, not a 1 MB dump
MAX_TAGS = 10


async def tags_of(article_ids: list[int]) -> dict[int, list[str]]:
    """Tag names of each article, sorted."""
    found: dict[int, list[str]] = {pk: [] for pk in article_ids}
    rows = await models.ArticleTag.filter(article_id__in=article_ids).values_list(
        "article_id", "tag__name"
    )
    for pk, name in rows:
        found[pk].append(name)
    return {pk: sorted(names) for pk, names in found.items()}


def clean_tags(errors: Errors, names: list[str]) -> list[str]:
    cleaned: list[str] = []
    for name in names:
        tag = clean_tag(errors, name, "tags")
        if tag and tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        errors.add("tags", f"an article has at most {MAX_TAGS} tags", ErrorCode.LIMIT_EXCEEDED)
    return cleaned


async def set_tags(article_id: int, names: list[str]) -> None:
    await models.ArticleTag.filter(article_id=article_id).delete()
    if not names:
        return
    await models.Tag.bulk_create([models.Tag(name=n) for n in names], ignore_conflicts=True)
    tags = await models.Tag.filter(name__in=names)
    await models.ArticleTag.bulk_create(
        [models.ArticleTag(article_id=article_id, tag_id=t.id) for t in tags]
    )


def clean_fields(errors: Errors, values: dict[str, Any]) -> dict[str, Any]:
    """Check and trim the plain fields given (title, body, summary, visibility)."""
    out: dict[str, Any] = {}
    if "title" in values:
        out["title"] = validation.text(
            errors, "title", values["title"], max_length=TITLE_MAX, required=True
        )
    if "body" in values:
        body = values["body"] if values["body"] is not None else ""
        if len(body) > BODY_MAX:
            errors.add(
                "body",
                f"the body is {len(body)} characters long; at most {BODY_MAX} are allowed",
                ErrorCode.TOO_LONG,
            )
        else:
            out["body"] = (
                validation.text(errors, "body", body, max_length=BODY_MAX, multiline=True) or ""
            )
    if "summary" in values:
        out["summary"] = (
            validation.text(
                errors,
                "summary",
                values["summary"] or "",
                max_length=SUMMARY_MAX,
                multiline=True,
            )
            or ""
        )
    if "visibility" in values:
        visibility = values["visibility"]
        if not isinstance(visibility, ArticleVisibility):
            errors.add("visibility", "PUBLIC, CONTACTS or AGENTS", ErrorCode.INVALID)
        out["visibility"] = visibility
    return out


async def check_department(errors: Errors, actor: Actor, department_id: int) -> None:
    if not await models.Department.exists(id=department_id):
        errors.add("departmentId", "no such department", ErrorCode.NOT_FOUND)
    elif not can_see_department(actor, department_id):
        errors.add(
            "departmentId",
            "you write articles only in the departments you belong to",
            ErrorCode.WRONG_DEPARTMENT,
        )


async def check_category(
    errors: Errors, actor: Actor, category_id: int | None, department_id: int
) -> None:
    if category_id is None:
        return
    category = await categories.visible_categories(actor).filter(id=category_id).first()
    if category is None:
        errors.add("categoryId", "no such category", ErrorCode.NOT_FOUND)
        return
    own = category.department_id  # type: ignore[attr-defined]
    if own is not None and own != department_id:
        errors.add(
            "categoryId",
            "the category belongs to another department than the article",
            ErrorCode.WRONG_DEPARTMENT,
        )
