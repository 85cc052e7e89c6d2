"""GraphQL object types. Leaf fields are plain attributes (sync, cheap); relations resolve
through the request's DataLoaders (`info.context.loaders`)."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.scalars import JSON

from deskql import models
from deskql.models.enums import (
    Channel,
    Edition,
    Role,
    ThreadDirection,
    TicketPriority,
    TicketStatus,
    TokenKind,
)
from deskql.schema.connections import Connection, list_page
from deskql.schema.ids import public_changes, to_global_id
from deskql.schema.lookahead import peek
from deskql.services import policies
from deskql.services.sanitize import sanitize_html

if TYPE_CHECKING:
    from deskql.schema.activities.inputs import (
        CallFilter,
        CallSort,
        EventFilter,
        EventSort,
        TaskFilter,
        TaskSort,
    )
    from deskql.schema.activities.types import Call, Event, PlannedActivity, Task
    from deskql.schema.crm import CrmRecord
    from deskql.schema.customer_overview import CustomerOverview
    from deskql.schema.helpcenter import HelpCenterAccess, TicketRating
    from deskql.schema.outbound import OutgoingEmail
    from deskql.schema.realtime import Following, Notification
    from deskql.schema.time_tracking import TimeEntry, Timer, TimeSummary

# Realtime fields (issue 3): types defined in schema/realtime.py, resolved by resolvers/realtime.py.
_Notification = Annotated["Notification", strawberry.lazy("deskql.schema.realtime")]
_Following = Annotated["Following", strawberry.lazy("deskql.schema.realtime")]
# Time tracking (issue 5): types in schema/time_tracking.py, resolved by resolvers/time_tracking.py.
_Timer = Annotated["Timer", strawberry.lazy("deskql.schema.time_tracking")]
_TimeEntry = Annotated["TimeEntry", strawberry.lazy("deskql.schema.time_tracking")]
_TimeSummary = Annotated["TimeSummary", strawberry.lazy("deskql.schema.time_tracking")]
# Activities (issue 16): types in schema/activities/, resolved by resolvers/activities.py.
_Task = Annotated["Task", strawberry.lazy("deskql.schema.activities.types")]
_Event = Annotated["Event", strawberry.lazy("deskql.schema.activities.types")]
_Call = Annotated["Call", strawberry.lazy("deskql.schema.activities.types")]
_Planned = Annotated["PlannedActivity", strawberry.lazy("deskql.schema.activities.types")]
# Customers (issue 15): types in schema/customer_overview.py and schema/crm.py.
_CustomerOverview = Annotated[
    "CustomerOverview", strawberry.lazy("deskql.schema.customer_overview")
]
_CrmRecord = Annotated["CrmRecord", strawberry.lazy("deskql.schema.crm")]
# The help center (issue 13): types in schema/helpcenter.py, resolved by resolvers/helpcenter_admin.
_TicketRating = Annotated["TicketRating", strawberry.lazy("deskql.schema.helpcenter")]
_HelpCenterAccess = Annotated["HelpCenterAccess", strawberry.lazy("deskql.schema.helpcenter")]
_First = Annotated[int | None, strawberry.argument(description="Page size, 0 to 100 (default 20).")]
_After = Annotated[
    str | None, strawberry.argument(description="Cursor of the item after which the page starts.")
]


def _page(info: strawberry.Info, items: list[Any], first: int | None, after: str | None) -> Any:
    """A page of a loaded list (page size capped by the `max_page_size` setting)."""
    return list_page(items, first=first, after=after, max_size=info.context.settings.max_page_size)


@dataclass
class _IdPage:
    """A page chosen among ids before their objects are loaded (only the page's are)."""

    items: list[int]
    whole: Connection[Any]

    def page(self, objects: list[Any]) -> Any:
        """The connection with these objects (one per id, None: gone) as its nodes."""
        kept = []
        for edge, obj in zip(self.whole.edges, objects, strict=True):
            if obj is not None:
                edge.node = obj
                kept.append(edge)
        self.whole.edges = kept
        return self.whole


def _slice_ids(
    info: strawberry.Info, ids: list[int], first: int | None, after: str | None
) -> _IdPage:
    whole = _page(info, ids, first, after)
    return _IdPage([e.node for e in whole.edges], whole)


strawberry.enum(Edition, description="Organisation edition; it sets limits (EM-3, EM-8).")
strawberry.enum(Role, description="An agent's role: administrators see and manage everything.")
strawberry.enum(TicketStatus, description="Lifecycle state of a ticket.")
strawberry.enum(TicketPriority, description="Ticket priority, from LOW to URGENT.")
strawberry.enum(Channel, description="How a ticket reached the help desk.")
strawberry.enum(ThreadDirection, description="Whether a message came in or went out.")
strawberry.enum(TokenKind, description="SESSION tokens come from login; API tokens are issued.")


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID = strawberry.field(description="Global, opaque id of the object.")


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

        async def later() -> Any:
            return value if await full else None

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


@strawberry.type(description="An entry in the product catalogue (CUS-9).")
class Product(Node):
    name: str = strawberry.field(description="Unique product name.")
    code: str = strawberry.field(description="Product code.")
    description: str = strawberry.field(description="Free text about the product.")
    created_at: datetime = strawberry.field(description="When it was added.")
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Product) -> Product:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("Product", row.id)),
            name=row.name,
            code=row.code,
            description=row.description,
            created_at=row.created_at,
            pk=row.id,
        )


