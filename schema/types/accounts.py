"""Products and accounts (customer organisations)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from deskql import models
from deskql.schema.connections import Connection
from deskql.schema.ids import to_global_id
from deskql.schema.types.common import (
    Node,
    _After,
    _Call,
    _CrmRecord,
    _CustomerOverview,
    _Event,
    _First,
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


# ruff: noqa: E402
# The types this module names only in annotations and function bodies (resolved when the schema
# is built or a field is resolved), imported last so that schema.types' modules can name one
# another.
from deskql.schema.types.contacts import Contact
from deskql.schema.types.conversation import Activity, Attachment, Comment
from deskql.schema.types.org import Agent
from deskql.schema.types.tickets import Ticket
