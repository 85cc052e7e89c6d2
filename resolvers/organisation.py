"""Organisation resolvers: decode ids, call services.organisation, build payloads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from deskql.resolvers.common import mutate, page
from deskql.schema.connections import Connection
from deskql.schema.context import actor_of
from deskql.schema.ids import decode_id, input_id, input_ids
from deskql.schema.types import Agent, Department, Organisation, Team
from deskql.services import organisation as svc
from deskql.services.errors import ErrorCode, Errors

if TYPE_CHECKING:
    from deskql.schema.organisation import (
        AgentCreateInput,
        AgentDeleteInput,
        AgentFilter,
        AgentSort,
        AgentUpdateInput,
        DepartmentCreateInput,
        DepartmentDeleteInput,
        DepartmentFilter,
        DepartmentSort,
        DepartmentUpdateInput,
        OrganisationUpdateInput,
        ProfileUpdateInput,
        TeamCreateInput,
        TeamDeleteInput,
        TeamFilter,
        TeamMembersSetInput,
        TeamSort,
        TeamUpdateInput,
    )


def _camel(attr: str) -> str:
    head, *rest = attr.split("_")
    return head + "".join(part.title() for part in rest)


def _set_fields(
    input_obj: Any, attrs: list[str], clearable: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The input fields the client set, by attribute name. Null clears a `clearable` text
    field (to ""); on any other field it is a REQUIRED error (the field cannot be empty)."""
    errors = Errors()
    out: dict[str, Any] = {}
    for attr in attrs:
        value = getattr(input_obj, attr)
        if value is strawberry.UNSET:
            continue
        if value is None:
            if attr not in clearable:
                errors.add(_camel(attr), f"{_camel(attr)} cannot be null", ErrorCode.REQUIRED)
                continue
            value = ""
        out[attr] = value
    errors.raise_if_any()
    return out


def _order(sort: Any) -> tuple[str, bool]:
    if sort is None:
        return "NAME", False
    return sort.field.value, sort.direction.value == "DESC"


# --- queries ---------------------------------------------------------------------------


async def departments(
    info: strawberry.Info,
    *,
    filter: DepartmentFilter | None,
    sort: DepartmentSort | None,
    first: int | None,
    after: str | None,
) -> Connection[Department]:
    """`departments`: a page of the departments the actor works in."""
    field, desc = _order(sort)
    query = svc.list_departments(
        actor_of(info), text=filter.text if filter else None, sort=field, desc=desc
    )
    return await page(info, query, first=first, after=after, convert=Department.from_row)


async def department(info: strawberry.Info, id: str) -> Department | None:
    """`department(id)`: null when absent or not visible."""
    row = await svc.get_department(actor_of(info), department_id=decode_id(id, "Department"))
    return Department.from_row(row) if row else None


async def teams(
    info: strawberry.Info,
    *,
    filter: TeamFilter | None,
    sort: TeamSort | None,
    first: int | None,
    after: str | None,
) -> Connection[Team]:
    """`teams`: a page of the teams of the actor's departments."""
    actor = actor_of(info)
    field, desc = _order(sort)
    dept = filter.department_id if filter else None
    query = svc.list_teams(
        actor,
        department_id=decode_id(dept, "Department") if dept else None,
        text=filter.text if filter else None,
        sort=field,
        desc=desc,
    )
    return await page(info, query, first=first, after=after, convert=Team.from_row)


async def team(info: strawberry.Info, id: str) -> Team | None:
    """`team(id)`: null when absent or not visible."""
    row = await svc.get_team(actor_of(info), team_id=decode_id(id, "Team"))
    return Team.from_row(row) if row else None


async def agents(
    info: strawberry.Info,
    *,
    filter: AgentFilter | None,
    sort: AgentSort | None,
    first: int | None,
    after: str | None,
) -> Connection[Agent]:
    """`agents`: a page of the agents the actor may see."""
    actor = actor_of(info)
    field, desc = _order(sort)
    dept = filter.department_id if filter else None
    query = svc.list_agents(
        actor,
        department_id=decode_id(dept, "Department") if dept else None,
        role=filter.role if filter else None,
        is_active=filter.is_active if filter else None,
        text=filter.text if filter else None,
        sort=field,
        desc=desc,
    )
    return await page(info, query, first=first, after=after, convert=Agent.from_row)


async def agent(info: strawberry.Info, id: str) -> Agent | None:
    """`agent(id)`: null when absent or not visible."""
    row = await svc.get_agent(actor_of(info), agent_id=decode_id(id, "Agent"))
    return Agent.from_row(row) if row else None


# --- mutations -------------------------------------------------------------------------


async def organisation_update(info: strawberry.Info, input: OrganisationUpdateInput) -> Any:
    """`organisationUpdate`."""
    from deskql.schema.organisation import OrganisationUpdatePayload

    async def run() -> dict[str, Any]:
        values = _set_fields(input, ["name", "edition", "default_hourly_rate_cents"])
        row = await svc.update_organisation(actor_of(info), **values)
        return {"organisation": Organisation.from_row(row, info.context.settings.mail_domain)}

    return await mutate(OrganisationUpdatePayload, run)


async def department_create(info: strawberry.Info, input: DepartmentCreateInput) -> Any:
    """`departmentCreate`."""
    from deskql.schema.organisation import DepartmentPayload

    async def run() -> dict[str, Any]:
        row = await svc.create_department(
            actor_of(info), name=input.name, description=input.description
        )
        return {"department": Department.from_row(row)}

    return await mutate(DepartmentPayload, run)