@strawberry.type(description="A customer company (CUS-2).")
class Account(Node):
    name: str = strawberry.field(description="Company name.")
    email: str = strawberry.field(description="Company email.")
    phone: str = strawberry.field(description="Company phone.")
    website: str = strawberry.field(description="Company website.")
    description: str = strawberry.field(description="Free text about the account.")
    created_at: datetime = strawberry.field(description="When it was added.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    pk: strawberry.Private[int]
    owner_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.Account) -> Account:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("Account", row.id)),
            name=row.name,
            email=row.email,
            phone=row.phone,
            website=row.website,
            description=row.description,
            created_at=row.created_at,
            updated_at=row.updated_at,
            pk=row.id,
            owner_pk=row.owner_id,  # type: ignore[attr-defined]
        )

    @strawberry.field(description="The agent who owns the account.")
    async def owner(self, info: strawberry.Info) -> Agent | None:
        return (
            None if self.owner_pk is None else await info.context.loaders.agent.load(self.owner_pk)
        )

    @strawberry.field(description="Contacts of this account.")
    async def contacts(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Contact]:
        return _page(
            info, await info.context.loaders.contacts_by_account.load(self.pk), first, after
        )

    @strawberry.field(description="The account's tickets you may see, newest first.")
    async def tickets(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Ticket]:
        return _page(
            info, await info.context.loaders.tickets_by_account.load(self.pk), first, after
        )

    @strawberry.field(description="Products the account uses.")
    async def products(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Product]:
        loaders = info.context.loaders
        ids = _slice_ids(info, await loaders.product_ids_by_account.load(self.pk), first, after)
        return ids.page(await loaders.product.load_many(ids.items))

    @strawberry.field(description="Agents following the account (those you may see).")
    async def followers(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Agent]:
        from deskql.resolvers import realtime

        return await realtime.followers(info, first=first, after=after, account_id=self.pk)

    @strawberry.field(
        description="Ticket counts of the account (CUS-4); a page of accounts costs one SQL "
        "statement in all."
    )
    def overview(self, info: strawberry.Info) -> _CustomerOverview:
        from deskql.resolvers import customer_overview

        return customer_overview.overview(info, kind="account", pk=self.pk)

    @strawberry.field(
        description="Files attached to the account's tickets you may see (their messages and "
        "comments), newest first (CUS-3)."
    )
    async def attachments(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Attachment]:
        from deskql.resolvers import customer_overview

        return await customer_overview.attachments(
            info, kind="account", pk=self.pk, first=first, after=after
        )

    @strawberry.field(description="The account's record in the CRM (CUS-6); null: not mapped.")
    async def crm(self, info: strawberry.Info) -> _CrmRecord | None:
        from deskql.resolvers import crm

        return await crm.record(info, kind="account", pk=self.pk)

    @strawberry.field(
        description="Activity on the account and its tickets you may see, newest first (CUS-4)."
    )
    async def activities(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Activity]:
        from deskql.resolvers import realtime

        return await realtime.activities(info, first=first, after=after, account_id=self.pk)

    @strawberry.field(description="Comments on the account, oldest first (COL-1).")
    async def comments(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Comment]:
        from deskql.resolvers import activities

        return await activities.record_comments(info, "Account", self.pk, first=first, after=after)

    @strawberry.field(description="Tasks linked to the account (ORG-5: your departments').")
    async def tasks(
        self,
        info: strawberry.Info,
        filter: Annotated[
            Annotated[TaskFilter, strawberry.lazy("deskql.schema.activities.inputs")] | None,
            strawberry.argument(description="Only tasks matching these criteria."),
        ] = None,
        sort: Annotated[
            Annotated[TaskSort, strawberry.lazy("deskql.schema.activities.inputs")] | None,
            strawberry.argument(description="Order (default: due time, earliest first)."),
        ] = None,
        first: _First = None,
        after: _After = None,
    ) -> Connection[_Task]:
        from deskql.resolvers import activities

        return await activities.task_list(
            info, filter=filter, sort=sort, first=first, after=after, account_id=self.pk
        )

    @strawberry.field(description="Events linked to the account (ORG-5: your departments').")
    async def events(
        self,
        info: strawberry.Info,
        filter: Annotated[
            Annotated[EventFilter, strawberry.lazy("deskql.schema.activities.inputs")] | None,
            strawberry.argument(description="Only events matching these criteria."),
        ] = None,
        sort: Annotated[
            Annotated[EventSort, strawberry.lazy("deskql.schema.activities.inputs")] | None,
            strawberry.argument(description="Order (default: start, earliest first)."),
        ] = None,
        first: _First = None,
        after: _After = None,
    ) -> Connection[_Event]:
        from deskql.resolvers import activities

        return await activities.event_list(
            info, filter=filter, sort=sort, first=first, after=after, account_id=self.pk
        )

    @strawberry.field(description="Calls linked to the account (ORG-5: your departments').")
    async def calls(
        self,
        info: strawberry.Info,
        filter: Annotated[
            Annotated[CallFilter, strawberry.lazy("deskql.schema.activities.inputs")] | None,
            strawberry.argument(description="Only calls matching these criteria."),
        ] = None,
        sort: Annotated[
            Annotated[CallSort, strawberry.lazy("deskql.schema.activities.inputs")] | None,
            strawberry.argument(description="Order (default: start, latest first)."),
        ] = None,
        first: _First = None,
        after: _After = None,
    ) -> Connection[_Call]:
        from deskql.resolvers import activities

        return await activities.call_list(
            info, filter=filter, sort=sort, first=first, after=after, account_id=self.pk
        )


