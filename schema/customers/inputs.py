"""Inputs of the contact, account and product mutations."""

from __future__ import annotations

import strawberry

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
