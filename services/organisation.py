"""The organisation, departments, teams and agents (ORG-1..ORG-5, PRO-1).

Reads are scoped by services.policies (ORG-5). Every change is for administrators only, except
`update_profile`, which any agent uses on their own profile (ORG-3: PRO-1).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q, Subquery
from tortoise.functions import Lower
from tortoise.queryset import QuerySet

from deskql import models
from deskql.models.enums import Edition, Role
from deskql.services import activity, auth_cache, mail_directory, throttle, uow, validation
from deskql.services.auth import Actor, hash_password, verify_password
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.policies import (
    can_see_department,
    require_admin,
    visible_agents,
    visible_departments,
    visible_teams,
)
from deskql.services.tickets import forget_departments
from deskql.settings import Settings

PASSWORD_MIN = 8
PASSWORD_MAX = 256
NAME_MAX = 120
PERSON_NAME_MAX = 100
DESCRIPTION_MAX = 5000
HOBBIES_MAX = 500
# Stands in for password values in Activity rows: history says a password changed, never what.
HIDDEN = "[hidden]"

SORTS = ("NAME", "CREATED_AT")
# TIM-2: hourly rates in cents, 0 to 1,000,000.00 an hour.
MAX_HOURLY_RATE_CENTS = 100_000_000
UNCHANGED: Any = object()


def check_rate(errors: Errors, field: str, cents: int | None) -> None:
    """An hourly rate in cents: 0 to MAX_HOURLY_RATE_CENTS (None passes: no rate)."""
    if cents is not None and not 0 <= cents <= MAX_HOURLY_RATE_CENTS:
        errors.add(
            field, f"a rate is 0 to {MAX_HOURLY_RATE_CENTS} cents an hour", ErrorCode.INVALID
        )


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


def _now() -> datetime:
    return datetime.now(UTC)


def _sorted(
    qs: QuerySet[Any], *, sort: str, desc: bool, name_fields: tuple[str, ...]
) -> QuerySet[Any]:
    """Order a list by name (case-insensitive, the same on SQLite and PostgreSQL) or creation."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    prefix = "-" if desc else ""
    if sort == "NAME":
        keys = {f"sort_key_{i}": Lower(name) for i, name in enumerate(name_fields)}
        qs = qs.annotate(**keys)
        columns = list(keys)
    else:
        columns = ["created_at"]
    return qs.order_by(*(prefix + c for c in columns), f"{prefix}id")


def _words(text: str | None) -> list[str]:
    return (text or "").split()


async def _check_departments(errors: Errors, department_ids: Iterable[int]) -> list[int]:
    """The distinct department ids, sorted; a NOT_FOUND error when any does not exist."""
    ids = sorted(set(department_ids))
    if ids:
        found = await models.Department.filter(id__in=ids).count()
        if found != len(ids):
            errors.add("departmentIds", "no such department", ErrorCode.NOT_FOUND)
    return ids


async def _unassign_tickets(actor: Actor | None, column: str, pk: int) -> int:
    """Unassign the tickets assigned to an agent or team, one `ticket.updated` row each.

    Call inside a transaction. The version goes up so that clients holding the old one
    get a CONFLICT instead of silently reassigning.
    """
    tickets = await models.Ticket.filter(**{column: pk}).select_for_update()
    if not tickets:
        return 0
    await models.Ticket.filter(id__in=[t.id for t in tickets]).update(
        **{column: None}, version=F("version") + 1, updated_at=_now()
    )
    for ticket in tickets:
        await activity.record_ticket(
            actor=actor,
            kind="ticket.updated",
            ticket=ticket,
            changes={column: {"old": pk, "new": None}},
        )
    return len(tickets)


# --- organisation ------------------------------------------------------------------------


async def update_organisation(
    actor: Actor,
    *,
    name: str | None = None,
    edition: Edition | None = None,
    default_hourly_rate_cents: int | None = None,
) -> models.Organisation:
    """Rename the organisation, change its edition or default hourly rate (administrators
    only); None: unchanged."""
    require_admin(actor, "change the organisation")
    errors = Errors()
    values: dict[str, Any] = {}
    if default_hourly_rate_cents is not None:
        check_rate(errors, "defaultHourlyRateCents", default_hourly_rate_cents)
        values["default_hourly_rate_cents"] = default_hourly_rate_cents
    if name is not None:
        values["name"] = validation.text(errors, "name", name, max_length=NAME_MAX, required=True)
    if edition is not None:
        values["edition"] = edition
    errors.raise_if_any()
    org = await models.Organisation.first()
    if org is None:
        raise RuntimeError("no organisation: run `deskql migrate` to create it")
    before = {key: getattr(org, key) for key in values}
    async with uow.transaction():
        if values:
            await models.Organisation.filter(id=org.id).update(**values)
        fresh = await models.Organisation.get(id=org.id)
        changed = activity.diff(before, {key: getattr(fresh, key) for key in values})
        if changed:
            await activity.record(
                actor=actor,
                kind="organisation.updated",
                subject_type="Organisation",
                subject_id=org.id,
                changes=changed,
            )
    return fresh


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


