"""Contact, account and product queries and mutations (CUS-1, CUS-2, CUS-9).

Contacts, accounts and products are organisation-wide: every signed-in agent sees and edits them.

The parts: queries.py (CustomerQueries, sorts, filters), inputs.py (the mutations' inputs),
mutations.py (CustomerMutations and their payloads).
"""

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
from deskql.schema.customers.mutations import (
    AccountPayload,
    ContactPayload,
    CustomerMutations,
    ProductPayload,
)
from deskql.schema.customers.queries import (
    AccountFilter,
    AccountSort,
    AccountSortField,
    AfterArg,
    ContactFilter,
    ContactSort,
    ContactSortField,
    CustomerQueries,
    FirstArg,
    ProductFilter,
    ProductSort,
    ProductSortField,
)

__all__ = [
    "AccountCreateInput",
    "AccountDeleteInput",
    "AccountFilter",
    "AccountPayload",
    "AccountSort",
    "AccountSortField",
    "AccountUpdateInput",
    "AfterArg",
    "ContactCreateInput",
    "ContactDeleteInput",
    "ContactFilter",
    "ContactPayload",
    "ContactSort",
    "ContactSortField",
    "ContactUpdateInput",
    "CustomerMutations",
    "CustomerQueries",
    "FirstArg",
    "ProductCreateInput",
    "ProductDeleteInput",
    "ProductFilter",
    "ProductPayload",
    "ProductSort",
    "ProductSortField",
    "ProductUpdateInput",
]
