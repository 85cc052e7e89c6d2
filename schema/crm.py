"""CRM links (CUS-6): a contact's or account's record in the external CRM."""

from __future__ import annotations

from datetime import datetime

import strawberry

from deskql.resolvers import crm as r
from deskql.schema.errors import MutationError
from deskql.schema.permissions import IsAuthenticated
from deskql.schema.types import Account, Contact


@strawberry.type(description="One property of a CRM record.")
class CrmField:
    name: str = strawberry.field(description="The CRM's property name, e.g. `lifecyclestage`.")
    value: str | None = strawberry.field(description="Its value as text; null: empty.")


@strawberry.type(description="The CRM record a contact or account is mapped to, as last pulled.")
class CrmRecord:
    id: str = strawberry.field(description="The record's id in the CRM.")
    url: str = strawberry.field(description="Link to the record in the CRM; empty: none set.")
    fields: list[CrmField] = strawberry.field(description="The configured properties.")
    updated_at: datetime | None = strawberry.field(
        description="When the record last changed in the CRM."
    )
    fetched_at: datetime | None = strawberry.field(description="When it was last pulled.")


@strawberry.input(description="Map a contact to a CRM record (fetched now to check it).")
class ContactCrmLinkInput:
    contact_id: strawberry.ID = strawberry.field(description="The contact.")
    crm_id: str = strawberry.field(description="The record's id in the CRM.")


@strawberry.input(description="Map an account to a CRM record (fetched now to check it).")
class AccountCrmLinkInput:
    account_id: strawberry.ID = strawberry.field(description="The account.")
    crm_id: str = strawberry.field(description="The company record's id in the CRM.")


@strawberry.input(description="A contact whose CRM record to pull or unlink.")
class ContactCrmInput:
    contact_id: strawberry.ID = strawberry.field(description="The contact.")


@strawberry.input(description="An account whose CRM record to pull or unlink.")
class AccountCrmInput:
    account_id: strawberry.ID = strawberry.field(description="The account.")


@strawberry.type(description="Result of a contact CRM mutation.")
class ContactCrmPayload:
    errors: list[MutationError] = strawberry.field(
        description="Why it was refused (CRM_UNAVAILABLE, CRM_BAD_RESPONSE, NOT_FOUND, "
        "CRM_NOT_CONFIGURED, ...); empty: done."
    )
    contact: Contact | None = strawberry.field(default=None, description="The contact.")


@strawberry.type(description="Result of an account CRM mutation.")
class AccountCrmPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    account: Account | None = strawberry.field(default=None, description="The account.")


@strawberry.type
class CrmMutations:
    @strawberry.mutation(
        description="Map a contact to a CRM record and pull it (CUS-6).",
        permission_classes=[IsAuthenticated],
    )
    async def contact_crm_link(
        self, info: strawberry.Info, input: ContactCrmLinkInput
    ) -> ContactCrmPayload:
        return await r.link(info, kind="contact", global_id=input.contact_id, crm_id=input.crm_id)

    @strawberry.mutation(
        description="Pull the latest version of the contact's CRM record (CUS-6).",
        permission_classes=[IsAuthenticated],
    )
    async def contact_crm_refresh(
        self, info: strawberry.Info, input: ContactCrmInput
    ) -> ContactCrmPayload:
        return await r.refresh(info, kind="contact", global_id=input.contact_id)

    @strawberry.mutation(
        description="Remove the contact's CRM mapping.", permission_classes=[IsAuthenticated]
    )
    async def contact_crm_unlink(
        self, info: strawberry.Info, input: ContactCrmInput
    ) -> ContactCrmPayload:
        return await r.unlink(info, kind="contact", global_id=input.contact_id)

    @strawberry.mutation(
        description="Map an account to a CRM company record and pull it (CUS-6).",
        permission_classes=[IsAuthenticated],
    )
    async def account_crm_link(
        self, info: strawberry.Info, input: AccountCrmLinkInput
    ) -> AccountCrmPayload:
        return await r.link(info, kind="account", global_id=input.account_id, crm_id=input.crm_id)

    @strawberry.mutation(
        description="Pull the latest version of the account's CRM record (CUS-6).",
        permission_classes=[IsAuthenticated],
    )
    async def account_crm_refresh(
        self, info: strawberry.Info, input: AccountCrmInput
    ) -> AccountCrmPayload:
        return await r.refresh(info, kind="account", global_id=input.account_id)

    @strawberry.mutation(
        description="Remove the account's CRM mapping.", permission_classes=[IsAuthenticated]
    )
    async def account_crm_unlink(
        self, info: strawberry.Info, input: AccountCrmInput
    ) -> AccountCrmPayload:
        return await r.unlink(info, kind="account", global_id=input.account_id)