@strawberry.type(description="An end user who raises tickets (CUS-1).")
class Contact(Node):
    first_name: str = strawberry.field(description="First name.")
    last_name: str = strawberry.field(description="Last name.")
    name: str = strawberry.field(description="Full name.")
    email: str | None = strawberry.field(description="Primary email (unique).")
    secondary_email: str = strawberry.field(description="Secondary email.")
    phone: str = strawberry.field(description="Phone.")
    mobile: str = strawberry.field(description="Mobile phone.")
    description: str = strawberry.field(description="Free text about the contact.")
    created_at: datetime = strawberry.field(description="When the contact was added.")
    updated_at: datetime = strawberry.field(description="When the contact last changed.")
    pk: strawberry.Private[int]
    account_pk: strawberry.Private[int | None]
    owner_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.Contact) -> Contact:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("Contact", row.id)),
            first_name=row.first_name,
            last_name=row.last_name,
            name=row.name,
            email=row.email,
            secondary_email=row.secondary_email,
            phone=row.phone,
            mobile=row.mobile,
            description=row.description,
            created_at=row.created_at,
            updated_at=row.updated_at,
            pk=row.id,
            account_pk=row.account_id,  # type: ignore[attr-defined]
            owner_pk=row.owner_id,  # type: ignore[attr-defined]
        )

    @strawberry.field(description="The account the contact belongs to.")
    def account(self, info: strawberry.Info) -> Account | None:
        if self.account_pk is None:
            return None
        return peek(info.context.loaders.account, self.account_pk)

    @strawberry.field(
        description="The contact's help-center sign-in (null: never invited nor signed up)."
    )
    async def help_center_access(self, info: strawberry.Info) -> _HelpCenterAccess | None:
        from deskql.resolvers import helpcenter_admin

        return await helpcenter_admin.contact_access(info, self.pk)

    @strawberry.field(description="The agent who owns the contact.")
    async def owner(self, info: strawberry.Info) -> Agent | None:
        return (
            None if self.owner_pk is None else await info.context.loaders.agent.load(self.owner_pk)
        )

    @strawberry.field(description="The contact's tickets you may see, newest first.")
    async def tickets(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Ticket]:
        return _page(
            info, await info.context.loaders.tickets_by_contact.load(self.pk), first, after
        )

    @strawberry.field(
        description="The contact's tickets you may see, newest created first, a page at a time "
        "(TIC-5): is the contact new or returning, and how were earlier tickets solved. No "
        "rating is recorded yet, so there is none to show."
    )
    async def timeline(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Ticket]:
        from deskql.resolvers import views

        return await views.timeline(info, self.pk, first=first, after=after)

    @strawberry.field(description="Products the contact uses.")
    async def products(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Product]:
        loaders = info.context.loaders
        ids = _slice_ids(info, await loaders.product_ids_by_contact.load(self.pk), first, after)
        return ids.page(await loaders.product.load_many(ids.items))

    @strawberry.field(description="Agents following the contact (those you may see).")
    async def followers(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Agent]:
        from deskql.resolvers import realtime

        return await realtime.followers(info, first=first, after=after, contact_id=self.pk)

    @strawberry.field(
        description="Ticket counts of the contact (CUS-4); a page of contacts costs one SQL "
        "statement in all."
    )
    def overview(self, info: strawberry.Info) -> _CustomerOverview:
        from deskql.resolvers import customer_overview

        return customer_overview.overview(info, kind="contact", pk=self.pk)

    @strawberry.field(
        description="Files attached to the contact's tickets you may see (their messages and "
        "comments), newest first (CUS-3)."
    )
    async def attachments(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Attachment]:
        from deskql.resolvers import customer_overview

        return await customer_overview.attachments(
            info, kind="contact", pk=self.pk, first=first, after=after
        )

    @strawberry.field(
        description="The contact's record in the CRM as last pulled (CUS-6); null: not mapped."
    )
    async def crm(self, info: strawberry.Info) -> _CrmRecord | None:
        from deskql.resolvers import crm

        return await crm.record(info, kind="contact", pk=self.pk)

    @strawberry.field(
        description="Activity on the contact and its tickets you may see, newest first (CUS-4)."
    )
    async def activities(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Activity]:
        from deskql.resolvers import realtime

        return await realtime.activities(info, first=first, after=after, contact_id=self.pk)

    @strawberry.field(description="Comments on the contact, oldest first (COL-1).")
    async def comments(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Comment]:
        from deskql.resolvers import activities

        return await activities.record_comments(info, "Contact", self.pk, first=first, after=after)

    @strawberry.field(description="Tasks linked to the contact (ORG-5: your departments').")
    async def tasks(
        self,
        info: strawberry.Info,
        filter: Annotated[
            Annotated[TaskFilter, strawberry.lazy("deskql.schema.activities.inputs")] | None,
            strawberry.argument(description="Only tasks matching these criteria."),
        ] = None,
        sort: Annotated[
            Annotated[TaskSort, strawberry.lazy("deskql.schema.activities.inputs")] | None,
            strawberry.argument(description="Order (default: due time, earliest first)."),
        ] = None,
        first: _First = None,
        after: _After = None,
    ) -> Connection[_Task]:
        from deskql.resolvers import activities

        return await activities.task_list(
            info, filter=filter, sort=sort, first=first, after=after, contact_id=self.pk
        )

    @strawberry.field(description="Events linked to the contact (ORG-5: your departments').")
    async def events(
        self,
        info: strawberry.Info,
        filter: Annotated[
            Annotated[EventFilter, strawberry.lazy("deskql.schema.activities.inputs")] | None,
            strawberry.argument(description="Only events matching these criteria."),
        ] = None,
        sort: Annotated[
            Annotated[EventSort, strawberry.lazy("deskql.schema.activities.inputs")] | None,
            strawberry.argument(description="Order (default: start, earliest first)."),
        ] = None,
        first: _First = None,
        after: _After = None,
    ) -> Connection[_Event]:
        from deskql.resolvers import activities

        return await activities.event_list(
            info, filter=filter, sort=sort, first=first, after=after, contact_id=self.pk
        )

    @strawberry.field(description="Calls linked to the contact (ORG-5: your departments').")
    async def calls(
        self,
        info: strawberry.Info,
        filter: Annotated[
            Annotated[CallFilter, strawberry.lazy("deskql.schema.activities.inputs")] | None,
            strawberry.argument(description="Only calls matching these criteria."),
        ] = None,
        sort: Annotated[
            Annotated[CallSort, strawberry.lazy("deskql.schema.activities.inputs")] | None,
            strawberry.argument(description="Order (default: start, latest first)."),
        ] = None,
        first: _First = None,
        after: _After = None,
    ) -> Connection[_Call]:
        from deskql.resolvers import activities

        return await activities.call_list(
            info, filter=filter, sort=sort, first=first, after=after, contact_id=self.pk
        )


