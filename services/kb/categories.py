"""Article categories (KB-1): a tree of at most MAX_DEPTH levels, ordered by position. A
category belongs to a department (its members change it) or to the whole organisation
(administrators change it; every agent reads it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from deskql import models
from deskql.services import activity, uow, validation
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.policies import can_see_department

MAX_DEPTH = 4
NAME_MAX = 120
DESCRIPTION_MAX = 2_000


def visible_categories(actor: Actor) -> QuerySet[models.ArticleCategory]:
    """The categories the actor may see: organisation-wide ones and their departments'."""
    qs = models.ArticleCategory.all()
    if actor.is_admin:
        return qs
    return qs.filter(
        Q(department_id__isnull=True) | Q(department_id__in=list(actor.department_ids))
    )


def can_change(actor: Actor, category: models.ArticleCategory) -> bool:
    """Department categories: their members; organisation-wide ones: administrators."""
    department_id = category.department_id  # type: ignore[attr-defined]
    if department_id is None:
        return actor.is_admin
    return can_see_department(actor, department_id)


async def get_category(
    actor: Actor, category_id: int, field: str = "categoryId"
) -> models.ArticleCategory:
    """A category the actor may see, or NOT_FOUND on `field`."""
    row = await visible_categories(actor).filter(id=category_id).first()
    if row is None:
        raise ValidationFailed.one(field, "no such category", ErrorCode.NOT_FOUND)
    return row


async def _writable(actor: Actor, category_id: int, field: str = "id") -> models.ArticleCategory:
    row = await get_category(actor, category_id, field)
    if not can_change(actor, row):
        raise ValidationFailed.one(
            field,
            "organisation-wide categories are changed by administrators only",
            ErrorCode.WRONG_DEPARTMENT,
        )
    return row


async def _ancestors(category_id: int | None) -> list[int]:
    """The ids from this category up to its root (this one first); stops on a loop."""
    found: list[int] = []
    while category_id is not None and category_id not in found:
        found.append(category_id)
        category_id = (
            await models.ArticleCategory.filter(id=category_id)
            .first()
            .values_list("parent_id", flat=True)
        )
    return found


async def _depth_below(category_id: int) -> int:
    """Levels of the subtree under a category (0: no children)."""
    level, frontier = 0, [category_id]
    while frontier:
        frontier = list(
            await models.ArticleCategory.filter(parent_id__in=frontier).values_list("id", flat=True)
        )
        if frontier:
            level += 1
    return level


def _clean(errors: Errors, values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in values:
        out["name"] = validation.text(
            errors, "name", values["name"], max_length=NAME_MAX, required=True
        )
    if "description" in values:
        out["description"] = (
            validation.text(
                errors,
                "description",
                values["description"] or "",
                max_length=DESCRIPTION_MAX,
                multiline=True,
            )
            or ""
        )
    if "position" in values:
        position = values["position"]
        if not isinstance(position, int) or not -1_000_000 <= position <= 1_000_000:
            errors.add("position", "a whole number within ±1,000,000", ErrorCode.INVALID)
        out["position"] = position
    return out


async def _check_parent(
    actor: Actor, errors: Errors, parent_id: int | None, department_id: int | None, own_id: int
) -> None:
    """The parent exists, is visible, is not the category or one of its descendants (a
    cycle), keeps the tree within MAX_DEPTH, and shares the department (or is org-wide)."""
    if parent_id is None:
        return
    parent = await visible_categories(actor).filter(id=parent_id).first()
    if parent is None:
        errors.add("parentId", "no such category", ErrorCode.NOT_FOUND)
        return
    chain = await _ancestors(parent_id)
    if own_id and own_id in chain:
        errors.add(
            "parentId",
            "a category cannot be its own ancestor (that would make a cycle)",
            ErrorCode.INVALID,
        )
        return
    below = await _depth_below(own_id) if own_id else 0
    if len(chain) + 1 + below > MAX_DEPTH:
        errors.add(
            "parentId", f"categories nest at most {MAX_DEPTH} levels deep", ErrorCode.LIMIT_EXCEEDED
        )
    parent_department = parent.department_id  # type: ignore[attr-defined]
    if parent_department is not None and parent_department != department_id:
        errors.add(
            "parentId",
            "a category sits under an organisation-wide category or one of its own department",
            ErrorCode.WRONG_DEPARTMENT,
        )


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
    actor: Actor, kind: str, row: models.ArticleCategory, changes: dict[str, Any]
) -> None:
    await activity.record(
        actor=actor,
        kind=kind,
        subject_type="ArticleCategory",
        subject_id=row.id,
        department_id=row.department_id,  # type: ignore[attr-defined]
        changes=changes,
    )


