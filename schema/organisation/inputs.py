"""Inputs of the organisation, department, team, agent and profile mutations."""

from __future__ import annotations

import strawberry

from deskql.schema.types.common import Edition, Role


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
