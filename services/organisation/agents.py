"""Agents: reading, listing, creating, updating and deleting them (administrators)."""

from __future__ import annotations

from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from deskql import models
from deskql.models.enums import Role
from deskql.services import activity, auth_cache, uow, validation
from deskql.services.auth import Actor, hash_password
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.organisation.common import (
    DESCRIPTION_MAX,
    HIDDEN,
    HOBBIES_MAX,
    PERSON_NAME_MAX,
    UNCHANGED,
    _check_departments,
    _now,
    _sorted,
    _unassign_tickets,
    _words,
    check_password,
    check_rate,
)
from deskql.services.policies import (
    can_see_department,
    require_admin,
    visible_agents,
)

# --- agents ------------------------------------------------------------------------------


async def get_agent(actor: Actor, *, agent_id: int) -> models.Agent | None:
    """The agent, or None when absent or sharing no department with the actor (ORG-5)."""
    return await visible_agents(actor).filter(id=agent_id).first()


def list_agents(
    actor: Actor,
    *,
    department_id: int | None = None,
    role: Role | None = None,
    is_active: bool | None = None,
    text: str | None = None,
    sort: str = "NAME",
    desc: bool = False,
) -> QuerySet[models.Agent]:
    """The actor's visible agents matching every given criterion, sorted (NAME: last, first)."""
    qs = visible_agents(actor)
    if department_id is not None:
        # Filtering by a department the actor is not in would reveal who works there.
        if not can_see_department(actor, department_id):
            qs = qs.filter(id__in=[])
        members = models.DepartmentMembership.filter(department_id=department_id).values("agent_id")
        qs = qs.filter(id__in=Subquery(members))
    if role is not None:
        qs = qs.filter(role=role)
    if is_active is not None:
        qs = qs.filter(is_active=is_active)
    for word in _words(text):
        qs = qs.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
        )
    return _sorted(qs, sort=sort, desc=desc, name_fields=("last_name", "first_name"))


def _duplicate_email(email: str) -> ValidationFailed:
    return ValidationFailed.one("email", f"an agent with email {email} exists", ErrorCode.DUPLICATE)


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
    last = validation.text(errors, "lastName", last_name, max_length=PERSON_NAME_MAX, required=True)
    first = validation.text(errors, "firstName", first_name, max_length=PERSON_NAME_MAX)
    clean_about = validation.text(
        errors, "about", about, max_length=DESCRIPTION_MAX, multiline=True
    )
    clean_hobbies = validation.text(errors, "hobbies", hobbies, max_length=HOBBIES_MAX)
    clean_avatar = validation.url(errors, "avatarUrl", avatar_url)
    check_password(errors, password)
    dept_ids = await _check_departments(errors, department_ids or [])
    errors.raise_if_any()
    assert clean_email is not None
    if await models.Agent.exists(email=clean_email):
        raise _duplicate_email(clean_email)
    password_hash = await hash_password(password) if password else None
    try:
        async with uow.transaction():
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
                    [
                        models.DepartmentMembership(agent_id=agent.id, department_id=d)
                        for d in dept_ids
                    ]
                )
            await activity.record(
                actor=actor,
                kind="agent.created",
                subject_type="Agent",
                subject_id=agent.id,
                changes={"email": clean_email, "role": role.name, "department_ids": dept_ids},
            )
    except IntegrityError:
        raise _duplicate_email(clean_email) from None
    return agent


async def _require_agent(agent_id: int, field: str = "id") -> models.Agent:
    agent = await models.Agent.filter(id=agent_id).first()
    if agent is None:
        raise ValidationFailed.one(field, "no such agent", ErrorCode.NOT_FOUND)
    return agent


async def _department_ids_of(agent_id: int) -> list[int]:
    return sorted(
        await models.DepartmentMembership.filter(agent_id=agent_id).values_list(
            "department_id", flat=True
        )
    )


async def _keep_an_administrator(agent_id: int, field: str, what: str) -> None:
    """Refuse a change that would leave no active administrator. Call inside a transaction:
    the active administrators' rows are locked (PostgreSQL) so two administrators cannot
    demote each other at the same moment."""
    admins = await models.Agent.filter(role=Role.ADMINISTRATOR, is_active=True).select_for_update()
    if not any(a.id != agent_id for a in admins):
        raise ValidationFailed.one(
            field,
            f"cannot {what} the last active administrator; make another agent an "
            "administrator first",
            ErrorCode.INVALID,
        )


def _profile_values(
    errors: Errors,
    *,
    first_name: str | None,
    last_name: str | None,
    about: str | None,
    hobbies: str | None,
    avatar_url: str | None,
) -> dict[str, Any]:
    """Clean the profile fields that were given (None: unchanged)."""
    values: dict[str, Any] = {}
    if first_name is not None:
        values["first_name"] = (
            validation.text(errors, "firstName", first_name, max_length=PERSON_NAME_MAX) or ""
        )
    if last_name is not None:
        values["last_name"] = validation.text(
            errors, "lastName", last_name, max_length=PERSON_NAME_MAX, required=True
        )
    if about is not None:
        values["about"] = (
            validation.text(errors, "about", about, max_length=DESCRIPTION_MAX, multiline=True)
            or ""
        )
    if hobbies is not None:
        values["hobbies"] = (
            validation.text(errors, "hobbies", hobbies, max_length=HOBBIES_MAX) or ""
        )
    if avatar_url is not None:
        values["avatar_url"] = validation.url(errors, "avatarUrl", avatar_url) or ""
    return values