async def create_category(
    actor: Actor,
    *,
    name: str,
    description: str = "",
    parent_id: int | None = None,
    position: int = 0,
    department_id: int | None = None,
) -> models.ArticleCategory:
    """Create a category in one of the actor's departments (organisation-wide: administrators)."""
    errors = Errors()
    values = _clean(errors, {"name": name, "description": description, "position": position})
    if department_id is None and not actor.is_admin:
        errors.add(
            "departmentId",
            "organisation-wide categories are created by administrators only",
            ErrorCode.WRONG_DEPARTMENT,
        )
    elif department_id is not None and not await models.Department.exists(id=department_id):
        errors.add("departmentId", "no such department", ErrorCode.NOT_FOUND)
    elif department_id is not None and not can_see_department(actor, department_id):
        errors.add(
            "departmentId", "you do not belong to that department", ErrorCode.WRONG_DEPARTMENT
        )
    await _check_parent(actor, errors, parent_id, department_id, 0)
    errors.raise_if_any()
    async with _changing():
        row = await models.ArticleCategory.create(
            parent_id=parent_id, department_id=department_id, **values
        )
        await _record(
            actor,
            "article_category.created",
            row,
            {"name": row.name, "parent_id": parent_id, "department_id": department_id},
        )
    return row


async def update_category(
    actor: Actor, *, category_id: int, changes: dict[str, Any]
) -> models.ArticleCategory:
    """Change a category's name, description, position or parent (no cycles, depth kept)."""
    row = await _writable(actor, category_id)
    errors = Errors()
    values = _clean(errors, changes)
    if "parent_id" in changes:
        await _check_parent(
            actor,
            errors,
            changes["parent_id"],
            row.department_id,  # type: ignore[attr-defined]
            row.id,
        )
        values["parent_id"] = changes["parent_id"]
    errors.raise_if_any()
    before = {key: getattr(row, key) for key in values}
    diff = activity.diff(before, values)
    if not diff:
        return row
    async with _changing():
        await models.ArticleCategory.filter(id=row.id).update(**values)
        await row.refresh_from_db()
        await _record(actor, "article_category.updated", row, diff)
    return row


async def delete_category(actor: Actor, *, category_id: int) -> models.ArticleCategory:
    """Delete an empty category: IN_USE while it holds articles or sub-categories."""
    row = await _writable(actor, category_id)
    async with _changing():
        articles = await models.Article.filter(category_id=row.id).count()
        children = await models.ArticleCategory.filter(parent_id=row.id).count()
        if articles or children:
            raise ValidationFailed.one(
                "id",
                f"the category holds {articles} article(s) and {children} sub-categor"
                f"{'y' if children == 1 else 'ies'}; move or delete them first",
                ErrorCode.IN_USE,
            )
        await models.ArticleCategory.filter(id=row.id).delete()
        await _record(actor, "article_category.deleted", row, {"name": row.name})
    return row


async def category_tree(actor: Actor) -> list[models.ArticleCategory]:
    """Every category the actor may see, parents before children, by position then id."""
    return list(await visible_categories(actor).order_by("position", "id"))