async def department_update(info: strawberry.Info, input: DepartmentUpdateInput) -> Any:
    """`departmentUpdate`."""
    from deskql.schema.organisation import DepartmentPayload

    async def run() -> dict[str, Any]:
        department_id = input_id(input.id, "Department", "id")
        values = _set_fields(input, ["name", "description"], clearable=frozenset({"description"}))
        row = await svc.update_department(actor_of(info), department_id=department_id, **values)
        return {"department": Department.from_row(row)}

    return await mutate(DepartmentPayload, run)


async def department_delete(info: strawberry.Info, input: DepartmentDeleteInput) -> Any:
    """`departmentDelete`."""
    from deskql.schema.organisation import DepartmentPayload

    async def run() -> dict[str, Any]:
        row = await svc.delete_department(
            actor_of(info), department_id=input_id(input.id, "Department", "id")
        )
        return {"department": Department.from_row(row)}

    return await mutate(DepartmentPayload, run)


async def team_create(info: strawberry.Info, input: TeamCreateInput) -> Any:
    """`teamCreate`."""
    from deskql.schema.organisation import TeamPayload

    async def run() -> dict[str, Any]:
        row = await svc.create_team(
            actor_of(info),
            department_id=input_id(input.department_id, "Department", "departmentId"),
            name=input.name,
            description=input.description,
            member_ids=input_ids(input.member_ids, "Agent", "memberIds"),
        )
        return {"team": Team.from_row(row)}

    return await mutate(TeamPayload, run)


async def team_update(info: strawberry.Info, input: TeamUpdateInput) -> Any:
    """`teamUpdate`."""
    from deskql.schema.organisation import TeamPayload

    async def run() -> dict[str, Any]:
        team_id = input_id(input.id, "Team", "id")
        values = _set_fields(
            input, ["name", "description", "member_ids"], clearable=frozenset({"description"})
        )
        if "member_ids" in values:
            values["member_ids"] = input_ids(values["member_ids"], "Agent", "memberIds")
        row = await svc.update_team(actor_of(info), team_id=team_id, **values)
        return {"team": Team.from_row(row)}

    return await mutate(TeamPayload, run)


async def team_members_set(info: strawberry.Info, input: TeamMembersSetInput) -> Any:
    """`teamMembersSet`."""
    from deskql.schema.organisation import TeamPayload

    async def run() -> dict[str, Any]:
        row = await svc.set_team_members(
            actor_of(info),
            team_id=input_id(input.team_id, "Team", "teamId"),
            member_ids=input_ids(input.member_ids, "Agent", "memberIds"),
        )
        return {"team": Team.from_row(row)}

    return await mutate(TeamPayload, run)


async def team_delete(info: strawberry.Info, input: TeamDeleteInput) -> Any:
    """`teamDelete`."""
    from deskql.schema.organisation import TeamPayload

    async def run() -> dict[str, Any]:
        row = await svc.delete_team(actor_of(info), team_id=input_id(input.id, "Team", "id"))
        return {"team": Team.from_row(row)}

    return await mutate(TeamPayload, run)


async def agent_create(info: strawberry.Info, input: AgentCreateInput) -> Any:
    """`agentCreate`."""
    from deskql.schema.organisation import AgentPayload

    async def run() -> dict[str, Any]:
        row = await svc.create_agent(
            actor_of(info),
            email=input.email,
            first_name=input.first_name,
            last_name=input.last_name,
            role=input.role,
            department_ids=input_ids(input.department_ids, "Department", "departmentIds"),
            password=input.password,
            avatar_url=input.avatar_url,
            about=input.about,
            hobbies=input.hobbies,
        )
        return {"agent": Agent.from_row(row)}

    return await mutate(AgentPayload, run)


_PROFILE_CLEARABLE = frozenset({"first_name", "avatar_url", "about", "hobbies"})


async def agent_update(info: strawberry.Info, input: AgentUpdateInput) -> Any:
    """`agentUpdate`."""
    from deskql.schema.organisation import AgentPayload

    async def run() -> dict[str, Any]:
        agent_id = input_id(input.id, "Agent", "id")
        values = _set_fields(
            input,
            [
                "email",
                "first_name",
                "last_name",
                "role",
                "is_active",
                "department_ids",
                "password",
                "avatar_url",
                "about",
                "hobbies",
                "can_manage_macros",
            ],
            clearable=_PROFILE_CLEARABLE,
        )
        if "department_ids" in values:
            values["department_ids"] = input_ids(
                values["department_ids"], "Department", "departmentIds"
            )
        if input.hourly_rate_cents is not strawberry.UNSET:
            # null is meaningful here: the agent bills at the organisation's default rate.
            values["hourly_rate_cents"] = input.hourly_rate_cents
        row = await svc.update_agent(actor_of(info), agent_id=agent_id, **values)
        return {"agent": Agent.from_row(row)}

    return await mutate(AgentPayload, run)


async def agent_delete(info: strawberry.Info, input: AgentDeleteInput) -> Any:
    """`agentDelete`."""
    from deskql.schema.organisation import AgentPayload

    async def run() -> dict[str, Any]:
        row = await svc.delete_agent(actor_of(info), agent_id=input_id(input.id, "Agent", "id"))
        return {"agent": Agent.from_row(row)}

    return await mutate(AgentPayload, run)


async def profile_update(info: strawberry.Info, input: ProfileUpdateInput) -> Any:
    """`profileUpdate`."""
    from deskql.schema.organisation import ProfileUpdatePayload

    async def run() -> dict[str, Any]:
        values = _set_fields(
            input,
            ["first_name", "last_name", "avatar_url", "about", "hobbies", "password"],
            clearable=_PROFILE_CLEARABLE,
        )
        row = await svc.update_profile(
            actor_of(info), current_password=input.current_password, **values
        )
        return {"agent": Agent.from_row(row)}

    return await mutate(ProfileUpdatePayload, run)
