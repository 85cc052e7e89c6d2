"""Managing macros: who may, listing, reading, creating, updating and deleting them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet

from deskql import models
from deskql.services import (
    activity,
    uow,
    validation,
)
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, PermissionDenied, ValidationFailed
from deskql.services.macros.actions import clean_actions
from deskql.services.policies import can_see_department

NAME_MAX = 120


DESCRIPTION_MAX = 2_000


# -- permissions and reading -----------------------------------------------------------------


async def can_manage(actor: Actor, department_id: int) -> bool:
    """Administrators, or agents granted "manage macros" who work in the department."""
    if actor.is_admin:
        return True
    if department_id not in actor.department_ids:
        return False
    flags = await models.Agent.filter(id=actor.agent_id).values_list("can_manage_macros", flat=True)
    return bool(flags and flags[0])


async def _require_manager(actor: Actor, department_id: int) -> None:
    if not can_see_department(actor, department_id):
        raise ValidationFailed.one("departmentId", "no such department", ErrorCode.NOT_FOUND)
    if not await can_manage(actor, department_id):
        raise PermissionDenied(
            "only administrators and agents granted 'manage macros' in the department may "
            "change its macros"
        )


def list_macros(actor: Actor, *, department_id: int | None = None) -> QuerySet[models.Macro]:
    """The macros of the departments the actor works in (all, for administrators), by name."""
    qs = models.Macro.all()
    if not actor.is_admin:
        qs = qs.filter(department_id__in=list(actor.department_ids))
    if department_id is not None:
        qs = qs.filter(department_id=department_id)
    return qs.order_by("name", "id")


async def get_macro(actor: Actor, *, macro_id: int, field: str = "id") -> models.Macro:
    """A macro of a department the actor works in, else a NOT_FOUND field error."""
    row = await list_macros(actor).filter(id=macro_id).first()
    if row is None:
        raise ValidationFailed.one(field, "no such macro", ErrorCode.NOT_FOUND)
    return row


# -- create, update, delete ------------------------------------------------------------------


def _clean_texts(
    errors: Errors, name: str | None, description: str | None
) -> tuple[str | None, str | None]:
    clean_name = (
        validation.text(errors, "name", name, max_length=NAME_MAX, required=True)
        if name is not None
        else None
    )
    clean_description = (
        validation.text(
            errors, "description", description, max_length=DESCRIPTION_MAX, multiline=True
        )
        if description is not None
        else None
    )
    return clean_name, clean_description


async def _name_taken(department_id: int, name: str, exclude_id: int | None = None) -> bool:
    qs = models.Macro.filter(department_id=department_id, name=name)
    if exclude_id is not None:
        qs = qs.exclude(id=exclude_id)
    return await qs.exists()


def _duplicate(name: str) -> ValidationFailed:
    return ValidationFailed.one(
        "name", f"the department already has a macro named {name!r}", ErrorCode.DUPLICATE
    )


async def create_macro(
    actor: Actor,
    *,
    department_id: int,
    name: str,
    actions: list[dict[str, Any]],
    description: str = "",
) -> models.Macro:
    """Create a macro in a department (administrators, or agents allowed to manage macros)."""
    await _require_manager(actor, department_id)
    errors = Errors()
    clean_name, clean_description = _clean_texts(errors, name, description)
    stored = await clean_actions(actor, errors, actions, department_id=department_id)
    errors.raise_if_any()
    assert clean_name is not None
    if await _name_taken(department_id, clean_name):
        raise _duplicate(clean_name)
    try:
        async with uow.transaction():
            row = await models.Macro.create(
                department_id=department_id,
                name=clean_name,
                description=clean_description or "",
                actions=stored,
                created_by_id=actor.agent_id,
            )
            await _record(actor, "macro.created", row, {"name": row.name, "actions": stored})
    except IntegrityError:
        raise _duplicate(clean_name) from None  # a concurrent create took the name
    return row


async def update_macro(
    actor: Actor,
    *,
    macro_id: int,
    name: str | None = None,
    description: str | None = None,
    actions: list[dict[str, Any]] | None = None,
) -> models.Macro:
    """Change a macro's name, description or actions (None leaves a field as it is)."""
    row = await get_macro(actor, macro_id=macro_id)
    department_id: int = row.department_id  # type: ignore[attr-defined]
    await _require_manager(actor, department_id)
    errors = Errors()
    clean_name, clean_description = _clean_texts(errors, name, description)
    values: dict[str, Any] = {}
    if clean_name is not None:
        values["name"] = clean_name
    if clean_description is not None:
        values["description"] = clean_description
    if actions is not None:
        values["actions"] = await clean_actions(actor, errors, actions, department_id=department_id)
    errors.raise_if_any()
    if clean_name is not None and await _name_taken(department_id, clean_name, row.id):
        raise _duplicate(clean_name)
    before = {key: getattr(row, key) for key in values}
    try:
        async with uow.transaction():
            if values:
                await models.Macro.filter(id=row.id).update(updated_at=datetime.now(UTC), **values)
            fresh = await models.Macro.get(id=row.id)
            changed = activity.diff(before, {key: getattr(fresh, key) for key in values})
            if changed:
                await _record(actor, "macro.updated", fresh, changed)
    except IntegrityError:
        raise _duplicate(clean_name or row.name) from None
    return fresh


async def delete_macro(actor: Actor, *, macro_id: int) -> models.Macro:
    """Delete a macro; its runs stay in the tickets' history."""
    row = await get_macro(actor, macro_id=macro_id)
    await _require_manager(actor, row.department_id)  # type: ignore[attr-defined]
    async with uow.transaction():
        await _record(actor, "macro.deleted", row, {"name": row.name})
        await row.delete()
    return row


async def _record(actor: Actor, kind: str, row: models.Macro, changes: dict[str, Any]) -> None:
    await activity.record(
        actor=actor,
        kind=kind,
        subject_type="Macro",
        subject_id=row.id,
        department_id=row.department_id,  # type: ignore[attr-defined]
        changes=changes,
    )
