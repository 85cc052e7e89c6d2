"""CustomerQueries: contacts, accounts and products, with their sorts and filters."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from deskql.resolvers import customers as r
from deskql.schema.connections import Connection
from deskql.schema.permissions import IsAuthenticated
from deskql.schema.tickets import SortDirection
from deskql.schema.types import Account, Contact, Product

FirstArg = Annotated[
    int | None, strawberry.argument(description="Page size, 0 to 100 (default 20).")
]


AfterArg = Annotated[
    str | None, strawberry.argument(description="Cursor of the item after which the page starts.")
]


# ---------------------------------------------------------------------------------------------
# Filters and sorts
# ---------------------------------------------------------------------------------------------


@strawberry.enum(description="Fields contacts can be sorted by.")
class ContactSortField(Enum):
    NAME = "NAME"
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"
    EMAIL = "EMAIL"


@strawberry.input(
    description="How to sort contacts; NAME is last name then first name, case-insensitive. "
    "Ties are broken by id in the same direction."
)
class ContactSort:
    field: ContactSortField = strawberry.field(
        default=ContactSortField.NAME, description="The field to sort by."
    )
    direction: SortDirection = strawberry.field(
        default=SortDirection.ASC, description="ASC or DESC."
    )


@strawberry.input(description="Contact criteria; every criterion given must hold.")
class ContactFilter:
    text: str | None = strawberry.field(
        default=None,
        description="Words that must each appear in the first name, last name or email "
        "(case-insensitive).",
    )
    email: str | None = strawberry.field(
        default=None, description="Exactly this primary email (case-insensitive)."
    )
    account_id: strawberry.ID | None = strawberry.field(
        default=None, description="Belonging to this account."
    )
    created_after: datetime | None = strawberry.field(
        default=None, description="Created at or after this time."
    )
    created_before: datetime | None = strawberry.field(
        default=None, description="Created before this time."
    )


@strawberry.enum(description="Fields accounts can be sorted by.")
class AccountSortField(Enum):
    NAME = "NAME"
    CREATED_AT = "CREATED_AT"


@strawberry.input(description="How to sort accounts; ties are broken by id.")
class AccountSort:
    field: AccountSortField = strawberry.field(
        default=AccountSortField.NAME, description="The field to sort by."
    )
    direction: SortDirection = strawberry.field(
        default=SortDirection.ASC, description="ASC or DESC."
    )


@strawberry.input(description="Account criteria.")
class AccountFilter:
    text: str | None = strawberry.field(
        default=None, description="Words that must each appear in the name (case-insensitive)."
    )


@strawberry.enum(description="Fields products can be sorted by.")
class ProductSortField(Enum):
    NAME = "NAME"


@strawberry.input(description="How to sort products; ties are broken by id.")
class ProductSort:
    field: ProductSortField = strawberry.field(
        default=ProductSortField.NAME, description="The field to sort by."
    )
    direction: SortDirection = strawberry.field(
        default=SortDirection.ASC, description="ASC or DESC."
    )


@strawberry.input(description="Product criteria.")
class ProductFilter:
    text: str | None = strawberry.field(
        default=None,
        description="Words that must each appear in the name or code (case-insensitive).",
    )


# ---------------------------------------------------------------------------------------------
# Fields
# ---------------------------------------------------------------------------------------------


@strawberry.type
class CustomerQueries:
    @strawberry.field(
        description="One contact by global id; null if there is none.",
        permission_classes=[IsAuthenticated],
    )
    async def contact(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id.")],
    ) -> Contact | None:
        return await r.contact(info, id=id)

    @strawberry.field(
        description="Contacts, filtered and sorted, a page at a time.",
        permission_classes=[IsAuthenticated],
    )
    async def contacts(
        self,
        info: strawberry.Info,
        filter: Annotated[
            ContactFilter | None, strawberry.argument(description="Criteria.")
        ] = None,
        sort: Annotated[ContactSort | None, strawberry.argument(description="Order.")] = None,
        first: FirstArg = None,
        after: AfterArg = None,
        view_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="A contact view (CUS-7): `standard:CONTACT:<NAME>` or a saved "
                "view's id; `filter` narrows it further, `sort` replaces its sort."
            ),
        ] = None,
    ) -> Connection[Contact]:
        return await r.contacts(
            info, filter=filter, sort=sort, first=first, after=after, view_id=view_id
        )

    @strawberry.field(
        description="One account by global id; null if there is none.",
        permission_classes=[IsAuthenticated],
    )
    async def account(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id.")],
    ) -> Account | None:
        return await r.account(info, id=id)

    @strawberry.field(
        description="Accounts, filtered and sorted, a page at a time.",
        permission_classes=[IsAuthenticated],
    )
    async def accounts(
        self,
        info: strawberry.Info,
        filter: Annotated[
            AccountFilter | None, strawberry.argument(description="Criteria.")
        ] = None,
        sort: Annotated[AccountSort | None, strawberry.argument(description="Order.")] = None,
        first: FirstArg = None,
        after: AfterArg = None,
        view_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="An account view (CUS-7): `standard:ACCOUNT:<NAME>` or a saved "
                "view's id; `filter` narrows it further, `sort` replaces its sort."
            ),
        ] = None,
    ) -> Connection[Account]:
        return await r.accounts(
            info, filter=filter, sort=sort, first=first, after=after, view_id=view_id
        )

    @strawberry.field(
        description="One product by global id; null if there is none.",
        permission_classes=[IsAuthenticated],
    )
    async def product(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id.")],
    ) -> Product | None:
        return await r.product(info, id=id)

    @strawberry.field(
        description="The product catalogue, filtered and sorted, a page at a time.",
        permission_classes=[IsAuthenticated],
    )
    async def products(
        self,
        info: strawberry.Info,
        filter: Annotated[
            ProductFilter | None, strawberry.argument(description="Criteria.")
        ] = None,
        sort: Annotated[ProductSort | None, strawberry.argument(description="Order.")] = None,
        first: FirstArg = None,
        after: AfterArg = None,
    ) -> Connection[Product]:
        return await r.products(info, filter=filter, sort=sort, first=first, after=after)