@strawberry.type(description="A file attached to a ticket; its body is stored by sha256.")
class Attachment(Node):
    filename: str = strawberry.field(description="File name as uploaded or received.")
    content_type: str = strawberry.field(description="MIME type.")
    size: int = strawberry.field(description="Size in bytes.")
    sha256: str = strawberry.field(description="SHA-256 of the content, hex.")
    url: str = strawberry.field(description="Path to download it (send your token).")
    created_at: datetime = strawberry.field(description="When it was stored.")

    @classmethod
    def from_row(cls, row: models.Attachment) -> Attachment:
        """Build from a database row."""
        gid = to_global_id("Attachment", row.id)
        return cls(
            id=strawberry.ID(gid),
            filename=row.filename,
            content_type=row.content_type,
            size=row.size,
            sha256=row.sha256,
            url=f"/attachments/{gid}",
            created_at=row.created_at,
        )


@strawberry.type(description="One message of a ticket's conversation (TIC-3).")
class Thread(Node):
    direction: ThreadDirection = strawberry.field(description="INCOMING or OUTGOING.")
    channel: Channel = strawberry.field(description="Channel the message used.")
    is_public: bool = strawberry.field(description="False: hidden from the contact.")
    from_address: str = strawberry.field(description="Sender.")
    to: str = strawberry.field(description="Recipients (To).")
    cc: str = strawberry.field(description="Recipients (Cc).")
    subject: str = strawberry.field(description="Subject.")
    body_text: str = strawberry.field(description="Plain-text body.")
    message_id: str | None = strawberry.field(description="RFC 5322 Message-ID.")
    created_at: datetime = strawberry.field(description="When it was received or sent.")
    row_body_html: strawberry.Private[str] = ""

    @strawberry.field(
        description="HTML body, when the message had one, sanitized (nh3: no scripts, event "
        "handlers, styles or non-http(s)/mailto links) so it is safe to show; the raw source "
        "is in `originalContent`."
    )
    def body_html(self) -> str:
        return sanitize_html(self.row_body_html) if self.row_body_html else ""

    @classmethod
    def from_row(cls, row: models.Thread) -> Thread:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("Thread", row.id)),
            direction=row.direction,
            channel=row.channel,
            is_public=row.is_public,
            from_address=row.from_address,
            to=row.to_addresses,
            cc=row.cc_addresses,
            subject=row.subject,
            body_text=row.body_text,
            row_body_html=row.body_html,
            message_id=row.message_id,
            created_at=row.created_at,
        )

    @strawberry.field(
        description="The raw source of the email this thread came from, exactly as received "
        "(TIC-12); null for threads that did not arrive by email."
    )
    async def original_content(self, info: strawberry.Info) -> str | None:
        from deskql.resolvers import email

        return await email.thread_original_content(info, self.id)

    @strawberry.field(
        description="Delivery of the email an OUTGOING thread sent: status, attempts, last "
        "error (EM-6..EM-10); null for other threads."
    )
    async def delivery_status(
        self, info: strawberry.Info
    ) -> Annotated[OutgoingEmail, strawberry.lazy("deskql.schema.outbound")] | None:
        if self.direction is not ThreadDirection.OUTGOING:
            return None
        from deskql.resolvers import outbound

        return await outbound.outgoing_email(info, thread_id=self.id)


