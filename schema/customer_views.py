"""Contact and account list views (CUS-7): standard and saved views, saving them."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from deskql.resolvers import customer_views as r
from deskql.schema.connections import Connection
from deskql.schema.errors import MutationError
from deskql.schema.permissions import IsAuthenticated
from deskql.schema.tickets import SortDirection
from deskql.schema.types import Agent, Node
from deskql.services.customer_views import StandardCustomerView

strawberry.enum(
    StandardCustomerView,
    name="StandardCustomerView",
    description="The built-in contact and account views. ALL: every one; ADDED_TODAY: added "
    "since midnight UTC; MAPPED_TO_CRM: mapped to a CRM record; MINE: owned by you; "
    "WITH_OPEN_TICKETS: with a ticket you may see that is not closed (spam left out).",
)


@strawberry.enum(description="What a customer view lists.")
class CustomerViewKind(Enum):
    CONTACT = "CONTACT"
    ACCOUNT = "ACCOUNT"


@strawberry.type(description="The sort of a customer view.")
class CustomerViewSort:
    field: str = strawberry.field(description="NAME, CREATED_AT, UPDATED_AT or EMAIL.")
    direction: SortDirection = strawberry.field(description="ASC or DESC.")


@strawberry.type(
    description="A contact or account list view (CUS-7): a standard one (id "
    "`standard:CONTACT:ALL` etc.) or one saved by an agent (a global id). Pass its id to "
    "`contacts(viewId:)` / `accounts(viewId:)` or to `exportCreate`."
)
class CustomerView(Node):
    kind: CustomerViewKind = strawberry.field(description="CONTACT or ACCOUNT.")
    name: str = strawberry.field(description="Display name.")
    standard: StandardCustomerView | None = strawberry.field(
        description="Which standard view this is; null for a saved view."
    )
    is_shared: bool = strawberry.field(
        description="Shared by an administrator with every agent (standard views: true)."
    )
    criteria: JSON = strawberry.field(
        description="The saved criteria (ids as global ids); {} for standard views."
    )
    sort: CustomerViewSort = strawberry.field(description="How the view sorts.")
    owner_pk: strawberry.Private[int | None] = None

    @strawberry.field(description="The agent who saved it; null for standard views.")
    async def owner(self, info: strawberry.Info) -> Agent | None:
        if self.owner_pk is None:
            return None
        return await info.context.loaders.agent.load(self.owner_pk)


@strawberry.input(description="Advanced contact criteria of a saved view; each given must hold.")
class ContactViewCriteria:
    text: str | None = strawberry.field(
        default=None, description="Words each in the first name, last name or email."
    )
    email: str | None = strawberry.field(default=None, description="Exactly this email.")
    account_id: strawberry.ID | None = strawberry.field(
        default=None, description="Of this account."
    )
    owner_id: strawberry.ID | None = strawberry.field(default=None, description="Owned by.")
    created_after: datetime | None = strawberry.field(
        default=None, description="Added at or after."
    )
    created_before: datetime | None = strawberry.field(default=None, description="Added before.")
    mapped_to_crm: bool | None = strawberry.field(
        default=None, description="True: mapped to a CRM record; false: not."
    )
    has_open_tickets: bool | None = strawberry.field(
        default=None, description="True: with a ticket you may see that is not closed."
    )


@strawberry.input(description="Advanced account criteria of a saved view; each given must hold.")
class AccountViewCriteria:
    text: str | None = strawberry.field(default=None, description="Words each in the name.")
    owner_id: strawberry.ID | None = strawberry.field(default=None, description="Owned by.")
    created_after: datetime | None = strawberry.field(
        default=None, description="Added at or after."
    )
    created_before: datetime | None = strawberry.field(default=None, description="Added before.")
    mapped_to_crm: bool | None = strawberry.field(
        default=None, description="True: mapped to a CRM record; false: not."
    )
    has_open_tickets: bool | None = strawberry.field(
        default=None, description="True: with a ticket you may see that is not closed."
    )


@strawberry.input(description="A contact or account view to save; private unless shared.")
class CustomerViewCreateInput:
    kind: CustomerViewKind = strawberry.field(description="CONTACT or ACCOUNT.")
    name: str = strawberry.field(description="Display name, 1 to 120 characters.")
    contact_criteria: ContactViewCriteria | None = strawberry.field(
        default=None, description="For a CONTACT view: its criteria."
    )
    account_criteria: AccountViewCriteria | None = strawberry.field(
        default=None, description="For an ACCOUNT view: its criteria."
    )
    sort_field: str = strawberry.field(
        default="NAME",
        description="NAME, CREATED_AT (both kinds), UPDATED_AT or EMAIL (contacts).",
    )
    sort_direction: SortDirection = strawberry.field(
        default=SortDirection.ASC, description="ASC or DESC."
    )
    is_shared: bool = strawberry.field(
        default=False, description="Share with every agent (administrators only)."
    )


@strawberry.input(description="Changes to a saved view (its owner or an administrator).")
class CustomerViewUpdateInput:
    id: strawberry.ID = strawberry.field(description="The saved view.")
    name: str | None = strawberry.field(default=None, description="New name.")
    contact_criteria: ContactViewCriteria | None = strawberry.field(
        default=None, description="New criteria of a CONTACT view."
    )
    account_criteria: AccountViewCriteria | None = strawberry.field(
        default=None, description="New criteria of an ACCOUNT view."
    )
    is_shared: bool | None = strawberry.field(
        default=None, description="Share or unshare (administrators only)."
    )


@strawberry.input(description="The saved view to delete.")
class CustomerViewDeleteInput:
    id: strawberry.ID = strawberry.field(description="The saved view.")


@strawberry.type(description="Result of a customer view mutation.")
class CustomerViewPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    view: CustomerView | None = strawberry.field(
        default=None, description="The view as changed (as it was, for a delete)."
    )


_First = Annotated[int | None, strawberry.argument(description="Page size, 0 to 100 (default 20).")]
_After = Annotated[
    str | None, strawberry.argument(description="Cursor of the item after which the page starts.")
]


@strawberry.type
class CustomerViewQueries:
    @strawberry.field(
        description="The standard views of contacts or accounts.",
        permission_classes=[IsAuthenticated],
    )
    def standard_customer_views(
        self,
        info: strawberry.Info,
        kind: Annotated[CustomerViewKind, strawberry.argument(description="CONTACT or ACCOUNT.")],
    ) -> list[CustomerView]:
        return r.standard_views(info, kind=kind.value)

    @strawberry.field(
        description="The saved contact or account views you may use (yours and the shared "
        "ones), oldest first, a page at a time.",
        permission_classes=[IsAuthenticated],
    )
    async def customer_views(
        self,
        info: strawberry.Info,
        kind: Annotated[CustomerViewKind, strawberry.argument(description="CONTACT or ACCOUNT.")],
        first: _First = None,
        after: _After = None,
    ) -> Connection[CustomerView]:
        return await r.saved_views(info, kind=kind.value, first=first, after=after)


@strawberry.type
class CustomerViewMutations:
    @strawberry.mutation(
        description="Save a contact or account view (CUS-7).",
        permission_classes=[IsAuthenticated],
    )
    async def customer_view_create(
        self, info: strawberry.Info, input: CustomerViewCreateInput
    ) -> CustomerViewPayload:
        return await r.create(info, input)

    @strawberry.mutation(
        description="Rename, re-criteria, share or unshare a saved view.",
        permission_classes=[IsAuthenticated],
    )
    async def customer_view_update(
        self, info: strawberry.Info, input: CustomerViewUpdateInput
    ) -> CustomerViewPayload:
        return await r.update(info, input)

    @strawberry.mutation(description="Delete a saved view.", permission_classes=[IsAuthenticated])
    async def customer_view_delete(
        self, info: strawberry.Info, input: CustomerViewDeleteInput
    ) -> CustomerViewPayload:
        return await r.delete(info, input)