async def update_agent(
    actor: Actor,
    *,
    agent_id: int,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    role: Role | None = None,
    is_active: bool | None = None,
    department_ids: list[int] | None = None,
    password: str | None = None,
    about: str | None = None,
    hobbies: str | None = None,
    avatar_url: str | None = None,
    hourly_rate_cents: int | None = UNCHANGED,
    can_manage_macros: bool | None = None,
) -> models.Agent:
    """Change an agent (administrators only); None leaves a field as it is (except
    `hourly_rate_cents`, where None means the organisation's default rate).

    New departments replace the old memberships, and team memberships of teams outside them
    go. A deactivated agent keeps their history; their tokens stop working.
    """
    require_admin(actor, "change agents")
    errors = Errors()
    values = _profile_values(
        errors,
        first_name=first_name,
        last_name=last_name,
        about=about,
        hobbies=hobbies,
        avatar_url=avatar_url,
    )
    if email is not None:
        values["email"] = validation.email(errors, "email", email, required=True)
    if role is not None:
        values["role"] = role
    if is_active is not None:
        values["is_active"] = is_active
    if hourly_rate_cents is not UNCHANGED:
        check_rate(errors, "hourlyRateCents", hourly_rate_cents)
        values["hourly_rate_cents"] = hourly_rate_cents
    if can_manage_macros is not None:
        values["can_manage_macros"] = can_manage_macros
    check_password(errors, password)
    dept_ids = None
    if department_ids is not None:
        dept_ids = await _check_departments(errors, department_ids)
    errors.raise_if_any()
    agent = await _require_agent(agent_id)
    if (
        "email" in values
        and await models.Agent.filter(email=values["email"]).exclude(id=agent.id).exists()
    ):
        raise _duplicate_email(values["email"])
    password_hash = await hash_password(password) if password else None

    try:
        async with uow.transaction():
            # Re-read under a row lock: the last-administrator check needs the current state.
            current = await models.Agent.filter(id=agent.id).select_for_update().first()
            if current is None:
                raise ValidationFailed.one("id", "no such agent", ErrorCode.NOT_FOUND)
            if current.is_active and current.role is Role.ADMINISTRATOR:
                if values.get("role", Role.ADMINISTRATOR) is not Role.ADMINISTRATOR:
                    await _keep_an_administrator(current.id, "role", "demote")
                if values.get("is_active", True) is False:
                    await _keep_an_administrator(current.id, "isActive", "deactivate")
            before: dict[str, Any] = {key: getattr(current, key) for key in values}
            after: dict[str, Any] = {}
            writes = dict(values)
            if password_hash is not None:
                writes["password_hash"] = password_hash
            if writes:
                writes["updated_at"] = _now()
                await models.Agent.filter(id=current.id).update(**writes)
            if dept_ids is not None:
                before["department_ids"] = await _department_ids_of(current.id)
                await (
                    models.DepartmentMembership.filter(agent_id=current.id)
                    .exclude(department_id__in=dept_ids)
                    .delete()
                )
                kept = set(before["department_ids"])
                added = [d for d in dept_ids if d not in kept]
                if added:
                    await models.DepartmentMembership.bulk_create(
                        [
                            models.DepartmentMembership(agent_id=current.id, department_id=d)
                            for d in added
                        ]
                    )
                # A team is a group of its department's agents (ORG-4): leaving the
                # department means leaving its teams.
                outside = models.Team.exclude(department_id__in=dept_ids).values("id")
                await models.TeamMembership.filter(
                    agent_id=current.id, team_id__in=Subquery(outside)
                ).delete()
                after["department_ids"] = dept_ids
            fresh = await models.Agent.get(id=current.id)
            after.update({key: getattr(fresh, key) for key in values})
            changed = activity.diff(before, after)
            if changed.keys() & {"role", "is_active", "department_ids"}:
                # What the agent's tokens resolve to changed (services/auth_cache.py).
                auth_cache.invalidate(agent_ids=[current.id])
            if password_hash is not None:
                changed["password"] = {"old": HIDDEN, "new": HIDDEN}
            if changed:
                await activity.record(
                    actor=actor,
                    kind="agent.updated",
                    subject_type="Agent",
                    subject_id=current.id,
                    changes=changed,
                )
    except IntegrityError:
        raise _duplicate_email(values.get("email") or agent.email) from None
    return fresh


async def delete_agent(actor: Actor, *, agent_id: int) -> models.Agent:
    """Delete an agent (administrators only, not themself); their tickets become unassigned,
    each with a `ticket.updated` row. Comments and history stay, without the author."""
    require_admin(actor, "delete agents")
    if agent_id == actor.agent_id:
        raise ValidationFailed.one("id", "you cannot delete yourself", ErrorCode.INVALID)
    agent = await _require_agent(agent_id)
    try:
        async with uow.transaction():
            if agent.is_active and agent.role is Role.ADMINISTRATOR:
                await _keep_an_administrator(agent.id, "id", "delete")
            await _unassign_tickets(actor, "assignee_agent_id", agent.id)
            await activity.record(
                actor=actor,
                kind="agent.deleted",
                subject_type="Agent",
                subject_id=agent.id,
                changes={
                    "email": agent.email,
                    "name": agent.name,
                    "department_ids": await _department_ids_of(agent.id),
                },
            )
            await agent.delete()
            auth_cache.invalidate(agent_ids=[agent.id])  # its tokens went with it
    except IntegrityError:
        raise ValidationFailed.one(
            "id", "the agent is still referenced and cannot be deleted", ErrorCode.IN_USE
        ) from None
    return agent