@strawberry.type(
    description="An agent's note on a record (COL-1): a ticket (public or private, TIC-3), an "
    "article, or another record that takes comments. Mentions in it use "
    "`@[Display name](<Agent global id>)`."
)
class Comment(Node):
    body: str = strawberry.field(description="The comment text (Markdown, as written).")
    is_public: bool = strawberry.field(
        description="True: the contact sees it too (ticket comments); false for other records."
    )
    created_at: datetime = strawberry.field(description="When it was written.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    subject_type: str = strawberry.field(
        description="Type of the record it is on: `Ticket`, `Article`, ..."
    )
    author_pk: strawberry.Private[int | None]
    ticket_pk: strawberry.Private[int | None]
    subject_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Comment) -> Comment:
        """Build from a database row."""
        ticket_pk = row.ticket_id  # type: ignore[attr-defined]
        return cls(
            id=strawberry.ID(to_global_id("Comment", row.id)),
            body=row.body,
            is_public=row.is_public,
            created_at=row.created_at,
            updated_at=row.updated_at,
            subject_type=row.subject_type,
            author_pk=row.author_id,  # type: ignore[attr-defined]
            ticket_pk=ticket_pk,
            subject_pk=row.subject_id if row.subject_id is not None else ticket_pk,
        )

    @strawberry.field(description="Global id of the record it is on (fetch it with `node`).")
    def subject_id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id(self.subject_type, self.subject_pk))

    @strawberry.field(description="The agent who wrote it (null once the agent is deleted).")
    async def author(self, info: strawberry.Info) -> Agent | None:
        if self.author_pk is None:
            return None
        return await info.context.loaders.agent.load(self.author_pk)

    @strawberry.field(description="The ticket the comment is on; null on other records.")
    async def ticket(self, info: strawberry.Info) -> Ticket | None:
        if self.ticket_pk is None:
            return None
        return await info.context.loaders.ticket.load(self.ticket_pk)


ConversationItem = Annotated[
    Thread | Comment,
    strawberry.union(
        "ConversationItem",
        description="A message (Thread) or a comment of a ticket's conversation; both carry "
        "`isPublic` (false: hidden from the contact).",
    ),
]


