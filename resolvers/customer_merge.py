"""contactMerge / accountMerge: decode ids, call services.contact_merge, build payloads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from deskql.resolvers.common import mutate
from deskql.schema.context import actor_of
from deskql.schema.ids import input_id, input_ids
from deskql.schema.types import Account, Contact
from deskql.services import contact_merge as svc

if TYPE_CHECKING:
    from deskql.schema.customer_merge import AccountMergeInput, ContactMergeInput


def _choices(input: Any, type_name: str) -> dict[str, int]:
    return {
        choice.field.value: input_id(choice.from_id, type_name, "fieldChoices")
        for choice in input.field_choices or []
    }


async def contact_merge(info: strawberry.Info, input: ContactMergeInput) -> Any:
    """`contactMerge`."""
    from deskql.schema.customer_merge import ContactMergePayload

    async def run() -> dict[str, Any]:
        row = await svc.merge(
            actor_of(info),
            kind="contact",
            survivor_id=input_id(input.survivor_id, "Contact", "survivorId"),
            merged_ids=input_ids(input.merged_ids, "Contact", "mergedIds"),
            field_choices=_choices(input, "Contact"),
        )
        return {"contact": Contact.from_row(row)}

    return await mutate(ContactMergePayload, run)


async def account_merge(info: strawberry.Info, input: AccountMergeInput) -> Any:
    """`accountMerge`."""
    from deskql.schema.customer_merge import AccountMergePayload

    async def run() -> dict[str, Any]:
        row = await svc.merge(
            actor_of(info),
            kind="account",
            survivor_id=input_id(input.survivor_id, "Account", "survivorId"),
            merged_ids=input_ids(input.merged_ids, "Account", "mergedIds"),
            field_choices=_choices(input, "Account"),
        )
        return {"account": Account.from_row(row)}

    return await mutate(AccountMergePayload, run)
