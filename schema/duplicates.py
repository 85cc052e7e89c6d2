"""Duplicate contacts and accounts (CUS-5): groups of records sharing a normalised value."""

from __future__ import annotations

from typing import Annotated

import strawberry

from deskql.resolvers import duplicates as r
from deskql.schema.connections import Connection
from deskql.schema.permissions import IsAuthenticated
from deskql.schema.types import Account, Contact
from deskql.services import duplicates as svc

ContactDuplicateField = strawberry.enum(
    svc.ContactField,
    name="ContactDuplicateField",
    description="What contacts are compared by. Values are compared after Unicode NFKC "
    "normalisation, case folding and trimming; phones as E.164 numbers (libphonenumber, in "
    "the region of DESKQL_PHONE_REGION). FULL_NAME: first and last name together; "
    "EMAIL_OR_SECONDARY: an address in either the email or the secondary email; PHONE: a "
    "number in either the phone or the mobile field.",
)
AccountDuplicateField = strawberry.enum(
    svc.AccountField,
    name="AccountDuplicateField",
    description="What accounts are compared by (normalised as for contacts).",
)

_First = Annotated[int | None, strawberry.argument(description="Page size, 0 to 100 (default 20).")]
_After = Annotated[
    str | None, strawberry.argument(description="Cursor of the item after which the page starts.")
]


@strawberry.type(description="Contacts sharing one normalised value (CUS-5).")
class ContactDuplicateGroup:
    key: str = strawberry.field(description="The normalised value the members share.")
    count: int = strawberry.field(description="How many contacts share it.")
    group: strawberry.Private[svc.Group]

    @strawberry.field(description="The contacts of the group, by id, a page at a time.")
    async def contacts(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Contact]:
        return await r.members(info, self.group, first=first, after=after)


@strawberry.type(description="Accounts sharing one normalised value (CUS-5).")
class AccountDuplicateGroup:
    key: str = strawberry.field(description="The normalised value the members share.")
    count: int = strawberry.field(description="How many accounts share it.")
    group: strawberry.Private[svc.Group]

    @strawberry.field(description="The accounts of the group, by id, a page at a time.")
    async def accounts(
        self, info: strawberry.Info, first: _First = None, after: _After = None
    ) -> Connection[Account]:
        return await r.members(info, self.group, first=first, after=after)


@strawberry.type
class DuplicateQueries:
    @strawberry.field(
        description="Groups of contacts that share a value of the chosen field, sorted by the "
        "value, a page at a time (found in SQL with GROUP BY).",
        permission_classes=[IsAuthenticated],
    )
    async def contact_duplicates(
        self,
        info: strawberry.Info,
        field: Annotated[
            svc.ContactField, strawberry.argument(description="The field to compare.")
        ],
        first: _First = None,
        after: _After = None,
    ) -> Connection[ContactDuplicateGroup]:
        return await r.groups(
            info,
            kind="contact",
            field=field.value,
            first=first,
            after=after,
            convert=lambda g: ContactDuplicateGroup(key=g.key, count=g.count, group=g),
        )

    @strawberry.field(
        description="Groups of accounts that share a value of the chosen field, sorted by the "
        "value, a page at a time.",
        permission_classes=[IsAuthenticated],
    )
    async def account_duplicates(
        self,
        info: strawberry.Info,
        field: Annotated[
            svc.AccountField, strawberry.argument(description="The field to compare.")
        ],
        first: _First = None,
        after: _After = None,
    ) -> Connection[AccountDuplicateGroup]:
        return await r.groups(
            info,
            kind="account",
            field=field.value,
            first=first,
            after=after,
            convert=lambda g: AccountDuplicateGroup(key=g.key, count=g.count, group=g),
        )