@strawberry.type(description="A state change: who did what, when, with old and new values.")
class Activity(Node):
    kind: str = strawberry.field(description="What happened, e.g. `ticket.updated`.")
    subject_type: str = strawberry.field(description="Type of the record it concerns.")
    changes: JSON = strawberry.field(
        description='Changed fields as {"field": {"old": ..., "new": ...}}, or a summary; '
        "ids in it (e.g. `department_id`, `assignee_agent_id`, `threadId`) are global ids."
    )
    created_at: datetime = strawberry.field(description="When it happened.")
    actor_pk: strawberry.Private[int | None]
    subject_pk: strawberry.Private[int]
    ticket_pk: strawberry.Private[int | None] = None
    pk: strawberry.Private[int] = 0

    @classmethod
    def from_row(cls, row: models.Activity) -> Activity:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("Activity", row.id)),
            kind=row.kind,
            subject_type=row.subject_type,
            changes=public_changes(row.changes),
            created_at=row.created_at,
            actor_pk=row.actor_id,  # type: ignore[attr-defined]
            subject_pk=row.subject_id,
            ticket_pk=row.ticket_id,
            pk=row.id,
        )

    @strawberry.field(
        description="The status of the activity's ticket right after it (the customer's "
        "history, CUS-4); null when it concerns no ticket."
    )
    async def ticket_status(self, info: strawberry.Info) -> TicketStatus | None:
        if self.ticket_pk is None:
            return None
        from deskql.resolvers import customer_overview

        return await customer_overview.ticket_status(
            info, activity_pk=self.pk, ticket_pk=self.ticket_pk
        )

    @strawberry.field(description="Global id of the record it concerns.")
    def subject_id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id(self.subject_type, self.subject_pk))

    @strawberry.field(description="The agent who acted; null for the system or a customer.")
    async def actor(self, info: strawberry.Info) -> Agent | None:
        if self.actor_pk is None:
            return None
        return await info.context.loaders.agent.load(self.actor_pk)


