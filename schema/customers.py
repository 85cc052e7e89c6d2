"""Contact, account and product queries and mutations (CUS-1, CUS-2, CUS-9).

Contacts, accounts and products are organisation-wide: every signed-in agent sees and edits them.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from deskql.resolvers import customers as r
from deskql.schema.connections import Connection
from deskql.schema.errors import MutationError
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
# Inputs and payloads
# ---------------------------------------------------------------------------------------------


@strawberry.input(description="A new contact (CUS-1).")
class ContactCreateInput:
    last_name: str = strawberry.field(description="Last name, 1 to 100 characters.")
    first_name: str = strawberry.field(default="", description="First name, up to 100 characters.")
    email: str | None = strawberry.field(
        default=None, description="Primary email; unique among contacts, stored lower-case."
    )
    secondary_email: str = strawberry.field(default="", description="Secondary email.")
    phone: str = strawberry.field(default="", description="Phone, up to 40 characters.")
    mobile: str = strawberry.field(default="", description="Mobile phone, up to 40 characters.")
    description: str = strawberry.field(
        default="", description="Free text, up to 100,000 characters."
    )
    account_id: strawberry.ID | None = strawberry.field(
        default=None, description="The account (company) the contact belongs to."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="The agent who owns the contact."
    )
    product_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Products the contact uses."
    )


@strawberry.input(
    description="Changes to a contact. Only the fields you set change; null clears optional ones."
)
class ContactUpdateInput:
    id: strawberry.ID = strawberry.field(description="The contact.")
    first_name: str | None = strawberry.field(default=strawberry.UNSET, description="First name.")
    last_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Last name; cannot be cleared."
    )
    email: str | None = strawberry.field(
        default=strawberry.UNSET, description="Primary email; unique; null clears it."
    )
    secondary_email: str | None = strawberry.field(
        default=strawberry.UNSET, description="Secondary email."
    )
    phone: str | None = strawberry.field(default=strawberry.UNSET, description="Phone.")
    mobile: str | None = strawberry.field(default=strawberry.UNSET, description="Mobile phone.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Free text.")
    account_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Account; null clears it."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Owning agent; null clears it."
    )
    product_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET,
        description="The contact's products, replacing the current ones; null or [] clears them.",
    )


@strawberry.input(description="The contact to delete.")
class ContactDeleteInput:
    id: strawberry.ID = strawberry.field(
        description="The contact; refused with IN_USE while it has tickets."
    )


@strawberry.type(description="Result of a mutation that changes a contact.")
class ContactPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    contact: Contact | None = strawberry.field(
        default=None, description="The contact as changed (as it was, for a delete)."
    )


@strawberry.input(description="A new account, a customer company (CUS-2).")
class AccountCreateInput:
    name: str = strawberry.field(description="Company name, 1 to 200 characters.")
    email: str | None = strawberry.field(default=None, description="Company email.")
    phone: str = strawberry.field(default="", description="Company phone, up to 40 characters.")
    website: str = strawberry.field(default="", description="Website: an http(s) URL.")
    description: str = strawberry.field(
        default="", description="Free text, up to 100,000 characters."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="The agent who owns the account."
    )
    product_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Products the account uses."
    )


@strawberry.input(
    description="Changes to an account. Only the fields you set change; null clears optional ones."
)
class AccountUpdateInput:
    id: strawberry.ID = strawberry.field(description="The account.")
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Company name; cannot be cleared."
    )
    email: str | None = strawberry.field(default=strawberry.UNSET, description="Company email.")
    phone: str | None = strawberry.field(default=strawberry.UNSET, description="Company phone.")
    website: str | None = strawberry.field(
        default=strawberry.UNSET, description="Website: an http(s) URL."
    )
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Free text.")
    owner_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Owning agent; null clears it."
    )
    product_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET,
        description="The account's products, replacing the current ones; null or [] clears them.",
    )


@strawberry.input(description="The account to delete.")
class AccountDeleteInput:
    id: strawberry.ID = strawberry.field(
        description="The account; its contacts and tickets are kept, without an account."
    )


@strawberry.type(description="Result of a mutation that changes an account.")
class AccountPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    account: Account | None = strawberry.field(
        default=None, description="The account as changed (as it was, for a delete)."
    )


@strawberry.input(description="A new product in the catalogue (CUS-9).")
class ProductCreateInput:
    name: str = strawberry.field(
        description="Product name, 1 to 200 characters, unique regardless of case."
    )
    code: str = strawberry.field(default="", description="Product code, up to 60 characters.")
    description: str = strawberry.field(
        default="", description="Free text, up to 100,000 characters."
    )


@strawberry.input(
    description="Changes to a product. Only the fields you set change; null clears optional ones."
)
class ProductUpdateInput:
    id: strawberry.ID = strawberry.field(description="The product.")
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Product name; unique; cannot be cleared."
    )
    code: str | None = strawberry.field(default=strawberry.UNSET, description="Product code.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Free text.")


@strawberry.input(description="The product to delete.")
class ProductDeleteInput:
    id: strawberry.ID = strawberry.field(
        description="The product; contacts, accounts and tickets lose their link to it."
    )


@strawberry.type(description="Result of a mutation that changes a product.")
class ProductPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    product: Product | None = strawberry.field(
        default=None, description="The product as changed (as it was, for a delete)."
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


@strawberry.type
class CustomerMutations:
    @strawberry.mutation(description="Create a contact.", permission_classes=[IsAuthenticated])
    async def contact_create(
        self, info: strawberry.Info, input: ContactCreateInput
    ) -> ContactPayload:
        return await r.contact_create(info, input)

    @strawberry.mutation(
        description="Change a contact's fields, account, owner or products.",
        permission_classes=[IsAuthenticated],
    )
    async def contact_update(
        self, info: strawberry.Info, input: ContactUpdateInput
    ) -> ContactPayload:
        return await r.contact_update(info, input)

    @strawberry.mutation(
        description="Delete a contact that has no tickets (else IN_USE); its history is kept.",
        permission_classes=[IsAuthenticated],
    )
    async def contact_delete(
        self, info: strawberry.Info, input: ContactDeleteInput
    ) -> ContactPayload:
        return await r.contact_delete(info, input)

    @strawberry.mutation(description="Create an account.", permission_classes=[IsAuthenticated])
    async def account_create(
        self, info: strawberry.Info, input: AccountCreateInput
    ) -> AccountPayload:
        return await r.account_create(info, input)

    @strawberry.mutation(
        description="Change an account's fields, owner or products.",
        permission_classes=[IsAuthenticated],
    )
    async def account_update(
        self, info: strawberry.Info, input: AccountUpdateInput
    ) -> AccountPayload:
        return await r.account_update(info, input)

    @strawberry.mutation(
        description="Delete an account; its contacts and tickets stay, without an account.",
        permission_classes=[IsAuthenticated],
    )
    async def account_delete(
        self, info: strawberry.Info, input: AccountDeleteInput
    ) -> AccountPayload:
        return await r.account_delete(info, input)

    @strawberry.mutation(
        description="Add a product to the catalogue.", permission_classes=[IsAuthenticated]
    )
    async def product_create(
        self, info: strawberry.Info, input: ProductCreateInput
    ) -> ProductPayload:
        return await r.product_create(info, input)

    @strawberry.mutation(
        description="Change a product's name, code or description.",
        permission_classes=[IsAuthenticated],
    )
    async def product_update(
        self, info: strawberry.Info, input: ProductUpdateInput
    ) -> ProductPayload:
        return await r.product_update(info, input)

    @strawberry.mutation(
        description="Delete a product; contacts, accounts and tickets lose their link to it.",
        permission_classes=[IsAuthenticated],
    )
    async def product_delete(
        self, info: strawberry.Info, input: ProductDeleteInput
    ) -> ProductPayload:
        return await r.product_delete(info, input)
