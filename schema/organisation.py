"""Organisation, departments, teams, agents and the own profile (ORG-1..ORG-5, PRO-1)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import strawberry

from deskql.models.enums import Edition, Role
from deskql.resolvers import organisation as r
from deskql.schema.connections import Connection
from deskql.schema.errors import MutationError
from deskql.schema.permissions import IsAdmin, IsAuthenticated
from deskql.schema.tickets import SortDirection
from deskql.schema.types import Agent, Department, Organisation, Team

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


@strawberry.input(description="Changes to the organisation; only the fields you set change.")
class OrganisationUpdateInput:
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Display name, 1 to 120 characters."
    )
    edition: Edition | None = strawberry.field(
        default=strawberry.UNSET, description="Edition; it sets the organisation's limits."
    )
    default_hourly_rate_cents: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Hourly rate, in cents, of agents without their own (TIM-2).",
    )


@strawberry.type(description="Result of organisationUpdate.")
class OrganisationUpdatePayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    organisation: Organisation | None = strawberry.field(
        default=None, description="The organisation as changed."
    )


@strawberry.input(description="A new department.")
class DepartmentCreateInput:
    name: str = strawberry.field(description="Unique name (case-insensitive), 1 to 120 characters.")
    description: str = strawberry.field(default="", description="Free text about it.")


@strawberry.input(description="Changes to a department; only the fields you set change.")
class DepartmentUpdateInput:
    id: strawberry.ID = strawberry.field(description="The department.")
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Unique name, 1 to 120 characters."
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="Free text; null clears it."
    )


@strawberry.input(
    description="The department to delete; refused (IN_USE) while it has tickets or teams."
)
class DepartmentDeleteInput:
    id: strawberry.ID = strawberry.field(description="The department.")


@strawberry.type(description="Result of a mutation that changes a department.")
class DepartmentPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    department: Department | None = strawberry.field(
        default=None, description="The department as changed (as it was, for a delete)."
    )


@strawberry.input(description="A new team in a department.")
class TeamCreateInput:
    department_id: strawberry.ID = strawberry.field(description="The team's department.")
    name: str = strawberry.field(description="Name, unique within the department.")
    description: str = strawberry.field(default="", description="Free text about the team.")
    member_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Members: agents of the team's department."
    )


@strawberry.input(description="Changes to a team; only the fields you set change.")
class TeamUpdateInput:
    id: strawberry.ID = strawberry.field(description="The team.")
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Name, unique within the department."
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="Free text; null clears it."
    )
    member_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET,
        description="The new members, replacing the old (agents of the team's department).",
    )


@strawberry.input(description="The full list of a team's members.")
class TeamMembersSetInput:
    team_id: strawberry.ID = strawberry.field(description="The team.")
    member_ids: list[strawberry.ID] = strawberry.field(
        description="The new members, replacing the old (agents of the team's department)."
    )


@strawberry.input(description="The team to delete; its tickets become unassigned.")
class TeamDeleteInput:
    id: strawberry.ID = strawberry.field(description="The team.")


@strawberry.type(description="Result of a mutation that changes a team.")
class TeamPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    team: Team | None = strawberry.field(
        default=None, description="The team as changed (as it was, for a delete)."
    )


@strawberry.input(description="A new agent.")
class AgentCreateInput:
    email: str = strawberry.field(description="Sign-in email, unique.")
    last_name: str = strawberry.field(description="Last name, shown to customers.")
    first_name: str = strawberry.field(default="", description="First name.")
    role: Role = strawberry.field(default=Role.AGENT, description="ADMINISTRATOR or AGENT.")
    department_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Departments the agent works in."
    )
    password: str | None = strawberry.field(
        default=None, description="Password, 8 to 256 characters; none: API tokens only."
    )
    avatar_url: str = strawberry.field(default="", description="http(s) URL of the photo.")
    about: str = strawberry.field(default="", description="About / bio.")
    hobbies: str = strawberry.field(default="", description="Hobbies.")


@strawberry.input(description="Changes to an agent; only the fields you set change.")
class AgentUpdateInput:
    id: strawberry.ID = strawberry.field(description="The agent.")
    email: str | None = strawberry.field(default=strawberry.UNSET, description="Email, unique.")
    first_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="First name; null clears it."
    )
    last_name: str | None = strawberry.field(default=strawberry.UNSET, description="Last name.")
    role: Role | None = strawberry.field(default=strawberry.UNSET, description="Role.")
    is_active: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="False deactivates: history stays, the agent's tokens stop working.",
    )
    department_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Departments, replacing the old; teams outside them are left.",
    )
    password: str | None = strawberry.field(
        default=strawberry.UNSET, description="A new password, 8 to 256 characters."
    )
    avatar_url: str | None = strawberry.field(
        default=strawberry.UNSET, description="http(s) URL of the photo; null clears it."
    )
    about: str | None = strawberry.field(
        default=strawberry.UNSET, description="About / bio; null clears it."
    )
    hobbies: str | None = strawberry.field(
        default=strawberry.UNSET, description="Hobbies; null clears it."
    )
    hourly_rate_cents: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Hourly rate in cents for billable time (TIM-2); null: the "
        "organisation's default rate.",
    )
    can_manage_macros: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="True lets the agent create, change and delete the macros of their "
        "departments (AUT-1).",
    )


@strawberry.input(description="The agent to delete; their tickets become unassigned.")
class AgentDeleteInput:
    id: strawberry.ID = strawberry.field(description="The agent (not yourself).")


@strawberry.type(description="Result of a mutation that changes an agent.")
class AgentPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    agent: Agent | None = strawberry.field(
        default=None, description="The agent as changed (as it was, for a delete)."
    )


@strawberry.input(description="Changes to your own profile; only the fields you set change.")
class ProfileUpdateInput:
    first_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="First name; null clears it."
    )
    last_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Last name, shown to customers."
    )
    avatar_url: str | None = strawberry.field(
        default=strawberry.UNSET, description="http(s) URL of your photo; null clears it."
    )
    about: str | None = strawberry.field(
        default=strawberry.UNSET, description="About / bio; null clears it."
    )
    hobbies: str | None = strawberry.field(
        default=strawberry.UNSET, description="Hobbies; null clears it."
    )
    password: str | None = strawberry.field(
        default=strawberry.UNSET, description="A new password, 8 to 256 characters."
    )
    current_password: str | None = strawberry.field(
        default=None, description="Your current password; required to set a new one."
    )


@strawberry.type(description="Result of profileUpdate.")
class ProfileUpdatePayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    agent: Agent | None = strawberry.field(default=None, description="Your profile as changed.")


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


@strawberry.type
class OrganisationMutations:
    @strawberry.mutation(
        description="Rename the organisation or change its edition (administrators).",
        permission_classes=[IsAdmin],
    )
    async def organisation_update(
        self, info: strawberry.Info, input: OrganisationUpdateInput
    ) -> OrganisationUpdatePayload:
        return await r.organisation_update(info, input)

    @strawberry.mutation(
        description="Create a department (administrators).", permission_classes=[IsAdmin]
    )
    async def department_create(
        self, info: strawberry.Info, input: DepartmentCreateInput
    ) -> DepartmentPayload:
        return await r.department_create(info, input)

    @strawberry.mutation(
        description="Rename a department or change its description (administrators).",
        permission_classes=[IsAdmin],
    )
    async def department_update(
        self, info: strawberry.Info, input: DepartmentUpdateInput
    ) -> DepartmentPayload:
        return await r.department_update(info, input)

    @strawberry.mutation(
        description="Delete a department without tickets or teams (administrators).",
        permission_classes=[IsAdmin],
    )
    async def department_delete(
        self, info: strawberry.Info, input: DepartmentDeleteInput
    ) -> DepartmentPayload:
        return await r.department_delete(info, input)

    @strawberry.mutation(
        description="Create a team in a department (administrators).",
        permission_classes=[IsAdmin],
    )
    async def team_create(self, info: strawberry.Info, input: TeamCreateInput) -> TeamPayload:
        return await r.team_create(info, input)

    @strawberry.mutation(
        description="Rename a team, change its description or members (administrators).",
        permission_classes=[IsAdmin],
    )
    async def team_update(self, info: strawberry.Info, input: TeamUpdateInput) -> TeamPayload:
        return await r.team_update(info, input)

    @strawberry.mutation(
        description="Replace a team's members (administrators).", permission_classes=[IsAdmin]
    )
    async def team_members_set(
        self, info: strawberry.Info, input: TeamMembersSetInput
    ) -> TeamPayload:
        return await r.team_members_set(info, input)

    @strawberry.mutation(
        description="Delete a team; its tickets become unassigned (administrators).",
        permission_classes=[IsAdmin],
    )
    async def team_delete(self, info: strawberry.Info, input: TeamDeleteInput) -> TeamPayload:
        return await r.team_delete(info, input)

    @strawberry.mutation(
        description="Create an agent (administrators).", permission_classes=[IsAdmin]
    )
    async def agent_create(self, info: strawberry.Info, input: AgentCreateInput) -> AgentPayload:
        return await r.agent_create(info, input)

    @strawberry.mutation(
        description="Change an agent: profile, role, departments, activation (administrators).",
        permission_classes=[IsAdmin],
    )
    async def agent_update(self, info: strawberry.Info, input: AgentUpdateInput) -> AgentPayload:
        return await r.agent_update(info, input)

    @strawberry.mutation(
        description="Delete an agent (not yourself); their tickets become unassigned "
        "(administrators).",
        permission_classes=[IsAdmin],
    )
    async def agent_delete(self, info: strawberry.Info, input: AgentDeleteInput) -> AgentPayload:
        return await r.agent_delete(info, input)

    @strawberry.mutation(
        description="Change your own profile (PRO-1); a new password needs the current one.",
        permission_classes=[IsAuthenticated],
    )
    async def profile_update(
        self, info: strawberry.Info, input: ProfileUpdateInput
    ) -> ProfileUpdatePayload:
        return await r.profile_update(info, input)
