"""Teams and their members: reading, listing, creating, updating and deleting them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet

from deskql import models
from deskql.services import activity, uow, validation
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.organisation.common import (
    DESCRIPTION_MAX,
    NAME_MAX,
    _sorted,
    _unassign_tickets,
    _words,
)
from deskql.services.policies import (
    require_admin,
    visible_teams,
)

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
