"""The organisation, its departments, agents and teams, and Assignee (an agent or a team)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated, Any

import strawberry

from deskql import models
from deskql.schema.connections import Connection
from deskql.schema.ids import to_global_id
from deskql.schema.lookahead import peek
from deskql.schema.types.common import (
    Edition,
    Node,
    Role,
    _After,
    _First,
    _Following,
    _Notification,
    _Planned,
    _slice_ids,
    _Timer,
)
from deskql.services import policies


@strawberry.type(description="The organisation this deployment serves (ORG-1).")
class Organisation(Node):
    name: str = strawberry.field(description="Display name.")
    slug: str = strawberry.field(description="Short name used in the default support address.")
    edition: Edition = strawberry.field(description="Edition; it sets the organisation's limits.")
    default_support_address: str = strawberry.field(
        description="The default support address, support@<slug>.<mail domain> (EM-1)."
    )
    default_hourly_rate_cents: int = strawberry.field(
        description="Hourly rate, in cents, of agents without their own (TIM-2)."
    )

    @classmethod
    def from_row(cls, row: models.Organisation, mail_domain: str) -> Organisation:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("Organisation", row.id)),
            name=row.name,
            slug=row.slug,
            edition=row.edition,
            default_support_address=f"support@{row.slug}.{mail_domain}",
            default_hourly_rate_cents=row.default_hourly_rate_cents,
        )


@strawberry.type(description="A department (ORG-2). Tickets, teams and macros belong to one.")
class Department(Node):
    name: str = strawberry.field(description="Unique name.")
    description: str = strawberry.field(description="Free text about the department.")
    created_at: datetime = strawberry.field(description="When it was created.")
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Department) -> Department:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("Department", row.id)),
            name=row.name,
            description=row.description,
            created_at=row.created_at,
            pk=row.id,
        )

    @strawberry.field(description="The department's teams.")
    async def teams(self, info: strawberry.Info) -> list[Team]:
        return await info.context.loaders.teams_by_department.load(self.pk)

    @strawberry.field(description="The agents who are members of the department, a page at a time.")
    async def agents(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Agent]:
        loaders = info.context.loaders
        ids = await loaders.agent_ids_by_department.load(self.pk)
        ids = _slice_ids(info, ids, first, after)
        return ids.page(await loaders.agent.load_many(ids.items))


@strawberry.type(
    description="A help desk agent (ORG-3, PRO-1). Everyone sees an agent's public profile "
    "(id, name, first and last name, avatar). The rest (email, role, state, about, hobbies, "
    "rights, dates) is shown only to administrators, to the agent themself and to agents who "
    "share a department with them; to anyone else those fields are null (`fullProfile` says "
    "which). The rule holds on every path that reaches an agent: owners, actors, assignees, "
    "authors, followers, members, notifications."
)
class Agent(Node):
    first_name: str = strawberry.field(description="First name (public).")
    last_name: str = strawberry.field(
        description="Last name; shown in all customer communication (public)."
    )
    name: str = strawberry.field(description="Full name (public).")
    avatar_url: str = strawberry.field(description="URL of the profile photo (public).")
    pk: strawberry.Private[int]
    hourly_rate: strawberry.Private[int | None] = None
    row_email: strawberry.Private[str] = ""
    row_role: strawberry.Private[Role] = Role.AGENT
    row_is_active: strawberry.Private[bool] = True
    row_about: strawberry.Private[str] = ""
    row_hobbies: strawberry.Private[str] = ""
    row_can_manage_macros: strawberry.Private[bool] = False
    row_created_at: strawberry.Private[datetime | None] = None
    row_extension: strawberry.Private[str] = ""
    row_phone_number: strawberry.Private[str] = ""
    # Set for the agent who just signed in (login has no actor yet): their own profile.
    is_self: strawberry.Private[bool] = False

    @classmethod
    def from_row(cls, row: models.Agent) -> Agent:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("Agent", row.id)),
            first_name=row.first_name,
            last_name=row.last_name,
            name=row.name,
            avatar_url=row.avatar_url,
            pk=row.id,
            hourly_rate=row.hourly_rate_cents,
            row_email=row.email,
            row_role=row.role,
            row_is_active=row.is_active,
            row_about=row.about,
            row_hobbies=row.hobbies,
            row_can_manage_macros=row.can_manage_macros,
            row_created_at=row.created_at,
            row_extension=row.extension,
            row_phone_number=row.phone_number,
        )

    def _full(self, info: strawberry.Info) -> bool | Awaitable[bool]:
        """Whether the asker sees this agent's whole profile (policies.sees_agent_profile)."""
        actor = info.context.actor
        if self.is_self:
            return True
        if actor is None:
            return False
        if actor.is_admin or actor.agent_id == self.pk:
            return True
        depts = peek(info.context.loaders.department_ids_by_agent, self.pk)
        if isinstance(depts, list):
            return policies.sees_agent_profile(actor, self.pk, depts)

        async def later() -> bool:
            return policies.sees_agent_profile(actor, self.pk, await depts)

        return later()

    def _shown(self, info: strawberry.Info, value: Any) -> Any:
        full = self._full(info)
        if full is True:
            return value
        if full is False:
            return None
        # Made again when awaited: a request that never awaits this field (the lean executor
        # falling back) leaves no coroutine of it unawaited.
        if asyncio.iscoroutine(full):
            full.close()

        async def later() -> Any:
            again = self._full(info)  # by now the departments may be loaded: a bool
            return value if (again if isinstance(again, bool) else await again) else None

        return later()

    @strawberry.field(
        description="True: you see this agent's whole profile; false: only the public one "
        "(the private fields are null)."
    )
    def full_profile(self, info: strawberry.Info) -> bool:
        return self._full(info)  # type: ignore[return-value]

    @strawberry.field(description="Sign-in and contact email (private: null for others).")
    def email(self, info: strawberry.Info) -> str | None:
        return self._shown(info, self.row_email)

    @strawberry.field(description="ADMINISTRATOR or AGENT (private: null for others).")
    def role(self, info: strawberry.Info) -> Role | None:
        return self._shown(info, self.row_role)

    @strawberry.field(
        description="False once deactivated: can do nothing (private: null for others)."
    )
    def is_active(self, info: strawberry.Info) -> bool | None:
        return self._shown(info, self.row_is_active)

    @strawberry.field(description="About / bio (private: null for others).")
    def about(self, info: strawberry.Info) -> str | None:
        return self._shown(info, self.row_about)

    @strawberry.field(description="Hobbies (private: null for others).")
    def hobbies(self, info: strawberry.Info) -> str | None:
        return self._shown(info, self.row_hobbies)

    @strawberry.field(
        description="Granted by an administrator: may create, change and delete the macros "
        "of the agent's departments (AUT-1) (private: null for others)."
    )
    def can_manage_macros(self, info: strawberry.Info) -> bool | None:
        return self._shown(info, self.row_can_manage_macros)

    @strawberry.field(
        description="PBX extension, rung first by click-to-dial (ACT-2); empty: none "
        "(private: null for others)."
    )
    def extension(self, info: strawberry.Info) -> str | None:
        return self._shown(info, self.row_extension)

    @strawberry.field(
        description="Direct phone number (E.164); empty: none (private: null for others)."
    )
    def phone_number(self, info: strawberry.Info) -> str | None:
        return self._shown(info, self.row_phone_number)

    @strawberry.field(description="When the agent was created (private: null for others).")
    def created_at(self, info: strawberry.Info) -> datetime | None:
        return self._shown(info, self.row_created_at)

    @strawberry.field(
        description="Hourly rate in cents for billable time (TIM-2); null: the organisation's "
        "default. Shown to administrators and the agent themself (null to others)."
    )
    def hourly_rate_cents(self, info: strawberry.Info) -> int | None:
        actor = info.context.actor
        if actor is None or not (actor.is_admin or actor.agent_id == self.pk):
            return None
        return self.hourly_rate

    @strawberry.field(
        description="Your timers, oldest first, with live elapsed time (only on `me`)."
    )
    async def timers(self, info: strawberry.Info) -> list[_Timer]:
        from deskql.resolvers import time_tracking

        return await time_tracking.me_timers(info, self.pk)

    @strawberry.field(description="Departments the agent belongs to (those you may see).")
    async def departments(self, info: strawberry.Info) -> list[Department]:
        loaders = info.context.loaders
        ids = await loaders.department_ids_by_agent.load(self.pk)
        actor = info.context.actor
        ids = [i for i in ids if policies.can_see_department(actor, i)]
        return [d for d in await loaders.department.load_many(ids) if d is not None]

    @strawberry.field(description="Teams the agent belongs to (those you may see).")
    async def teams(self, info: strawberry.Info) -> list[Team]:
        loaders = info.context.loaders
        ids = await loaders.team_ids_by_agent.load(self.pk)
        teams = [tm for tm in await loaders.team.load_many(ids) if tm is not None]
        actor = info.context.actor
        return [tm for tm in teams if policies.can_see_department(actor, tm.department_pk)]

    @strawberry.field(
        description="Your notifications, newest first (only on `me`). Cursors are stable while "
        "new ones arrive; `newerThan` gives exactly what came after a cursor (catch-up)."
    )
    async def notifications(
        self,
        info: strawberry.Info,
        first: _First = None,
        after: _After = None,
        unread_only: Annotated[
            bool, strawberry.argument(description="Only unread notifications.")
        ] = False,
        newer_than: Annotated[
            str | None,
            strawberry.argument(description="Only notifications newer than this cursor."),
        ] = None,
    ) -> Connection[_Notification]:
        from deskql.resolvers import realtime

        return await realtime.notifications(
            info, self.pk, first=first, after=after, unread_only=unread_only, newer_than=newer_than
        )

    @strawberry.field(
        description="Your open tasks and your events not yet over, by due or start time, "
        "undated tasks last (only on `me`)."
    )
    async def open_activities(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[_Planned]:
        from deskql.resolvers import activities

        return await activities.open_activities(info, self.pk, first=first, after=after)

    @strawberry.field(description="What you follow (only on `me`).")
    async def following(self, info: strawberry.Info) -> _Following:
        from deskql.resolvers import realtime

        return await realtime.following(info, self.pk)


@strawberry.type(description="A named group of agents within one department (ORG-4).")
class Team(Node):
    name: str = strawberry.field(description="Name, unique within the department.")
    description: str = strawberry.field(description="Free text about the team.")
    created_at: datetime = strawberry.field(description="When the team was created.")
    pk: strawberry.Private[int]
    department_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Team) -> Team:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("Team", row.id)),
            name=row.name,
            description=row.description,
            created_at=row.created_at,
            pk=row.id,
            department_pk=row.department_id,  # type: ignore[attr-defined]
        )

    @strawberry.field(description="The department the team belongs to.")
    def department(self, info: strawberry.Info) -> Department:
        return peek(info.context.loaders.department, self.department_pk)

    @strawberry.field(description="The team's members, a page at a time.")
    async def members(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Agent]:
        loaders = info.context.loaders
        ids = _slice_ids(info, await loaders.agent_ids_by_team.load(self.pk), first, after)
        return ids.page(await loaders.agent.load_many(ids.items))


Assignee = Annotated[Agent | Team, strawberry.union("Assignee", description="An agent or a team.")]