# --- teams -------------------------------------------------------------------------------


async def get_team(actor: Actor, *, team_id: int) -> models.Team | None:
    """The team, or None when it does not exist or is in a department the actor is not in."""
    return await visible_teams(actor).filter(id=team_id).first()


def list_teams(
    actor: Actor,
    *,
    department_id: int | None = None,
    text: str | None = None,
    sort: str = "NAME",
    desc: bool = False,
) -> QuerySet[models.Team]:
    """The actor's visible teams, optionally of one department, matching `text`, sorted."""
    qs = visible_teams(actor)
    if department_id is not None:
        qs = qs.filter(department_id=department_id)
    for word in _words(text):
        qs = qs.filter(name__icontains=word)
    return _sorted(qs, sort=sort, desc=desc, name_fields=("name",))


async def _team_name_taken(department_id: int, name: str, exclude_id: int | None = None) -> bool:
    qs = models.Team.filter(department_id=department_id, name__iexact=name)
    if exclude_id is not None:
        qs = qs.exclude(id=exclude_id)
    return await qs.exists()


def _duplicate_team(name: str) -> ValidationFailed:
    return ValidationFailed.one(
        "name", f"the department already has a team named {name!r}", ErrorCode.DUPLICATE
    )


async def _check_members(
    errors: Errors, department_id: int, member_ids: Iterable[int], field: str = "memberIds"
) -> list[int]:
    """The distinct member ids, sorted; errors unless each is an agent of the department."""
    ids = sorted(set(member_ids))
    if not ids:
        return ids
    existing = set(await models.Agent.filter(id__in=ids).values_list("id", flat=True))
    if len(existing) != len(ids):
        errors.add(field, "no such agent", ErrorCode.NOT_FOUND)
        return ids
    inside = set(
        await models.DepartmentMembership.filter(
            department_id=department_id, agent_id__in=ids
        ).values_list("agent_id", flat=True)
    )
    if inside != existing:
        errors.add(
            field,
            f"{len(existing - inside)} of the agents are not members of the team's department",
            ErrorCode.INVALID,
        )
    return ids


async def _team_member_ids(team_id: int) -> list[int]:
    return sorted(
        await models.TeamMembership.filter(team_id=team_id).values_list("agent_id", flat=True)
    )


async def _replace_team_members(team_id: int, member_ids: list[int]) -> None:
    await models.TeamMembership.filter(team_id=team_id).exclude(agent_id__in=member_ids).delete()
    current = set(await _team_member_ids(team_id))
    added = [a for a in member_ids if a not in current]
    if added:
        await models.TeamMembership.bulk_create(
            [models.TeamMembership(team_id=team_id, agent_id=a) for a in added]
        )


async def create_team(
    actor: Actor,
    *,
    department_id: int,
    name: str,
    description: str = "",
    member_ids: list[int] | None = None,
) -> models.Team:
    """Create a team in a department, with members of that department (administrators only)."""
    require_admin(actor, "create teams")
    errors = Errors()
    clean = validation.text(errors, "name", name, max_length=NAME_MAX, required=True)
    desc = validation.text(
        errors, "description", description, max_length=DESCRIPTION_MAX, multiline=True
    )
    members: list[int] = []
    if not await models.Department.exists(id=department_id):
        errors.add("departmentId", "no such department", ErrorCode.NOT_FOUND)
    else:
        members = await _check_members(errors, department_id, member_ids or [])
    errors.raise_if_any()
    assert clean is not None
    if await _team_name_taken(department_id, clean):
        raise _duplicate_team(clean)
    try:
        async with uow.transaction():
            team = await models.Team.create(
                department_id=department_id, name=clean, description=desc or ""
            )
            if members:
                await models.TeamMembership.bulk_create(
                    [models.TeamMembership(team_id=team.id, agent_id=a) for a in members]
                )
            await activity.record(
                actor=actor,
                kind="team.created",
                subject_type="Team",
                subject_id=team.id,
                department_id=department_id,
                changes={"name": clean, "member_ids": members},
            )
    except IntegrityError:
        raise _duplicate_team(clean) from None
    return team