@strawberry.type(description="A support request (TIC-1).")
class Ticket(Node):
    number: int = strawberry.field(description="Sequential ticket number, unique.")
    subject: str = strawberry.field(description="Subject line.")
    description: str = strawberry.field(description="Description of the request.")
    status: TicketStatus = strawberry.field(description="Lifecycle state.")
    priority: TicketPriority = strawberry.field(description="Priority.")
    channel: Channel = strawberry.field(description="How the ticket arrived.")
    is_spam: bool = strawberry.field(description="True when marked as spam (TIC-7).")
    version: int = strawberry.field(
        description="Increases with every change; pass it to ticketUpdate (optimistic locking)."
    )
    due_at: datetime | None = strawberry.field(description="When it should be resolved.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    closed_at: datetime | None = strawberry.field(description="When it was closed.")
    is_overdue: bool = strawberry.field(description="Not closed and past its due date.")
    pk: strawberry.Private[int]
    department_pk: strawberry.Private[int]
    contact_pk: strawberry.Private[int | None]
    account_pk: strawberry.Private[int | None]
    product_pk: strawberry.Private[int | None]
    assignee_agent_pk: strawberry.Private[int | None]
    assignee_team_pk: strawberry.Private[int | None]
    merged_into_pk: strawberry.Private[int | None] = None
    split_from_pk: strawberry.Private[int | None] = None

    @classmethod
    def from_row(cls, row: models.Ticket) -> Ticket:
        """Build from a database row."""
        due = row.due_at
        return cls(
            id=strawberry.ID(to_global_id("Ticket", row.id)),
            number=row.number,
            subject=row.subject,
            description=row.description,
            status=row.status,
            priority=row.priority,
            channel=row.channel,
            is_spam=row.is_spam,
            version=row.version,
            due_at=due,
            created_at=row.created_at,
            updated_at=row.updated_at,
            closed_at=row.closed_at,
            is_overdue=bool(
                due is not None
                and row.status is not TicketStatus.CLOSED
                and due < datetime.now(UTC)
            ),
            pk=row.id,
            department_pk=row.department_id,  # type: ignore[attr-defined]
            contact_pk=row.contact_id,  # type: ignore[attr-defined]
            account_pk=row.account_id,  # type: ignore[attr-defined]
            product_pk=row.product_id,  # type: ignore[attr-defined]
            assignee_agent_pk=row.assignee_agent_id,  # type: ignore[attr-defined]
            assignee_team_pk=row.assignee_team_id,  # type: ignore[attr-defined]
            merged_into_pk=row.merged_into_id,  # type: ignore[attr-defined]
            split_from_pk=row.split_from_id,  # type: ignore[attr-defined]
        )

    @strawberry.field(description="The department the ticket belongs to.")
    def department(self, info: strawberry.Info) -> Department:
        return peek(info.context.loaders.department, self.department_pk)

    @strawberry.field(
        description="A printable page of the ticket with its whole conversation (TIC-11): a "
        "signed URL a browser can open once, for a few minutes (DESKQL_SIGNED_URL_SECONDS)."
    )
    def print_url(self, info: strawberry.Info) -> str:
        from deskql.resolvers import exports

        return exports.print_url(info, ticket_id=self.pk)

    @strawberry.field(description="The contact who raised the ticket.")
    def contact(self, info: strawberry.Info) -> Contact | None:
        if self.contact_pk is None:
            return None
        return peek(info.context.loaders.contact, self.contact_pk)

    @strawberry.field(description="The contact's account.")
    def account(self, info: strawberry.Info) -> Account | None:
        if self.account_pk is None:
            return None
        return peek(info.context.loaders.account, self.account_pk)

    @strawberry.field(description="The product the ticket is about.")
    def product(self, info: strawberry.Info) -> Product | None:
        if self.product_pk is None:
            return None
        return peek(info.context.loaders.product, self.product_pk)

    @strawberry.field(description="The agent or team the ticket is assigned to; null: unassigned.")
    def assignee(self, info: strawberry.Info) -> Assignee | None:
        loaders = info.context.loaders
        if self.assignee_agent_pk is not None:
            return peek(loaders.agent, self.assignee_agent_pk)
        if self.assignee_team_pk is not None:
            return peek(loaders.team, self.assignee_team_pk)
        return None

    @strawberry.field(description="Tag names, alphabetical (TIC-6).")
    def tags(self, info: strawberry.Info) -> list[str]:
        return peek(info.context.loaders.tags_by_ticket, self.pk)

    @strawberry.field(description="Comments, oldest first.")
    async def comments(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Comment]:
        return _page(
            info, await info.context.loaders.comments_by_ticket.load(self.pk), first, after
        )

    @strawberry.field(description="Conversation messages, oldest first (TIC-3).")
    async def threads(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Thread]:
        return _page(info, await info.context.loaders.threads_by_ticket.load(self.pk), first, after)

    @strawberry.field(
        description="Messages and comments interleaved in time, oldest first (TIC-4), public "
        "and private alike, each marked by `isPublic`. `threads` is the messages alone."
    )
    async def conversation(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[ConversationItem]:
        from deskql.resolvers import views

        return await views.conversation(info, self.pk, first=first, after=after)

    @strawberry.field(description="Attachments of the ticket, its threads and comments.")
    async def attachments(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Attachment]:
        return _page(
            info, await info.context.loaders.attachments_by_ticket.load(self.pk), first, after
        )

    @strawberry.field(
        description="The contact's rating of the closed ticket from the help center (TIC-5); "
        "null: not rated."
    )
    async def rating(self, info: strawberry.Info) -> _TicketRating | None:
        from deskql.resolvers import helpcenter_admin

        return await helpcenter_admin.ticket_rating(info, self.pk)

    @strawberry.field(description="History of the ticket, oldest first.")
    async def activities(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Activity]:
        return _page(
            info, await info.context.loaders.activities_by_ticket.load(self.pk), first, after
        )

    @strawberry.field(description="Tasks linked to the ticket (ORG-5: your departments').")
    async def tasks(
        self,
        info: strawberry.Info,
        filter: Annotated[
            Annotated[TaskFilter, strawberry.lazy("deskql.schema.activities.inputs")] | None,
            strawberry.argument(description="Only tasks matching these criteria."),
        ] = None,
        sort: Annotated[
            Annotated[TaskSort, strawberry.lazy("deskql.schema.activities.inputs")] | None,
            strawberry.argument(description="Order (default: due time, earliest first)."),
        ] = None,
        first: _First = None,
        after: _After = None,
    ) -> Connection[_Task]:
        from deskql.resolvers import activities

        return await activities.task_list(
            info, filter=filter, sort=sort, first=first, after=after, ticket_id=self.pk
        )

    @strawberry.field(description="Events linked to the ticket (ORG-5: your departments').")
    async def events(
        self,
        info: strawberry.Info,
        filter: Annotated[
            Annotated[EventFilter, strawberry.lazy("deskql.schema.activities.inputs")] | None,
            strawberry.argument(description="Only events matching these criteria."),
        ] = None,
        sort: Annotated[
            Annotated[EventSort, strawberry.lazy("deskql.schema.activities.inputs")] | None,
            strawberry.argument(description="Order (default: start, earliest first)."),
        ] = None,
        first: _First = None,
        after: _After = None,
    ) -> Connection[_Event]:
        from deskql.resolvers import activities

        return await activities.event_list(
            info, filter=filter, sort=sort, first=first, after=after, ticket_id=self.pk
        )

    @strawberry.field(description="Calls linked to the ticket (ORG-5: your departments').")
    async def calls(
        self,
        info: strawberry.Info,
        filter: Annotated[
            Annotated[CallFilter, strawberry.lazy("deskql.schema.activities.inputs")] | None,
            strawberry.argument(description="Only calls matching these criteria."),
        ] = None,
        sort: Annotated[
            Annotated[CallSort, strawberry.lazy("deskql.schema.activities.inputs")] | None,
            strawberry.argument(description="Order (default: start, latest first)."),
        ] = None,
        first: _First = None,
        after: _After = None,
    ) -> Connection[_Call]:
        from deskql.resolvers import activities

        return await activities.call_list(
            info, filter=filter, sort=sort, first=first, after=after, ticket_id=self.pk
        )

    @strawberry.field(description="Agents following the ticket (those you may see).")
    async def followers(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Agent]:
        from deskql.resolvers import realtime

        return await realtime.followers(info, first=first, after=after, ticket_id=self.pk)

    # Merge and split links (TIC-5, TIC-9): resolvers/merge_split.py.
    @strawberry.field(
        description="The ticket this one was merged into (TIC-5); null unless merged. A merged "
        "ticket is CLOSED and its replies land on this one."
    )
    async def merged_into(self, info: strawberry.Info) -> Ticket | None:
        from deskql.resolvers import merge_split

        return await merge_split.linked_ticket(info, self.merged_into_pk)

    @strawberry.field(description="Tickets merged into this one, oldest first (TIC-5).")
    async def merged_tickets(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Ticket]:
        return _page(info, await info.context.loaders.merged_by_ticket.load(self.pk), first, after)

    @strawberry.field(description="The ticket this one was split off (TIC-9); null if none.")
    async def split_from(self, info: strawberry.Info) -> Ticket | None:
        from deskql.resolvers import merge_split

        return await merge_split.linked_ticket(info, self.split_from_pk)

    @strawberry.field(description="Tickets split off this one, oldest first (TIC-9).")
    async def split_tickets(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Ticket]:
        return _page(info, await info.context.loaders.split_by_ticket.load(self.pk), first, after)

    @strawberry.field(
        description="History of the ticket as a connection, newest first (`activities` is the "
        "whole list, oldest first)."
    )
    async def activity_history(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Activity]:
        from deskql.resolvers import realtime

        return await realtime.activities(info, first=first, after=after, ticket_id=self.pk)

    @strawberry.field(description="Time logged on the ticket and its tasks, oldest first (TIM-2).")
    async def time_entries(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[_TimeEntry]:
        from deskql.resolvers import time_tracking

        return await time_tracking.ticket_time_entries(info, self.pk, first=first, after=after)

    @strawberry.field(description="Totals of the time logged on the ticket and its tasks.")
    async def time_summary(self, info: strawberry.Info) -> _TimeSummary:
        from deskql.resolvers import time_tracking

        return await time_tracking.ticket_time_summary(info, self)


@strawberry.type(description="An access token's metadata; the secret is shown only once.")
class ApiToken(Node):
    name: str = strawberry.field(description="What the token is for.")
    kind: TokenKind = strawberry.field(description="SESSION or API.")
    prefix: str = strawberry.field(description="First characters, to recognise it.")
    created_at: datetime = strawberry.field(description="When it was issued.")
    expires_at: datetime | None = strawberry.field(description="When it stops working.")
    revoked_at: datetime | None = strawberry.field(description="When it was revoked.")
    agent_pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.ApiToken) -> ApiToken:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("ApiToken", row.id)),
            name=row.name,
            kind=row.kind,
            prefix=row.prefix,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            agent_pk=row.agent_id,  # type: ignore[attr-defined]
        )

    @strawberry.field(description="The agent the token acts as.")
    async def agent(self, info: strawberry.Info) -> Agent | None:
        return await info.context.loaders.agent.load(self.agent_pk)


def convert(row: Any) -> Any:
    """The GraphQL object for any supported database row."""
    return CONVERTERS[type(row)](row)


CONVERTERS: dict[type, Any] = {
    models.Department: Department.from_row,
    models.Agent: Agent.from_row,
    models.Team: Team.from_row,
    models.Product: Product.from_row,
    models.Account: Account.from_row,
    models.Contact: Contact.from_row,
    models.Attachment: Attachment.from_row,
    models.Thread: Thread.from_row,
    models.Comment: Comment.from_row,
    models.Activity: Activity.from_row,
    models.Ticket: Ticket.from_row,
    models.ApiToken: ApiToken.from_row,
}
