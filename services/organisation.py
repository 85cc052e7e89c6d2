"""The organisation, departments, teams and agents (ORG-1..ORG-4, PRO-1)."""

from __future__ import annotations

from tortoise.transactions import in_transaction

import models
from models.enums import Edition, Role
from services import activity, validation
from services.auth import Actor, hash_password
from services.errors import ErrorCode, Errors, ValidationFailed
from services.policies import require_admin
from settings import Settings

PASSWORD_MIN = 8
PASSWORD_MAX = 256


async def ensure_organisation(settings: Settings) -> models.Organisation:
    """The deployment's organisation, created from the settings on first start (ORG-1)."""
    org = await models.Organisation.first()
    if org is None:
        org = await models.Organisation.create(
            name=settings.org_name, slug=settings.org_slug, edition=Edition(settings.org_edition)
        )
    return org


def check_password(errors: Errors, password: str | None, field: str = "password") -> None:
    """Passwords: 8 to 256 characters."""
    if password is None:
        return
    if len(password) < PASSWORD_MIN:
        errors.add(field, f"a password needs at least {PASSWORD_MIN} characters", ErrorCode.INVALID)
    elif len(password) > PASSWORD_MAX:
        errors.add(field, f"a password has at most {PASSWORD_MAX} characters", ErrorCode.TOO_LONG)


async def create_department(
    actor: Actor | None, *, name: str, description: str = ""
) -> models.Department:
    """Create a department (administrators only; `actor=None` is the CLI)."""
    if actor is not None:
        require_admin(actor, "create departments")
    errors = Errors()
    clean = validation.text(errors, "name", name, max_length=120, required=True)
    desc = validation.text(errors, "description", description, max_length=5000, multiline=True)
    errors.raise_if_any()
    if await models.Department.exists(name=clean):
        raise ValidationFailed.one(
            "name", f"a department named {clean!r} exists", ErrorCode.DUPLICATE
        )
    async with in_transaction():
        dept = await models.Department.create(name=clean, description=desc or "")
        await activity.record(
            actor=actor,
            kind="department.created",
            subject_type="Department",
            subject_id=dept.id,
            department_id=dept.id,
            changes={"name": clean},
        )
    return dept


async def create_agent(
    actor: Actor | None,
    *,
    email: str,
    last_name: str,
    first_name: str = "",
    role: Role = Role.AGENT,
    department_ids: list[int] | None = None,
    password: str | None = None,
    about: str = "",
    hobbies: str = "",
    avatar_url: str = "",
) -> models.Agent:
    """Create an agent in the given departments (administrators only; `actor=None` is the CLI)."""
    if actor is not None:
        require_admin(actor, "create agents")
    errors = Errors()
    clean_email = validation.email(errors, "email", email, required=True)
    last = validation.text(errors, "lastName", last_name, max_length=100, required=True)
    first = validation.text(errors, "firstName", first_name, max_length=100)
    clean_about = validation.text(errors, "about", about, max_length=5000, multiline=True)
    clean_hobbies = validation.text(errors, "hobbies", hobbies, max_length=500)
    clean_avatar = validation.url(errors, "avatarUrl", avatar_url)
    check_password(errors, password)
    dept_ids = sorted(set(department_ids or []))
    if dept_ids:
        found = await models.Department.filter(id__in=dept_ids).count()
        if found != len(dept_ids):
            errors.add("departmentIds", "no such department", ErrorCode.NOT_FOUND)
    errors.raise_if_any()
    if await models.Agent.exists(email=clean_email):
        raise ValidationFailed.one(
            "email", f"an agent with email {clean_email} exists", ErrorCode.DUPLICATE
        )
    password_hash = await hash_password(password) if password else None
    async with in_transaction():
        agent = await models.Agent.create(
            email=clean_email,
            first_name=first or "",
            last_name=last,
            role=role,
            password_hash=password_hash,
            about=clean_about or "",
            hobbies=clean_hobbies or "",
            avatar_url=clean_avatar or "",
        )
        if dept_ids:
            await models.DepartmentMembership.bulk_create(
                [models.DepartmentMembership(agent_id=agent.id, department_id=d) for d in dept_ids]
            )
        await activity.record(
            actor=actor,
            kind="agent.created",
            subject_type="Agent",
            subject_id=agent.id,
            changes={"email": clean_email, "role": role.name, "departmentIds": dept_ids},
        )
    return agent