async def _require_team(team_id: int, field: str = "id") -> models.Team:
    team = await models.Team.filter(id=team_id).first()
    if team is None:
        raise ValidationFailed.one(field, "no such team", ErrorCode.NOT_FOUND)
    return team


async def update_team(
    actor: Actor,
    *,
    team_id: int,
    name: str | None = None,
    description: str | None = None,
    member_ids: list[int] | None = None,
) -> models.Team:
    """Rename a team, change its description or replace its members (administrators only)."""
    require_admin(actor, "change teams")
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
    team = await _require_team(team_id)
    dept_id: int = team.department_id  # type: ignore[attr-defined]
    members = None if member_ids is None else await _check_members(errors, dept_id, member_ids)
    errors.raise_if_any()
    if "name" in values and await _team_name_taken(dept_id, values["name"], exclude_id=team.id):
        raise _duplicate_team(values["name"])
    before: dict[str, Any] = {key: getattr(team, key) for key in values}
    try:
        async with uow.transaction():
            if values:
                await models.Team.filter(id=team.id).update(**values)
            after: dict[str, Any] = {}
            if members is not None:
                before["member_ids"] = await _team_member_ids(team.id)
                await _replace_team_members(team.id, members)
                after["member_ids"] = members
            fresh = await models.Team.get(id=team.id)
            after.update({key: getattr(fresh, key) for key in values})
            changed = activity.diff(before, after)
            if changed:
                await activity.record(
                    actor=actor,
                    kind="team.updated",
                    subject_type="Team",
                    subject_id=team.id,
                    department_id=dept_id,
                    changes=changed,
                )
    except IntegrityError:
        raise _duplicate_team(values.get("name", team.name)) from None
    return fresh


async def set_team_members(actor: Actor, *, team_id: int, member_ids: list[int]) -> models.Team:
    """Replace a team's members with agents of its department (administrators only)."""
    return await update_team(actor, team_id=team_id, member_ids=member_ids)


async def delete_team(actor: Actor, *, team_id: int) -> models.Team:
    """Delete a team; its tickets become unassigned, each with a `ticket.updated` row."""
    require_admin(actor, "delete teams")
    team = await _require_team(team_id)
    async with uow.transaction():
        await _unassign_tickets(actor, "assignee_team_id", team.id)
        await activity.record(
            actor=actor,
            kind="team.deleted",
            subject_type="Team",
            subject_id=team.id,
            department_id=team.department_id,  # type: ignore[attr-defined]
            changes={"name": team.name, "member_ids": await _team_member_ids(team.id)},
        )
        await team.delete()
    return team


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


# Guesses of the current password when setting a new one (update_profile).
PASSWORD_CHANGE = throttle.Policy(name="password-change")


async def update_profile(
    actor: Actor,
    *,
    first_name: str | None = None,
    last_name: str | None = None,
    avatar_url: str | None = None,
    about: str | None = None,
    hobbies: str | None = None,
    password: str | None = None,
    current_password: str | None = None,
) -> models.Agent:
    """Change the signed-in agent's own profile (PRO-1); a new password needs the current one."""
    errors = Errors()
    values = _profile_values(
        errors,
        first_name=first_name,
        last_name=last_name,
        about=about,
        hobbies=hobbies,
        avatar_url=avatar_url,
    )
    check_password(errors, password)
    errors.raise_if_any()
    agent = await models.Agent.get(id=actor.agent_id)
    password_hash = None
    if password is not None:
        # The current password is a guessable secret too: throttled like sign-in, per agent.
        attempt = await throttle.begin(PASSWORD_CHANGE, identifier=str(agent.id), address=None)
        ok = (
            current_password is not None
            and agent.password_hash is not None
            and await verify_password(agent.password_hash, current_password)
        )
        if ok:
            await throttle.succeeded(attempt)
        else:
            await throttle.failed(attempt)
            raise ValidationFailed.one(
                "currentPassword",
                "give your current password to set a new one",
                ErrorCode.INVALID_CREDENTIALS,
            )
        password_hash = await hash_password(password)
    before = {key: getattr(agent, key) for key in values}
    async with uow.transaction():
        writes = dict(values)
        if password_hash is not None:
            writes["password_hash"] = password_hash
        if writes:
            writes["updated_at"] = _now()
            await models.Agent.filter(id=agent.id).update(**writes)
        fresh = await models.Agent.get(id=agent.id)
        changed = activity.diff(before, {key: getattr(fresh, key) for key in values})
        if password_hash is not None:
            changed["password"] = {"old": HIDDEN, "new": HIDDEN}
        if changed:
            await activity.record(
                actor=actor,
                kind="profile.updated",
                subject_type="Agent",
                subject_id=agent.id,
                changes=changed,
            )
    return fresh
