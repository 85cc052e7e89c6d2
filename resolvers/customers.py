"""Contact, account and product resolvers: decode ids, call services.customers, build payloads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from deskql.resolvers.common import given, mutate, page
from deskql.schema.connections import Connection
from deskql.schema.context import actor_of
from deskql.schema.ids import decode_id, input_id, input_ids, optional_input_id
from deskql.schema.types import Account, Contact, Product
from deskql.services import customers as svc

if TYPE_CHECKING:
    from deskql.schema.customers import (
        AccountCreateInput,
        AccountDeleteInput,
        AccountFilter,
        AccountSort,
        AccountUpdateInput,
        ContactCreateInput,
        ContactDeleteInput,
        ContactFilter,
        ContactSort,
        ContactUpdateInput,
        ProductCreateInput,
        ProductDeleteInput,
        ProductFilter,
        ProductSort,
        ProductUpdateInput,
    )


def _owner(global_id: str | None) -> int | None:
    return optional_input_id(global_id, "Agent", "ownerId")


def _products(global_ids: list[str] | None) -> list[int]:
    return input_ids(global_ids or [], "Product", "productIds")


def _refs(input: Any, changes: dict[str, Any]) -> None:
    """Decode the id fields the client set on an update input into `changes`."""
    if getattr(input, "account_id", strawberry.UNSET) is not strawberry.UNSET:
        changes["account_id"] = optional_input_id(input.account_id, "Account", "accountId")
    if getattr(input, "owner_id", strawberry.UNSET) is not strawberry.UNSET:
        changes["owner_id"] = _owner(input.owner_id)
    if getattr(input, "product_ids", strawberry.UNSET) is not strawberry.UNSET:
        changes["product_ids"] = _products(input.product_ids)


# --- contacts ----------------------------------------------------------------------------------


async def contact(info: strawberry.Info, *, id: str) -> Contact | None:
    """`contact(id)`: null when absent."""
    row = await svc.get_contact(actor_of(info), contact_id=decode_id(id, "Contact"))
    return Contact.from_row(row) if row else None


async def contacts(
    info: strawberry.Info,
    *,
    filter: ContactFilter | None,
    sort: ContactSort | None,
    first: int | None,
    after: str | None,
    view_id: str | None = None,
) -> Connection[Contact]:
    """`contacts`: a page of contacts (of a view, CUS-7)."""
    actor = actor_of(info)
    if view_id is not None:
        from deskql.resolvers import customer_views

        query = await customer_views.view_query(
            info, kind="CONTACT", view_id=view_id, filter=filter, sort=sort
        )
        return await _primed(info, "contact", query, first, after, Contact.from_row)
    flt = svc.ContactFilter()
    if filter is not None:
        flt = svc.ContactFilter(
            text=filter.text,
            email=filter.email,
            account_id=decode_id(filter.account_id, "Account") if filter.account_id else None,
            created_after=filter.created_after,
            created_before=filter.created_before,
        )
    query = svc.list_contacts(
        actor,
        flt,
        sort=sort.field.value if sort else "NAME",
        desc=bool(sort and sort.direction.value == "DESC"),
    )
    return await _primed(info, "contact", query, first, after, Contact.from_row)


async def _primed(
    info: strawberry.Info, kind: str, query: Any, first: int | None, after: str | None, convert: Any
) -> Any:
    """A page of contacts or accounts with what its nodes select loaded ahead (overview)."""
    from deskql.resolvers.customer_overview import prime_overviews

    connection = await page(info, query, first=first, after=after, convert=convert)
    if connection.compiled:
        return connection
    await prime_overviews(info, kind=kind, pks=[edge.node.pk for edge in connection.edges])
    return connection


async def contact_create(info: strawberry.Info, input: ContactCreateInput) -> Any:
    """`contactCreate`."""
    from deskql.schema.customers import ContactPayload

    async def run() -> dict[str, Any]:
        row = await svc.create_contact(
            actor_of(info),
            first_name=input.first_name,
            last_name=input.last_name,
            email=input.email,
            secondary_email=input.secondary_email,
            phone=input.phone,
            mobile=input.mobile,
            description=input.description,
            account_id=input_id(input.account_id, "Account", "accountId")
            if input.account_id is not None
            else None,
            owner_id=_owner(input.owner_id),
            product_ids=_products(input.product_ids),
        )
        return {"contact": Contact.from_row(row)}

    return await mutate(ContactPayload, run)


_CONTACT_FIELDS = {
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "secondary_email": "secondary_email",
    "phone": "phone",
    "mobile": "mobile",
    "description": "description",
}


async def contact_update(info: strawberry.Info, input: ContactUpdateInput) -> Any:
    """`contactUpdate`."""
    from deskql.schema.customers import ContactPayload

    async def run() -> dict[str, Any]:
        contact_id = input_id(input.id, "Contact", "id")
        changes = given(input, _CONTACT_FIELDS)
        _refs(input, changes)
        row = await svc.update_contact(actor_of(info), contact_id=contact_id, changes=changes)
        return {"contact": Contact.from_row(row)}

    return await mutate(ContactPayload, run)


async def contact_delete(info: strawberry.Info, input: ContactDeleteInput) -> Any:
    """`contactDelete`."""
    from deskql.schema.customers import ContactPayload

    async def run() -> dict[str, Any]:
        row = await svc.delete_contact(
            actor_of(info), contact_id=input_id(input.id, "Contact", "id")
        )
        return {"contact": Contact.from_row(row)}

    return await mutate(ContactPayload, run)


# --- accounts ----------------------------------------------------------------------------------


async def account(info: strawberry.Info, *, id: str) -> Account | None:
    """`account(id)`: null when absent."""
    row = await svc.get_account(actor_of(info), account_id=decode_id(id, "Account"))
    return Account.from_row(row) if row else None


async def accounts(
    info: strawberry.Info,
    *,
    filter: AccountFilter | None,
    sort: AccountSort | None,
    first: int | None,
    after: str | None,
    view_id: str | None = None,
) -> Connection[Account]:
    """`accounts`: a page of accounts (of a view, CUS-7)."""
    if view_id is not None:
        from deskql.resolvers import customer_views

        query = await customer_views.view_query(
            info, kind="ACCOUNT", view_id=view_id, filter=filter, sort=sort
        )
        return await _primed(info, "account", query, first, after, Account.from_row)
    query = svc.list_accounts(
        actor_of(info),
        text=filter.text if filter else None,
        sort=sort.field.value if sort else "NAME",
        desc=bool(sort and sort.direction.value == "DESC"),
    )
    return await _primed(info, "account", query, first, after, Account.from_row)


async def account_create(info: strawberry.Info, input: AccountCreateInput) -> Any:
    """`accountCreate`."""
    from deskql.schema.customers import AccountPayload

    async def run() -> dict[str, Any]:
        row = await svc.create_account(
            actor_of(info),
            name=input.name,
            email=input.email,
            phone=input.phone,
            website=input.website,
            description=input.description,
            owner_id=_owner(input.owner_id),
            product_ids=_products(input.product_ids),
        )
        return {"account": Account.from_row(row)}

    return await mutate(AccountPayload, run)


_ACCOUNT_FIELDS = {
    "name": "name",
    "email": "email",
    "phone": "phone",
    "website": "website",
    "description": "description",
}


async def account_update(info: strawberry.Info, input: AccountUpdateInput) -> Any:
    """`accountUpdate`."""
    from deskql.schema.customers import AccountPayload

    async def run() -> dict[str, Any]:
        account_id = input_id(input.id, "Account", "id")
        changes = given(input, _ACCOUNT_FIELDS)
        _refs(input, changes)
        row = await svc.update_account(actor_of(info), account_id=account_id, changes=changes)
        return {"account": Account.from_row(row)}

    return await mutate(AccountPayload, run)


async def account_delete(info: strawberry.Info, input: AccountDeleteInput) -> Any:
    """`accountDelete`."""
    from deskql.schema.customers import AccountPayload

    async def run() -> dict[str, Any]:
        row = await svc.delete_account(
            actor_of(info), account_id=input_id(input.id, "Account", "id")
        )
        return {"account": Account.from_row(row)}

    return await mutate(AccountPayload, run)


# --- products ----------------------------------------------------------------------------------


async def product(info: strawberry.Info, *, id: str) -> Product | None:
    """`product(id)`: null when absent."""
    row = await svc.get_product(actor_of(info), product_id=decode_id(id, "Product"))
    return Product.from_row(row) if row else None


async def products(
    info: strawberry.Info,
    *,
    filter: ProductFilter | None,
    sort: ProductSort | None,
    first: int | None,
    after: str | None,
) -> Connection[Product]:
    """`products`: a page of the catalogue."""
    query = svc.list_products(
        actor_of(info),
        text=filter.text if filter else None,
        sort=sort.field.value if sort else "NAME",
        desc=bool(sort and sort.direction.value == "DESC"),
    )
    return await page(info, query, first=first, after=after, convert=Product.from_row)


async def product_create(info: strawberry.Info, input: ProductCreateInput) -> Any:
    """`productCreate`."""
    from deskql.schema.customers import ProductPayload

    async def run() -> dict[str, Any]:
        row = await svc.create_product(
            actor_of(info), name=input.name, code=input.code, description=input.description
        )
        return {"product": Product.from_row(row)}

    return await mutate(ProductPayload, run)


_PRODUCT_FIELDS = {"name": "name", "code": "code", "description": "description"}


async def product_update(info: strawberry.Info, input: ProductUpdateInput) -> Any:
    """`productUpdate`."""
    from deskql.schema.customers import ProductPayload

    async def run() -> dict[str, Any]:
        product_id = input_id(input.id, "Product", "id")
        changes = given(input, _PRODUCT_FIELDS)
        row = await svc.update_product(actor_of(info), product_id=product_id, changes=changes)
        return {"product": Product.from_row(row)}

    return await mutate(ProductPayload, run)


async def product_delete(info: strawberry.Info, input: ProductDeleteInput) -> Any:
    """`productDelete`."""
    from deskql.schema.customers import ProductPayload

    async def run() -> dict[str, Any]:
        row = await svc.delete_product(
            actor_of(info), product_id=input_id(input.id, "Product", "id")
        )
        return {"product": Product.from_row(row)}

    return await mutate(ProductPayload, run)
