"""OrganisationMutations and their payloads."""

from __future__ import annotations

import strawberry

from deskql.resolvers import organisation as r
from deskql.schema.errors import MutationError
from deskql.schema.organisation.inputs import (
    AgentCreateInput,
    AgentDeleteInput,
    AgentUpdateInput,
    DepartmentCreateInput,
    DepartmentDeleteInput,
    DepartmentUpdateInput,
    OrganisationUpdateInput,
    ProfileUpdateInput,
    TeamCreateInput,
    TeamDeleteInput,
    TeamMembersSetInput,
    TeamUpdateInput,
)
from deskql.schema.permissions import IsAdmin, IsAuthenticated
from deskql.schema.types import Agent, Department, Organisation, Team


@strawberry.type(description="Result of organisationUpdate.")
class OrganisationUpdatePayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    organisation: Organisation | None = strawberry.field(
        default=None, description="The organisation as changed."
    )


@strawberry.type(description="Result of a mutation that changes a department.")
class DepartmentPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    department: Department | None = strawberry.field(
        default=None, description="The department as changed (as it was, for a delete)."
    )


@strawberry.type(description="Result of a mutation that changes a team.")
class TeamPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    team: Team | None = strawberry.field(
        default=None, description="The team as changed (as it was, for a delete)."
    )


@strawberry.type(description="Result of a mutation that changes an agent.")
class AgentPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    agent: Agent | None = strawberry.field(
        default=None, description="The agent as changed (as it was, for a delete)."
    )


@strawberry.type(description="Result of profileUpdate.")
class ProfileUpdatePayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    agent: Agent | None = strawberry.field(default=None, description="Your profile as changed.")


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
