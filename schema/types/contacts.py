"""Contacts: the customers who write in."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from deskql import models
from deskql.schema.connections import Connection
from deskql.schema.ids import to_global_id
from deskql.schema.lookahead import peek
from deskql.schema.types.common import (
    Node,
    _After,
    _Call,
    _CrmRecord,
    _CustomerOverview,
    _Event,
    _First,
    _HelpCenterAccess,
    _page,
    _slice_ids,
    _Task,
)

if TYPE_CHECKING:
    from deskql.schema.activities.inputs import (
        CallFilter,
        CallSort,
        EventFilter,
        EventSort,
        TaskFilter,
        TaskSort,
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


# ruff: noqa: E402
# The types this module names only in annotations and function bodies (resolved when the schema
# is built or a field is resolved), imported last so that schema.types' modules can name one
# another.
from deskql.schema.types.accounts import Account, Product
from deskql.schema.types.conversation import Activity, Attachment, Comment
from deskql.schema.types.org import Agent
from deskql.schema.types.tickets import Ticket
