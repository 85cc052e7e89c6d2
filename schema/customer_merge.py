"""contactMerge and accountMerge (CUS-5): merge duplicates into one survivor."""

from __future__ import annotations

from enum import Enum

import strawberry

from deskql.resolvers import customer_merge as r
from deskql.schema.errors import MutationError
from deskql.schema.permissions import IsAuthenticated
from deskql.schema.types import Account, Contact
from deskql.services.contact_merge import MERGE_MAX


@strawberry.enum(description="A contact field whose value a merge may take from any record.")
class ContactMergeField(Enum):
    FIRST_NAME = "FIRST_NAME"
    LAST_NAME = "LAST_NAME"
    EMAIL = "EMAIL"
    SECONDARY_EMAIL = "SECONDARY_EMAIL"
    PHONE = "PHONE"
    MOBILE = "MOBILE"
    DESCRIPTION = "DESCRIPTION"
    ACCOUNT = "ACCOUNT"
    OWNER = "OWNER"


@strawberry.enum(description="An account field whose value a merge may take from any record.")
class AccountMergeField(Enum):
    NAME = "NAME"
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    WEBSITE = "WEBSITE"
    DESCRIPTION = "DESCRIPTION"
    OWNER = "OWNER"


@strawberry.input(description="Keep this field's value from this record.")
class ContactMergeChoice:
    field: ContactMergeField = strawberry.field(description="The field.")
    from_id: strawberry.ID = strawberry.field(
        description="The survivor or one of the merged contacts."
    )


@strawberry.input(description="Keep this field's value from this record.")
class AccountMergeChoice:
    field: AccountMergeField = strawberry.field(description="The field.")
    from_id: strawberry.ID = strawberry.field(
        description="The survivor or one of the merged accounts."
    )


@strawberry.input(
    description="Merge contacts into one (CUS-5). Their tickets, comments, products, "
    "attachments, follows, tasks, CRM link and addresses move to the survivor in one "
    f"transaction; the merged contacts are deleted. At most {MERGE_MAX} merged at once."
)
class ContactMergeInput:
    survivor_id: strawberry.ID = strawberry.field(description="The contact that stays.")
    merged_ids: list[strawberry.ID] = strawberry.field(
        description=f"The contacts merged into it, 1 to {MERGE_MAX}; not the survivor."
    )
    field_choices: list[ContactMergeChoice] | None = strawberry.field(
        default=None,
        description="Fields whose value comes from another record than the survivor.",
    )


@strawberry.input(
    description="Merge accounts into one (CUS-5). Their contacts, tickets, products, follows "
    f"and CRM link move to the survivor; at most {MERGE_MAX} merged at once."
)
class AccountMergeInput:
    survivor_id: strawberry.ID = strawberry.field(description="The account that stays.")
    merged_ids: list[strawberry.ID] = strawberry.field(
        description=f"The accounts merged into it, 1 to {MERGE_MAX}; not the survivor."
    )
    field_choices: list[AccountMergeChoice] | None = strawberry.field(
        default=None,
        description="Fields whose value comes from another record than the survivor.",
    )


@strawberry.type(description="Result of contactMerge.")
class ContactMergePayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    contact: Contact | None = strawberry.field(
        default=None, description="The survivor as it is after the merge."
    )


@strawberry.type(description="Result of accountMerge.")
class AccountMergePayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    account: Account | None = strawberry.field(
        default=None, description="The survivor as it is after the merge."
    )


@strawberry.type
class CustomerMergeMutations:
    @strawberry.mutation(
        description="Merge duplicate contacts into one survivor (CUS-5); refused with "
        "LIMIT_EXCEEDED above the limit, INVALID for a record merged into itself, NOT_FOUND "
        "for a contact gone or with tickets in a department you are not in.",
        permission_classes=[IsAuthenticated],
    )
    async def contact_merge(
        self, info: strawberry.Info, input: ContactMergeInput
    ) -> ContactMergePayload:
        return await r.contact_merge(info, input)

    @strawberry.mutation(
        description="Merge duplicate accounts into one survivor (CUS-5); errors as for "
        "contactMerge.",
        permission_classes=[IsAuthenticated],
    )
    async def account_merge(
        self, info: strawberry.Info, input: AccountMergeInput
    ) -> AccountMergePayload:
        return await r.account_merge(info, input)
