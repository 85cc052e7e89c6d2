"""CustomerMutations and their payloads."""

from __future__ import annotations

import strawberry

from deskql.resolvers import customers as r
from deskql.schema.customers.inputs import (
    AccountCreateInput,
    AccountDeleteInput,
    AccountUpdateInput,
    ContactCreateInput,
    ContactDeleteInput,
    ContactUpdateInput,
    ProductCreateInput,
    ProductDeleteInput,
    ProductUpdateInput,
)
from deskql.schema.errors import MutationError
from deskql.schema.permissions import IsAuthenticated
from deskql.schema.types import Account, Contact, Product


@strawberry.type(description="Result of a mutation that changes a contact.")
class ContactPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    contact: Contact | None = strawberry.field(
        default=None, description="The contact as changed (as it was, for a delete)."
    )


@strawberry.type(description="Result of a mutation that changes an account.")
class AccountPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    account: Account | None = strawberry.field(
        default=None, description="The account as changed (as it was, for a delete)."
    )


@strawberry.type(description="Result of a mutation that changes a product.")
class ProductPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    product: Product | None = strawberry.field(
        default=None, description="The product as changed (as it was, for a delete)."
    )


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
