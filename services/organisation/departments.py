"""Departments: reading, listing, creating, updating and deleting them."""

from __future__ import annotations

from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet

from deskql import models
from deskql.services import activity, auth_cache, mail_directory, uow, validation
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.organisation.common import DESCRIPTION_MAX, NAME_MAX, _sorted, _words
from deskql.services.policies import (
    require_admin,
    visible_departments,
)
from deskql.services.tickets import forget_departments

# --- departments -------------------------------------------------------------------------


async def _department_name_taken(name: str, exclude_id: int | None = None) -> bool:
    qs = models.Department.filter(name__iexact=name)
    if exclude_id is not None:
        qs = qs.exclude(id=exclude_id)
    return await qs.exists()


def _duplicate_department(name: str) -> ValidationFailed:
    return ValidationFailed.one("name", f"a department named {name!r} exists", ErrorCode.DUPLICATE)


async def get_department(actor: Actor, *, department_id: int) -> models.Department | None:
    """The department, or None when it does not exist or the actor does not work in it."""
    return await visible_departments(actor).filter(id=department_id).first()


def list_departments(
    actor: Actor, *, text: str | None = None, sort: str = "NAME", desc: bool = False
) -> QuerySet[models.Department]:
    """The actor's visible departments whose name contains every word of `text`, sorted."""
    qs = visible_departments(actor)
    for word in _words(text):
        qs = qs.filter(name__icontains=word)
    return _sorted(qs, sort=sort, desc=desc, name_fields=("name",))


async def create_department(
    actor: Actor | None, *, name: str, description: str = ""
) -> models.Department:
    """Create a department (administrators only; `actor=None` is the CLI)."""
    if actor is not None:
        require_admin(actor, "create departments")
    errors = Errors()
    clean = validation.text(errors, "name", name, max_length=NAME_MAX, required=True)
    desc = validation.text(
        errors, "description", description, max_length=DESCRIPTION_MAX, multiline=True
    )
    errors.raise_if_any()
    assert clean is not None
    if await _department_name_taken(clean):
        raise _duplicate_department(clean)
    try:
        async with uow.transaction():
            dept = await models.Department.create(name=clean, description=desc or "")
            await activity.record(
                actor=actor,
                kind="department.created",
                subject_type="Department",
                subject_id=dept.id,
                department_id=dept.id,
                changes={"name": clean},
            )
    except IntegrityError:
        # Another request created the same name between the check and the insert.
        raise _duplicate_department(clean) from None
    mail_directory.invalidate()  # inbound mail's default department may change
    return dept


async def _require_department(department_id: int, field: str = "id") -> models.Department:
    dept = await models.Department.filter(id=department_id).first()
    if dept is None:
        raise ValidationFailed.one(field, "no such department", ErrorCode.NOT_FOUND)
    return dept


async def update_department(
    actor: Actor,
    *,
    department_id: int,
    name: str | None = None,
    description: str | None = None,
) -> models.Department:
    """Rename a department or change its description (administrators only); None: unchanged."""
    require_admin(actor, "change departments")
    errors = Errors()
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = validation.text(errors, "name", name, max_length=NAME_MAX, required=True)
    if description is not None:
        values["description"] = (
            validation.text(
                errors, "description", description, max_length=DESCRIPTION_MAX, multiline=True
            )
            or ""
        )
    errors.raise_if_any()
    dept = await _require_department(department_id)
    if "name" in values and await _department_name_taken(values["name"], exclude_id=dept.id):
        raise _duplicate_department(values["name"])
    before = {key: getattr(dept, key) for key in values}
    try:
        async with uow.transaction():
            if values:
                await models.Department.filter(id=dept.id).update(**values)
            fresh = await models.Department.get(id=dept.id)
            changed = activity.diff(before, {key: getattr(fresh, key) for key in values})
            if changed:
                await activity.record(
                    actor=actor,
                    kind="department.updated",
                    subject_type="Department",
                    subject_id=dept.id,
                    department_id=dept.id,
                    changes=changed,
                )
    except IntegrityError:
        raise _duplicate_department(values.get("name", dept.name)) from None
    return fresh


async def delete_department(actor: Actor, *, department_id: int) -> models.Department:
    """Delete a department without tickets or teams (administrators only); memberships go."""
    require_admin(actor, "delete departments")
    dept = await _require_department(department_id)
    errors = Errors()
    tickets = await models.Ticket.filter(department_id=dept.id).count()
    if tickets:
        errors.add(
            "id", f"the department still has {tickets} ticket(s); move them first", ErrorCode.IN_USE
        )
    teams = await models.Team.filter(department_id=dept.id).count()
    if teams:
        errors.add(
            "id", f"the department still has {teams} team(s); delete them first", ErrorCode.IN_USE
        )
    errors.raise_if_any()
    member_ids = await models.DepartmentMembership.filter(department_id=dept.id).values_list(
        "agent_id", flat=True
    )
    try:
        async with uow.transaction():
            await activity.record(
                actor=actor,
                kind="department.deleted",
                subject_type="Department",
                subject_id=dept.id,
                department_id=dept.id,
                changes={"name": dept.name},
            )
            await dept.delete()
            forget_departments()
            # Its members' cached Actors held it (services/auth_cache.py).
            auth_cache.invalidate(agent_ids=member_ids)
    except IntegrityError:
        # A ticket or team arrived between the check and the delete (RESTRICT refused it).
        raise ValidationFailed.one(
            "id", "the department is in use by tickets or teams", ErrorCode.IN_USE
        ) from None
    mail_directory.invalidate()  # its support addresses lost it; the default may change
    return dept
