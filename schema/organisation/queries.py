"""OrganisationQueries: departments, teams and agents, with their sorts and filters."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import strawberry

from deskql.models.enums import Role
from deskql.resolvers import organisation as r
from deskql.schema.connections import Connection
from deskql.schema.permissions import IsAuthenticated
from deskql.schema.tickets import SortDirection
from deskql.schema.types import Agent, Department, Team

_FIRST = "Page size, 0 to 100 (default 20)."


_AFTER = "Cursor of the item after which the page starts."


@strawberry.enum(description="Fields departments can be sorted by.")
class DepartmentSortField(Enum):
    NAME = "NAME"
    CREATED_AT = "CREATED_AT"


@strawberry.enum(description="Fields teams can be sorted by.")
class TeamSortField(Enum):
    NAME = "NAME"
    CREATED_AT = "CREATED_AT"


@strawberry.enum(description="Fields agents can be sorted by; NAME is last name, then first.")
class AgentSortField(Enum):
    NAME = "NAME"
    CREATED_AT = "CREATED_AT"


@strawberry.input(description="How to sort departments; ties are broken by id.")
class DepartmentSort:
    field: DepartmentSortField = strawberry.field(
        default=DepartmentSortField.NAME, description="The field to sort by."
    )
    direction: SortDirection = strawberry.field(
        default=SortDirection.ASC, description="ASC or DESC."
    )


@strawberry.input(description="How to sort teams; ties are broken by id.")
class TeamSort:
    field: TeamSortField = strawberry.field(
        default=TeamSortField.NAME, description="The field to sort by."
    )
    direction: SortDirection = strawberry.field(
        default=SortDirection.ASC, description="ASC or DESC."
    )


@strawberry.input(description="How to sort agents; ties are broken by id.")
class AgentSort:
    field: AgentSortField = strawberry.field(
        default=AgentSortField.NAME, description="The field to sort by."
    )
    direction: SortDirection = strawberry.field(
        default=SortDirection.ASC, description="ASC or DESC."
    )


@strawberry.input(description="Department criteria.")
class DepartmentFilter:
    text: str | None = strawberry.field(
        default=None, description="Words the name contains (case-insensitive)."
    )


@strawberry.input(description="Team criteria; every criterion given must hold.")
class TeamFilter:
    department_id: strawberry.ID | None = strawberry.field(
        default=None, description="Teams of this department."
    )
    text: str | None = strawberry.field(
        default=None, description="Words the name contains (case-insensitive)."
    )


@strawberry.input(description="Agent criteria; every criterion given must hold.")
class AgentFilter:
    department_id: strawberry.ID | None = strawberry.field(
        default=None, description="Members of this department."
    )
    role: Role | None = strawberry.field(default=None, description="Agents with this role.")
    is_active: bool | None = strawberry.field(
        default=None, description="True: active agents only; false: deactivated ones only."
    )
    text: str | None = strawberry.field(
        default=None,
        description="Words each found in the first name, last name or email (case-insensitive).",
    )


@strawberry.type
class OrganisationQueries:
    @strawberry.field(
        description="Departments you work in (all, for administrators), a page at a time.",
        permission_classes=[IsAuthenticated],
    )
    async def departments(
        self,
        info: strawberry.Info,
        filter: Annotated[
            DepartmentFilter | None, strawberry.argument(description="Criteria.")
        ] = None,
        sort: Annotated[
            DepartmentSort | None, strawberry.argument(description="Order (default by name).")
        ] = None,
        first: Annotated[int | None, strawberry.argument(description=_FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=_AFTER)] = None,
    ) -> Connection[Department]:
        return await r.departments(info, filter=filter, sort=sort, first=first, after=after)

    @strawberry.field(
        description="One department; null if absent or not one you work in.",
        permission_classes=[IsAuthenticated],
    )
    async def department(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id.")],
    ) -> Department | None:
        return await r.department(info, id)

    @strawberry.field(
        description="Teams of your departments (all, for administrators), a page at a time.",
        permission_classes=[IsAuthenticated],
    )
    async def teams(
        self,
        info: strawberry.Info,
        filter: Annotated[TeamFilter | None, strawberry.argument(description="Criteria.")] = None,
        sort: Annotated[
            TeamSort | None, strawberry.argument(description="Order (default by name).")
        ] = None,
        first: Annotated[int | None, strawberry.argument(description=_FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=_AFTER)] = None,
    ) -> Connection[Team]:
        return await r.teams(info, filter=filter, sort=sort, first=first, after=after)

    @strawberry.field(
        description="One team; null if absent or not in one of your departments.",
        permission_classes=[IsAuthenticated],
    )
    async def team(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id.")],
    ) -> Team | None:
        return await r.team(info, id)

    @strawberry.field(
        description="Agents sharing a department with you, and you (all, for administrators).",
        permission_classes=[IsAuthenticated],
    )
    async def agents(
        self,
        info: strawberry.Info,
        filter: Annotated[AgentFilter | None, strawberry.argument(description="Criteria.")] = None,
        sort: Annotated[
            AgentSort | None, strawberry.argument(description="Order (default by name).")
        ] = None,
        first: Annotated[int | None, strawberry.argument(description=_FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=_AFTER)] = None,
    ) -> Connection[Agent]:
        return await r.agents(info, filter=filter, sort=sort, first=first, after=after)

    @strawberry.field(
        description="One agent; null if absent or sharing no department with you.",
        permission_classes=[IsAuthenticated],
    )
    async def agent(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id.")],
    ) -> Agent | None:
        return await r.agent(info, id)
