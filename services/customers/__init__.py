"""Contacts, accounts and products (CUS-1, CUS-2, CUS-9).

Contacts, accounts and products are organisation-wide (see services.policies): every active
agent may list, create, change and delete them. Each change writes an Activity row in the same
transaction, linked by contact_id/account_id so the customer timelines find it.

The parts: common.py (limits, cleaning, checks and product links shared by the others),
lookup.py (contacts by email: `read_contacts`, `find_or_create_contact`), contacts.py,
accounts.py, products.py (one kind of record each). Constants and private checks are looked up
where they are defined or imported: patch them there, not on this package.
"""

from deskql.services.customers.accounts import (
    ACCOUNT_SORTS,
    ACCOUNT_UPDATABLE,
    create_account,
    delete_account,
    get_account,
    list_accounts,
    update_account,
)
from deskql.services.customers.common import (
    CODE_MAX,
    DESCRIPTION_MAX,
    NAME_MAX,
    PHONE_MAX,
    TITLE_MAX,
    WEBSITE_MAX,
)
from deskql.services.customers.contacts import (
    CONTACT_SORTS,
    CONTACT_UPDATABLE,
    ContactFilter,
    _utc,
    create_contact,
    delete_contact,
    get_contact,
    list_contacts,
    update_contact,
)
from deskql.services.customers.lookup import (
    CONTACTS_MEMO,
    find_or_create_contact,
    forget_contacts,
    read_contacts,
    split_name,
)
from deskql.services.customers.products import (
    PRODUCT_UPDATABLE,
    create_product,
    delete_product,
    get_product,
    list_products,
    update_product,
)

__all__ = [
    "ACCOUNT_SORTS",
    "ACCOUNT_UPDATABLE",
    "CODE_MAX",
    "CONTACTS_MEMO",
    "CONTACT_SORTS",
    "CONTACT_UPDATABLE",
    "ContactFilter",
    "DESCRIPTION_MAX",
    "NAME_MAX",
    "PHONE_MAX",
    "PRODUCT_UPDATABLE",
    "TITLE_MAX",
    "WEBSITE_MAX",
    "_utc",
    "create_account",
    "create_contact",
    "create_product",
    "delete_account",
    "delete_contact",
    "delete_product",
    "find_or_create_contact",
    "forget_contacts",
    "get_account",
    "get_contact",
    "get_product",
    "list_accounts",
    "list_contacts",
    "list_products",
    "read_contacts",
    "split_name",
    "update_account",
    "update_contact",
    "update_product",
]
