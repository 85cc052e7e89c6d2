"""Contacts, accounts and products over GraphQL (CUS-1, CUS-2, CUS-9): queries with filters,
sorts and pagination; create/update/delete mutations; refused input that writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from deskql import models
from deskql.services import tickets
from deskql.services.auth import load_actor
from tests.conftest import GQLClient, World, gid

CONTACT = """
  id firstName lastName name email secondaryEmail phone mobile description createdAt updatedAt
  account { id name } owner { id email } products { nodes { id name } }
"""
ACCOUNT = """
  id name email phone website description createdAt updatedAt
  owner { id } contacts { nodes { id lastName } } products { nodes { id name } }
  tickets { nodes { id } }
"""
PRODUCT = "id name code description createdAt"

CONTACT_CREATE = f"""
mutation($input: ContactCreateInput!) {{
  contactCreate(input: $input) {{ errors {{ field message code }} contact {{ {CONTACT} }} }}
}}
"""
CONTACT_UPDATE = f"""
mutation($input: ContactUpdateInput!) {{
  contactUpdate(input: $input) {{ errors {{ field message code }} contact {{ {CONTACT} }} }}
}}
"""
CONTACT_DELETE = f"""
mutation($id: ID!) {{
  contactDelete(input: {{id: $id}}) {{ errors {{ field message code }} contact {{ {CONTACT} }} }}
}}
"""
ACCOUNT_CREATE = f"""
mutation($input: AccountCreateInput!) {{
  accountCreate(input: $input) {{ errors {{ field message code }} account {{ {ACCOUNT} }} }}
}}
"""
ACCOUNT_UPDATE = f"""
mutation($input: AccountUpdateInput!) {{
  accountUpdate(input: $input) {{ errors {{ field message code }} account {{ {ACCOUNT} }} }}
}}
"""
ACCOUNT_DELETE = f"""
mutation($id: ID!) {{
  accountDelete(input: {{id: $id}}) {{ errors {{ field message code }} account {{ {ACCOUNT} }} }}
}}
"""
PRODUCT_CREATE = f"""
mutation($input: ProductCreateInput!) {{
  productCreate(input: $input) {{ errors {{ field message code }} product {{ {PRODUCT} }} }}
}}
"""
PRODUCT_UPDATE = f"""
mutation($input: ProductUpdateInput!) {{
  productUpdate(input: $input) {{ errors {{ field message code }} product {{ {PRODUCT} }} }}
}}
"""
PRODUCT_DELETE = f"""
mutation($id: ID!) {{
  productDelete(input: {{id: $id}}) {{ errors {{ field message code }} product {{ {PRODUCT} }} }}
}}
"""
CONTACTS = """
query($filter: ContactFilter, $sort: ContactSort, $first: Int, $after: String) {
  contacts(filter: $filter, sort: $sort, first: $first, after: $after) {
    totalCount
    edges { cursor node { id lastName email } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
ACCOUNTS = """
query($filter: AccountFilter, $sort: AccountSort, $first: Int, $after: String) {
  accounts(filter: $filter, sort: $sort, first: $first, after: $after) {
    totalCount nodes { name } pageInfo { hasNextPage endCursor }
  }
}
"""
PRODUCTS = """
query($filter: ProductFilter, $sort: ProductSort, $first: Int, $after: String) {
  products(filter: $filter, sort: $sort, first: $first, after: $after) {
    totalCount nodes { name code } pageInfo { hasNextPage endCursor }
  }
}
"""


def codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def counts() -> dict[str, int]:
    """Rows of every table a customer mutation may write, to prove nothing was written."""
    return {
        "contact": await models.Contact.all().count(),
        "account": await models.Account.all().count(),
        "product": await models.Product.all().count(),
        "contact_product": await models.ContactProduct.all().count(),
        "account_product": await models.AccountProduct.all().count(),
        "activity": await models.Activity.all().count(),
    }


async def make_ticket(world: World, contact: models.Contact, **kwargs: Any) -> models.Ticket:
    actor = await load_actor(world.admin.id)
    return await tickets.create_ticket(
        actor,
        subject="Help",
        department_id=world.support.id,
        contact_id=contact.id,
        **kwargs,
    )


# --- contacts: mutations ------------------------------------------------------------------------


async def test_contact_create_with_account_owner_and_products(gql: GQLClient, world: World) -> None:
    account = await models.Account.create(name="Zylker")
    p1 = await models.Product.create(name="Desk")
    p2 = await models.Product.create(name="CRM")
    res = await gql.as_(world.alice_token)(
        CONTACT_CREATE,
        {
            "input": {
                "firstName": " Jan ",
                "lastName": "Kowalski",
                "email": "  Jan.Kowalski@Example.COM ",
                "secondaryEmail": "JK@home.example.org",
                "phone": "+48 22 123-45-67",
                "mobile": "(501) 234 567",
                "description": "Line one\nline two",
                "accountId": gid("Account", account.id),
                "ownerId": gid("Agent", world.alice.id),
                "productIds": [gid("Product", p1.id), gid("Product", p2.id), gid("Product", p1.id)],
            }
        },
    )
    payload = res.data["contactCreate"]
    assert payload["errors"] == []
    c = payload["contact"]
    assert c["firstName"] == "Jan" and c["lastName"] == "Kowalski"
    assert c["name"] == "Jan Kowalski"
    assert c["email"] == "jan.kowalski@example.com"
    assert c["secondaryEmail"] == "jk@home.example.org"
    assert c["phone"] == "+48 22 123-45-67" and c["mobile"] == "(501) 234 567"
    assert c["description"] == "Line one\nline two"
    assert c["account"] == {"id": gid("Account", account.id), "name": "Zylker"}
    assert c["owner"] == {"id": gid("Agent", world.alice.id), "email": "alice@zylker.com"}
    assert sorted(p["name"] for p in c["products"]["nodes"]) == ["CRM", "Desk"]

    row = await models.Contact.get(email="jan.kowalski@example.com")
    assert c["id"] == gid("Contact", row.id)
    assert row.account_id == account.id and row.owner_id == world.alice.id  # type: ignore[attr-defined]
    links = await models.ContactProduct.filter(contact_id=row.id).values_list(
        "product_id", flat=True
    )
    assert sorted(links) == sorted([p1.id, p2.id])
    act = await models.Activity.get(kind="contact.created", subject_id=row.id)
    assert act.subject_type == "Contact"
    assert act.contact_id == row.id and act.account_id == account.id
    assert act.actor_id == world.alice.id  # type: ignore[attr-defined]
    assert act.changes["email"] == "jan.kowalski@example.com"
    assert act.changes["product_ids"] == sorted([p1.id, p2.id])


async def test_contact_create_minimal(gql: GQLClient, world: World) -> None:
    res = await gql.as_(world.bob_token)(CONTACT_CREATE, {"input": {"lastName": "Nobody"}})
    c = res.data["contactCreate"]["contact"]
    assert c["name"] == "Nobody" and c["email"] is None and c["firstName"] == ""
    assert c["account"] is None and c["owner"] is None and c["products"]["nodes"] == []
    # A second contact without email: no email is not a duplicate.
    res = await gql.as_(world.bob_token)(
        CONTACT_CREATE, {"input": {"lastName": "Else", "email": ""}}
    )
    assert res.data["contactCreate"]["errors"] == []
    assert await models.Contact.filter(email__isnull=True).count() == 2


async def test_contact_update_changes_only_given_fields(gql: GQLClient, world: World) -> None:
    account = await models.Account.create(name="Zylker")
    before = await models.Contact.get(id=world.contact.id)
    res = await gql.as_(world.alice_token)(
        CONTACT_UPDATE,
        {
            "input": {
                "id": gid("Contact", world.contact.id),
                "phone": "555 0100",
                "accountId": gid("Account", account.id),
            }
        },
    )
    payload = res.data["contactUpdate"]
    assert payload["errors"] == []
    c = payload["contact"]
    assert c["phone"] == "555 0100"
    assert c["account"]["name"] == "Zylker"
    assert c["firstName"] == "Melissa" and c["lastName"] == "Doe"
    assert c["email"] == "melissa@example.com"
    row = await models.Contact.get(id=world.contact.id)
    assert row.phone == "555 0100" and row.account_id == account.id  # type: ignore[attr-defined]
    assert row.updated_at >= before.updated_at
    act = await models.Activity.get(kind="contact.updated")
    assert act.contact_id == world.contact.id and act.account_id == account.id
    assert act.changes == {
        "phone": {"old": "", "new": "555 0100"},
        "account_id": {"old": None, "new": account.id},
    }


async def test_contact_update_null_clears_optional_fields(gql: GQLClient, world: World) -> None:
    account = await models.Account.create(name="Zylker")
    product = await models.Product.create(name="Desk")
    await models.Contact.filter(id=world.contact.id).update(
        account_id=account.id, owner_id=world.alice.id, phone="123", description="x"
    )
    await models.ContactProduct.create(contact_id=world.contact.id, product_id=product.id)
    res = await gql.as_(world.alice_token)(
        CONTACT_UPDATE,
        {
            "input": {
                "id": gid("Contact", world.contact.id),
                "email": None,
                "phone": None,
                "description": None,
                "accountId": None,
                "ownerId": None,
                "productIds": None,
            }
        },
    )
    c = res.data["contactUpdate"]["contact"]
    assert c["email"] is None and c["phone"] == "" and c["description"] == ""
    assert c["account"] is None and c["owner"] is None and c["products"]["nodes"] == []
    assert await models.ContactProduct.all().count() == 0
    act = await models.Activity.get(kind="contact.updated")
    assert act.changes["email"] == {"old": "melissa@example.com", "new": None}
    assert act.changes["product_ids"] == {"old": [product.id], "new": []}


async def test_contact_update_replaces_products(gql: GQLClient, world: World) -> None:
    a, b, c = [await models.Product.create(name=n) for n in ("A", "B", "C")]
    await models.ContactProduct.create(contact_id=world.contact.id, product_id=a.id)
    await models.ContactProduct.create(contact_id=world.contact.id, product_id=b.id)
    res = await gql.as_(world.alice_token)(
        CONTACT_UPDATE,
        {
            "input": {
                "id": gid("Contact", world.contact.id),
                "productIds": [gid("Product", b.id), gid("Product", c.id)],
            }
        },
    )
    assert [p["name"] for p in res.data["contactUpdate"]["contact"]["products"]["nodes"]] == [
        "B",
        "C",
    ]
    links = await models.ContactProduct.filter(contact_id=world.contact.id).values_list(
        "product_id", flat=True
    )
    assert sorted(links) == [b.id, c.id]


async def test_contact_update_without_change_records_nothing(gql: GQLClient, world: World) -> None:
    res = await gql.as_(world.alice_token)(
        CONTACT_UPDATE,
        {"input": {"id": gid("Contact", world.contact.id), "email": "MELISSA@example.com"}},
    )
    assert res.data["contactUpdate"]["errors"] == []
    assert res.data["contactUpdate"]["contact"]["email"] == "melissa@example.com"
    assert await models.Activity.filter(kind="contact.updated").count() == 0


async def test_contact_delete_returns_it_as_it_was(gql: GQLClient, world: World) -> None:
    account = await models.Account.create(name="Zylker")
    product = await models.Product.create(name="Desk")
    await models.Contact.filter(id=world.contact.id).update(account_id=account.id)
    await models.ContactProduct.create(contact_id=world.contact.id, product_id=product.id)
    res = await gql.as_(world.bob_token)(CONTACT_DELETE, {"id": gid("Contact", world.contact.id)})
    payload = res.data["contactDelete"]
    assert payload["errors"] == []
    assert payload["contact"]["id"] == gid("Contact", world.contact.id)
    assert payload["contact"]["email"] == "melissa@example.com"
    assert payload["contact"]["account"]["name"] == "Zylker"
    assert not await models.Contact.exists(id=world.contact.id)
    assert await models.ContactProduct.all().count() == 0
    assert await models.Product.exists(id=product.id)
    act = await models.Activity.get(kind="contact.deleted")
    assert act.contact_id == world.contact.id and act.account_id == account.id
    assert act.changes == {"name": "Melissa Doe", "email": "melissa@example.com"}
    # Deleted: the id now names nothing.
    res = await gql.as_(world.bob_token)(CONTACT_DELETE, {"id": gid("Contact", world.contact.id)})
    assert codes(res.data["contactDelete"]) == [("id", "NOT_FOUND")]


async def test_contact_with_tickets_cannot_be_deleted(gql: GQLClient, world: World) -> None:
    await make_ticket(world, world.contact)
    await make_ticket(world, world.contact)
    before = await counts()
    res = await gql.as_(world.admin_token)(CONTACT_DELETE, {"id": gid("Contact", world.contact.id)})
    payload = res.data["contactDelete"]
    assert codes(payload) == [("id", "IN_USE")]
    assert "2 tickets" in payload["errors"][0]["message"]
    assert payload["contact"] is None
    assert await models.Contact.exists(id=world.contact.id)
    assert await counts() == before


# --- contacts: refused input ------------------------------------------------------------------

LONG_EMAIL = "a" * 243 + "@example.com"  # 255 characters


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"lastName": ""}, [("lastName", "REQUIRED")]),
        ({"lastName": "   "}, [("lastName", "REQUIRED")]),
        ({"lastName": "x" * 101}, [("lastName", "TOO_LONG")]),
        ({"lastName": "Ok", "firstName": "x" * 101}, [("firstName", "TOO_LONG")]),
        ({"lastName": "Ok", "email": LONG_EMAIL}, [("email", "TOO_LONG")]),
        ({"lastName": "Ok", "secondaryEmail": LONG_EMAIL}, [("secondaryEmail", "TOO_LONG")]),
        ({"lastName": "Ok", "phone": "1" * 41}, [("phone", "TOO_LONG")]),
        ({"lastName": "Ok", "mobile": "1" * 41}, [("mobile", "TOO_LONG")]),
        ({"lastName": "Ok", "phone": "call me"}, [("phone", "INVALID")]),
        ({"lastName": "Ok", "description": "d" * 100_001}, [("description", "TOO_LONG")]),
        ({"lastName": "Ok", "email": "not-an-email"}, [("email", "INVALID_EMAIL")]),
        ({"lastName": "Ok", "email": "a@b"}, [("email", "INVALID_EMAIL")]),
        ({"lastName": "Ok", "email": "x y@z.com"}, [("email", "INVALID_EMAIL")]),
        ({"lastName": "Ok", "email": "a@b.com\r\nBcc: c@d.com"}, [("email", "INVALID_EMAIL")]),
        ({"lastName": "Ok", "email": "a@b.com\nBcc: c@d.com"}, [("email", "INVALID_EMAIL")]),
        (
            {"lastName": "Ok", "secondaryEmail": "a@b.com\r\nBcc: c@d.com"},
            [("secondaryEmail", "INVALID_EMAIL")],
        ),
        ({"lastName": "Ok", "email": "MELISSA@example.com"}, [("email", "DUPLICATE")]),
        ({"lastName": "Ok", "accountId": "%%%not-an-id"}, [("accountId", "INVALID")]),
        ({"lastName": "Ok", "accountId": gid("Ticket", 1)}, [("accountId", "INVALID")]),
        ({"lastName": "Ok", "accountId": gid("Account", 999)}, [("accountId", "NOT_FOUND")]),
        ({"lastName": "Ok", "ownerId": gid("Contact", 1)}, [("ownerId", "INVALID")]),
        ({"lastName": "Ok", "ownerId": gid("Agent", 999)}, [("ownerId", "NOT_FOUND")]),
        ({"lastName": "Ok", "productIds": ["nope"]}, [("productIds", "INVALID")]),
        ({"lastName": "Ok", "productIds": [gid("Product", 999)]}, [("productIds", "NOT_FOUND")]),
        (
            {"lastName": " ", "firstName": "x" * 101, "email": "a@b"},
            [("firstName", "TOO_LONG"), ("lastName", "REQUIRED"), ("email", "INVALID_EMAIL")],
        ),
    ],
)
async def test_contact_create_refuses_bad_input(
    gql: GQLClient, world: World, fields: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    before = await counts()
    res = await gql.as_(world.alice_token)(CONTACT_CREATE, {"input": fields})
    payload = res.data["contactCreate"]
    assert codes(payload) == expected
    assert payload["contact"] is None
    assert await counts() == before


async def test_contact_create_without_last_name_is_a_graphql_error(
    gql: GQLClient, world: World
) -> None:
    before = await counts()
    alice = gql.as_(world.alice_token)
    res = await alice('mutation { contactCreate(input: {firstName: "Ann"}) { errors { code } } }')
    assert res.error_codes() == ["GRAPHQL_VALIDATION_FAILED"]
    assert "lastName" in res.errors[0]["message"]
    # The same through a variable is refused before execution too.
    res = await alice(CONTACT_CREATE, {"input": {"firstName": "Ann"}})
    assert len(res.errors) == 1 and "lastName" in res.errors[0]["message"]
    assert res.body.get("data") is None
    assert await counts() == before


async def test_contact_owner_must_be_an_agent_you_can_see(gql: GQLClient, world: World) -> None:
    # Bob works in Sales only, so Alice (Support) cannot name him; an administrator can.
    before = await counts()
    res = await gql.as_(world.alice_token)(
        CONTACT_CREATE, {"input": {"lastName": "Ok", "ownerId": gid("Agent", world.bob.id)}}
    )
    assert codes(res.data["contactCreate"]) == [("ownerId", "NOT_FOUND")]
    assert await counts() == before
    await models.Agent.filter(id=world.bob.id).update(is_active=False)
    res = await gql.as_(world.admin_token)(
        CONTACT_CREATE, {"input": {"lastName": "Ok", "ownerId": gid("Agent", world.bob.id)}}
    )
    assert codes(res.data["contactCreate"]) == [("ownerId", "INVALID")]
    assert await counts() == before


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"lastName": None}, [("lastName", "REQUIRED")]),
        ({"lastName": "  "}, [("lastName", "REQUIRED")]),
        ({"firstName": "f" * 101}, [("firstName", "TOO_LONG")]),
        ({"email": "x y@z.com"}, [("email", "INVALID_EMAIL")]),
        ({"email": "a@b.com\r\nBcc: c@d.com"}, [("email", "INVALID_EMAIL")]),
        ({"email": "Taken@Example.com"}, [("email", "DUPLICATE")]),
        ({"accountId": gid("Ticket", 1)}, [("accountId", "INVALID")]),
        ({"accountId": gid("Account", 12345)}, [("accountId", "NOT_FOUND")]),
        ({"productIds": [gid("Product", 12345)]}, [("productIds", "NOT_FOUND")]),
    ],
)
async def test_contact_update_refuses_bad_input(
    gql: GQLClient, world: World, fields: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    await models.Contact.create(last_name="Other", email="taken@example.com")
    before = await counts()
    snapshot = await models.Contact.filter(id=world.contact.id).values()
    res = await gql.as_(world.alice_token)(
        CONTACT_UPDATE, {"input": {"id": gid("Contact", world.contact.id), **fields}}
    )
    payload = res.data["contactUpdate"]
    assert codes(payload) == expected
    assert payload["contact"] is None
    assert await counts() == before
    assert await models.Contact.filter(id=world.contact.id).values() == snapshot


@pytest.mark.parametrize(
    ("contact_id", "code"),
    [("bad id!", "INVALID"), (gid("Account", 1), "INVALID"), (gid("Contact", 999), "NOT_FOUND")],
)
async def test_contact_update_and_delete_of_unknown_ids(
    gql: GQLClient, world: World, contact_id: str, code: str
) -> None:
    before = await counts()
    res = await gql.as_(world.alice_token)(
        CONTACT_UPDATE, {"input": {"id": contact_id, "lastName": "X"}}
    )
    assert codes(res.data["contactUpdate"]) == [("id", code)]
    res = await gql.as_(world.alice_token)(CONTACT_DELETE, {"id": contact_id})
    assert codes(res.data["contactDelete"]) == [("id", code)]
    assert await counts() == before


# --- contacts: queries -----------------------------------------------------------------------


async def _people() -> list[models.Contact]:
    rows = []
    for first, last, email in [
        ("Zoe", "adams", "zoe@acme.example"),
        ("Yann", "Brown", "yann@beta.example"),
        ("Xavi", "Clark", None),
        ("Walt", "Davis", "walt@acme.example"),
    ]:
        rows.append(await models.Contact.create(first_name=first, last_name=last, email=email))
    return rows


async def test_contact_by_id(gql: GQLClient, world: World) -> None:
    account = await models.Account.create(name="Zylker")
    await models.Contact.filter(id=world.contact.id).update(account_id=account.id)
    ticket = await make_ticket(world, world.contact)
    q = "query($id: ID!) { contact(id: $id) { name account { name } tickets { nodes { id } } } }"
    res = await gql.as_(world.alice_token)(q, {"id": gid("Contact", world.contact.id)})
    assert res.data["contact"] == {
        "name": "Melissa Doe",
        "account": {"name": "Zylker"},
        "tickets": {"nodes": [{"id": gid("Ticket", ticket.id)}]},
    }
    # Bob (Sales) sees the contact, which is organisation-wide, but not the Support ticket.
    res = await gql.as_(world.bob_token)(q, {"id": gid("Contact", world.contact.id)})
    assert res.data["contact"]["tickets"]["nodes"] == []
    res = await gql.as_(world.bob_token)(q, {"id": gid("Contact", 999)})
    assert res.data["contact"] is None
    res = await gql.as_(world.bob_token)(q, {"id": gid("Ticket", ticket.id)})
    assert res.error_codes() == ["INVALID_ID"]


async def test_contacts_pagination(gql: GQLClient, world: World) -> None:
    await _people()  # with Melissa Doe: five contacts
    alice = gql.as_(world.alice_token)
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        res = await alice(CONTACTS, {"first": 2, "after": after})
        conn = res.data["contacts"]
        assert conn["totalCount"] == 5
        assert conn["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [e["node"]["lastName"] for e in conn["edges"]]
        pages += 1
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
        assert after == conn["edges"][-1]["cursor"]
    assert pages == 3
    # Default order: last name, case-insensitive, ascending.
    assert seen == ["adams", "Brown", "Clark", "Davis", "Doe"]
    res = await alice(CONTACTS, {"first": 0})
    assert res.data["contacts"]["totalCount"] == 5 and res.data["contacts"]["edges"] == []
    res = await alice(CONTACTS, {"first": 101})
    assert res.error_codes() == ["BAD_PAGINATION"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ({"field": "NAME", "direction": "DESC"}, ["Doe", "Davis", "Clark", "Brown", "adams"]),
        ({"field": "CREATED_AT", "direction": "ASC"}, ["Doe", "adams", "Brown", "Clark", "Davis"]),
        ({"field": "CREATED_AT", "direction": "DESC"}, ["Davis", "Clark", "Brown", "adams", "Doe"]),
        ({"field": "UPDATED_AT", "direction": "DESC"}, ["Brown", "Davis", "Clark", "adams", "Doe"]),
        # Case-insensitive; contacts without email come first ascending (SQLite and PostgreSQL
        # order NULLs differently, so the one without email is filtered out below).
        ({"field": "EMAIL", "direction": "ASC"}, ["Doe", "Davis", "Brown", "adams"]),
        ({"field": "EMAIL", "direction": "DESC"}, ["adams", "Brown", "Davis", "Doe"]),
    ],
)
async def test_contacts_sorts(
    gql: GQLClient, world: World, sort: dict[str, str], expected: list[str]
) -> None:
    people = await _people()
    base = datetime(2024, 1, 1, tzinfo=UTC)
    await models.Contact.filter(id=world.contact.id).update(
        created_at=base, updated_at=base + timedelta(days=1)
    )
    for i, person in enumerate(people):
        await models.Contact.filter(id=person.id).update(
            created_at=base + timedelta(days=i + 1), updated_at=base + timedelta(days=10 + i)
        )
    await models.Contact.filter(last_name="Brown").update(updated_at=base + timedelta(days=30))
    flt = {"text": "@"} if sort["field"] == "EMAIL" else None
    res = await gql.as_(world.alice_token)(CONTACTS, {"sort": sort, "filter": flt})
    assert [e["node"]["lastName"] for e in res.data["contacts"]["edges"]] == expected


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"text": "ACME"}, ["adams", "Davis"]),
        ({"text": "zo"}, ["adams"]),
        ({"text": "melissa doe"}, ["Doe"]),
        ({"text": "DAV acme"}, ["Davis"]),
        ({"text": "nobody"}, []),
        ({"text": "%"}, []),
        ({"email": "YANN@beta.example"}, ["Brown"]),
        ({"email": "yann@beta"}, []),
    ],
)
async def test_contacts_filters(
    gql: GQLClient, world: World, flt: dict[str, Any], expected: list[str]
) -> None:
    await _people()
    res = await gql.as_(world.alice_token)(CONTACTS, {"filter": flt})
    conn = res.data["contacts"]
    assert [e["node"]["lastName"] for e in conn["edges"]] == expected
    assert conn["totalCount"] == len(expected)


async def test_contacts_filter_by_account_and_creation_time(gql: GQLClient, world: World) -> None:
    people = await _people()
    acme = await models.Account.create(name="Acme")
    await models.Contact.filter(id__in=[people[0].id, people[3].id]).update(account_id=acme.id)
    base = datetime(2024, 1, 1, tzinfo=UTC)
    for i, person in enumerate([world.contact, *people]):
        await models.Contact.filter(id=person.id).update(created_at=base + timedelta(days=i))
    alice = gql.as_(world.alice_token)
    res = await alice(CONTACTS, {"filter": {"accountId": gid("Account", acme.id)}})
    assert [e["node"]["lastName"] for e in res.data["contacts"]["edges"]] == ["adams", "Davis"]
    flt = {
        "createdAfter": (base + timedelta(days=1)).isoformat(),
        "createdBefore": (base + timedelta(days=3)).isoformat(),
    }
    res = await alice(CONTACTS, {"filter": flt})
    assert [e["node"]["lastName"] for e in res.data["contacts"]["edges"]] == ["adams", "Brown"]
    flt = {"accountId": gid("Account", acme.id), "createdAfter": flt["createdBefore"]}
    res = await alice(CONTACTS, {"filter": flt})
    assert [e["node"]["lastName"] for e in res.data["contacts"]["edges"]] == ["Davis"]
    res = await alice(CONTACTS, {"filter": {"accountId": gid("Ticket", 1)}})
    assert res.error_codes() == ["INVALID_ID"]


# --- accounts -----------------------------------------------------------------------------


async def test_account_create_update_and_query(gql: GQLClient, world: World) -> None:
    product = await models.Product.create(name="Desk")
    alice = gql.as_(world.alice_token)
    res = await alice(
        ACCOUNT_CREATE,
        {
            "input": {
                "name": " Zylker Corp ",
                "email": "Info@Zylker.example",
                "phone": "+1 555 0100",
                "website": "https://zylker.example/about?x=1",
                "description": "Big customer",
                "ownerId": gid("Agent", world.alice.id),
                "productIds": [gid("Product", product.id)],
            }
        },
    )
    payload = res.data["accountCreate"]
    assert payload["errors"] == []
    a = payload["account"]
    assert a["name"] == "Zylker Corp" and a["email"] == "info@zylker.example"
    assert a["website"] == "https://zylker.example/about?x=1"
    assert a["owner"] == {"id": gid("Agent", world.alice.id)}
    assert a["products"]["nodes"] == [{"id": gid("Product", product.id), "name": "Desk"}]
    row = await models.Account.get(name="Zylker Corp")
    assert await models.AccountProduct.filter(account_id=row.id, product_id=product.id).exists()
    act = await models.Activity.get(kind="account.created")
    assert act.account_id == row.id and act.subject_id == row.id and act.contact_id is None
    assert act.changes["name"] == "Zylker Corp"

    await models.Contact.filter(id=world.contact.id).update(account_id=row.id)
    res = await alice(
        ACCOUNT_UPDATE,
        {
            "input": {
                "id": a["id"],
                "website": "http://zylker.example",
                "email": None,
                "productIds": [],
            }
        },
    )
    a = res.data["accountUpdate"]["account"]
    assert a["website"] == "http://zylker.example" and a["email"] == ""
    assert a["name"] == "Zylker Corp" and a["phone"] == "+1 555 0100"
    assert a["products"]["nodes"] == [] and a["contacts"]["nodes"] == [
        {"id": gid("Contact", world.contact.id), "lastName": "Doe"}
    ]
    act = await models.Activity.get(kind="account.updated")
    assert act.account_id == row.id
    assert act.changes == {
        "website": {"old": "https://zylker.example/about?x=1", "new": "http://zylker.example"},
        "email": {"old": "info@zylker.example", "new": ""},
        "product_ids": {"old": [product.id], "new": []},
    }

    q = "query($id: ID!) { account(id: $id) { name contacts { nodes { name } } } }"
    res = await gql.as_(world.bob_token)(q, {"id": a["id"]})
    assert res.data["account"] == {
        "name": "Zylker Corp",
        "contacts": {"nodes": [{"name": "Melissa Doe"}]},
    }
    res = await gql.as_(world.bob_token)(q, {"id": gid("Account", 999)})
    assert res.data["account"] is None


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"name": ""}, [("name", "REQUIRED")]),
        ({"name": "  "}, [("name", "REQUIRED")]),
        ({"name": "n" * 201}, [("name", "TOO_LONG")]),
        ({"name": "Ok", "website": "javascript:alert(1)"}, [("website", "INVALID")]),
        ({"name": "Ok", "website": "ftp://files.example"}, [("website", "INVALID")]),
        ({"name": "Ok", "website": "https://" + "w" * 500}, [("website", "TOO_LONG")]),
        ({"name": "Ok", "email": "a@b"}, [("email", "INVALID_EMAIL")]),
        ({"name": "Ok", "email": "a@b.com\r\nBcc: c@d.com"}, [("email", "INVALID_EMAIL")]),
        ({"name": "Ok", "email": LONG_EMAIL}, [("email", "TOO_LONG")]),
        ({"name": "Ok", "phone": "9" * 41}, [("phone", "TOO_LONG")]),
        ({"name": "Ok", "description": "d" * 100_001}, [("description", "TOO_LONG")]),
        ({"name": "Ok", "ownerId": "!!"}, [("ownerId", "INVALID")]),
        ({"name": "Ok", "ownerId": gid("Agent", 999)}, [("ownerId", "NOT_FOUND")]),
        ({"name": "Ok", "productIds": [gid("Ticket", 1)]}, [("productIds", "INVALID")]),
        ({"name": "Ok", "productIds": [gid("Product", 999)]}, [("productIds", "NOT_FOUND")]),
    ],
)
async def test_account_create_refuses_bad_input(
    gql: GQLClient, world: World, fields: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    before = await counts()
    res = await gql.as_(world.alice_token)(ACCOUNT_CREATE, {"input": fields})
    payload = res.data["accountCreate"]
    assert codes(payload) == expected
    assert payload["account"] is None
    assert await counts() == before


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"name": None}, [("name", "REQUIRED")]),
        ({"website": "javascript:alert(1)"}, [("website", "INVALID")]),
        ({"email": "not-an-email"}, [("email", "INVALID_EMAIL")]),
        ({"id": gid("Account", 999), "name": "X"}, [("id", "NOT_FOUND")]),
        ({"id": gid("Ticket", 1), "name": "X"}, [("id", "INVALID")]),
    ],
)
async def test_account_update_refuses_bad_input(
    gql: GQLClient, world: World, fields: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    account = await models.Account.create(name="Zylker", website="https://zylker.example")
    before = await counts()
    res = await gql.as_(world.alice_token)(
        ACCOUNT_UPDATE, {"input": {"id": gid("Account", account.id), **fields}}
    )
    assert codes(res.data["accountUpdate"]) == expected
    assert await counts() == before
    row = await models.Account.get(id=account.id)
    assert (row.name, row.website, row.email) == ("Zylker", "https://zylker.example", "")


async def test_account_delete_unlinks_contacts_and_tickets(gql: GQLClient, world: World) -> None:
    account = await models.Account.create(name="Zylker")
    product = await models.Product.create(name="Desk")
    await models.AccountProduct.create(account_id=account.id, product_id=product.id)
    await models.Contact.filter(id=world.contact.id).update(account_id=account.id)
    other = await models.Contact.create(last_name="Other", account_id=account.id)
    ticket = await make_ticket(world, world.contact)
    assert ticket.account_id == account.id  # type: ignore[attr-defined]
    res = await gql.as_(world.alice_token)(ACCOUNT_DELETE, {"id": gid("Account", account.id)})
    payload = res.data["accountDelete"]
    assert payload["errors"] == []
    assert payload["account"]["name"] == "Zylker"
    assert payload["account"]["id"] == gid("Account", account.id)
    assert not await models.Account.exists(id=account.id)
    assert await models.Contact.filter(account_id__isnull=True).count() == 2
    fresh = await models.Ticket.get(id=ticket.id)
    assert fresh.account_id is None  # type: ignore[attr-defined]
    assert fresh.version == ticket.version + 1
    assert await models.AccountProduct.all().count() == 0
    assert await models.Product.exists(id=product.id)
    deleted = await models.Activity.get(kind="account.deleted")
    assert deleted.account_id == account.id
    assert deleted.changes == {"name": "Zylker", "contactsUnlinked": 2, "ticketsUnlinked": 1}
    side = await models.Activity.filter(kind__in=["contact.updated", "ticket.updated"]).order_by(
        "kind", "subject_id"
    )
    assert [(a.kind, a.subject_id) for a in side] == [
        ("contact.updated", world.contact.id),
        ("contact.updated", other.id),
        ("ticket.updated", ticket.id),
    ]
    assert all(a.changes == {"account_id": {"old": account.id, "new": None}} for a in side)
    assert side[2].ticket_id == ticket.id and side[2].department_id == world.support.id
    res = await gql.as_(world.alice_token)(ACCOUNT_DELETE, {"id": gid("Account", account.id)})
    assert codes(res.data["accountDelete"]) == [("id", "NOT_FOUND")]


async def test_accounts_list_filter_sort_and_pages(gql: GQLClient, world: World) -> None:
    base = datetime(2024, 1, 1, tzinfo=UTC)
    for i, name in enumerate(["beta Labs", "Acme", "Gamma Acme", "delta"]):
        row = await models.Account.create(name=name)
        await models.Account.filter(id=row.id).update(created_at=base - timedelta(days=i))
    alice = gql.as_(world.alice_token)
    res = await alice(ACCOUNTS)
    assert [n["name"] for n in res.data["accounts"]["nodes"]] == [
        "Acme",
        "beta Labs",
        "delta",
        "Gamma Acme",
    ]
    res = await alice(ACCOUNTS, {"sort": {"field": "CREATED_AT", "direction": "ASC"}})
    assert [n["name"] for n in res.data["accounts"]["nodes"]] == [
        "delta",
        "Gamma Acme",
        "Acme",
        "beta Labs",
    ]
    res = await alice(ACCOUNTS, {"sort": {"field": "NAME", "direction": "DESC"}, "first": 3})
    conn = res.data["accounts"]
    assert [n["name"] for n in conn["nodes"]] == ["Gamma Acme", "delta", "beta Labs"]
    assert conn["totalCount"] == 4 and conn["pageInfo"]["hasNextPage"] is True
    res = await alice(
        ACCOUNTS,
        {
            "sort": {"field": "NAME", "direction": "DESC"},
            "first": 3,
            "after": conn["pageInfo"]["endCursor"],
        },
    )
    assert [n["name"] for n in res.data["accounts"]["nodes"]] == ["Acme"]
    assert res.data["accounts"]["pageInfo"]["hasNextPage"] is False
    res = await alice(ACCOUNTS, {"filter": {"text": "acme"}})
    assert [n["name"] for n in res.data["accounts"]["nodes"]] == ["Acme", "Gamma Acme"]
    assert res.data["accounts"]["totalCount"] == 2


# --- products -----------------------------------------------------------------------------


async def test_product_create_update_delete(gql: GQLClient, world: World) -> None:
    alice = gql.as_(world.alice_token)
    res = await alice(
        PRODUCT_CREATE, {"input": {"name": "Zylker Desk", "code": "ZD-1", "description": "Help"}}
    )
    payload = res.data["productCreate"]
    assert payload["errors"] == []
    p = payload["product"]
    assert (p["name"], p["code"], p["description"]) == ("Zylker Desk", "ZD-1", "Help")
    row = await models.Product.get(name="Zylker Desk")
    act = await models.Activity.get(kind="product.created")
    assert act.subject_type == "Product" and act.subject_id == row.id
    assert act.changes == {"name": "Zylker Desk", "code": "ZD-1", "description": "Help"}

    res = await alice(PRODUCT_UPDATE, {"input": {"id": p["id"], "code": None}})
    p = res.data["productUpdate"]["product"]
    assert (p["name"], p["code"]) == ("Zylker Desk", "")
    act = await models.Activity.get(kind="product.updated")
    assert act.changes == {"code": {"old": "ZD-1", "new": ""}}
    # Renaming to its own name in another case is not a duplicate.
    res = await alice(PRODUCT_UPDATE, {"input": {"id": p["id"], "name": "ZYLKER DESK"}})
    assert res.data["productUpdate"]["product"]["name"] == "ZYLKER DESK"

    res = await gql.as_(world.bob_token)(PRODUCT_DELETE, {"id": p["id"]})
    assert res.data["productDelete"]["errors"] == []
    assert res.data["productDelete"]["product"]["name"] == "ZYLKER DESK"
    assert not await models.Product.exists(id=row.id)
    assert await models.Activity.filter(kind="product.deleted", subject_id=row.id).exists()


async def test_product_delete_unlinks_everything(gql: GQLClient, world: World) -> None:
    product = await models.Product.create(name="Desk")
    keep = await models.Product.create(name="CRM")
    account = await models.Account.create(name="Zylker")
    for pk in (product.id, keep.id):
        await models.ContactProduct.create(contact_id=world.contact.id, product_id=pk)
        await models.AccountProduct.create(account_id=account.id, product_id=pk)
    ticket = await make_ticket(world, world.contact, product_id=product.id)
    res = await gql.as_(world.alice_token)(PRODUCT_DELETE, {"id": gid("Product", product.id)})
    assert res.data["productDelete"]["errors"] == []
    fresh = await models.Ticket.get(id=ticket.id)
    assert fresh.product_id is None and fresh.version == ticket.version + 1  # type: ignore[attr-defined]
    assert await models.ContactProduct.all().values_list("product_id", flat=True) == [keep.id]
    assert await models.AccountProduct.all().values_list("product_id", flat=True) == [keep.id]
    deleted = await models.Activity.get(kind="product.deleted")
    assert deleted.changes == {
        "name": "Desk",
        "ticketsUnlinked": 1,
        "contactsUnlinked": 1,
        "accountsUnlinked": 1,
    }
    contact_act = await models.Activity.get(kind="contact.updated")
    assert contact_act.contact_id == world.contact.id
    assert contact_act.changes == {
        "product_ids": {"old": sorted([product.id, keep.id]), "new": [keep.id]}
    }
    account_act = await models.Activity.get(kind="account.updated")
    assert account_act.account_id == account.id
    ticket_act = await models.Activity.get(kind="ticket.updated", ticket_id=ticket.id)
    assert ticket_act.changes == {"product_id": {"old": product.id, "new": None}}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"name": ""}, [("name", "REQUIRED")]),
        ({"name": "p" * 201}, [("name", "TOO_LONG")]),
        ({"name": "desk"}, [("name", "DUPLICATE")]),
        ({"name": " DESK "}, [("name", "DUPLICATE")]),
        ({"name": "Ok", "code": "c" * 61}, [("code", "TOO_LONG")]),
        ({"name": "Ok", "description": "d" * 100_001}, [("description", "TOO_LONG")]),
    ],
)
async def test_product_create_refuses_bad_input(
    gql: GQLClient, world: World, fields: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    await models.Product.create(name="Desk")
    before = await counts()
    res = await gql.as_(world.alice_token)(PRODUCT_CREATE, {"input": fields})
    assert codes(res.data["productCreate"]) == expected
    assert res.data["productCreate"]["product"] is None
    assert await counts() == before


async def test_product_update_refuses_bad_input(gql: GQLClient, world: World) -> None:
    desk = await models.Product.create(name="Desk")
    crm = await models.Product.create(name="CRM", code="C")
    before = await counts()
    alice = gql.as_(world.alice_token)
    for fields, expected in [
        ({"name": "desk"}, [("name", "DUPLICATE")]),
        ({"name": None}, [("name", "REQUIRED")]),
        ({"code": "c" * 61}, [("code", "TOO_LONG")]),
    ]:
        res = await alice(PRODUCT_UPDATE, {"input": {"id": gid("Product", crm.id), **fields}})
        assert codes(res.data["productUpdate"]) == expected, fields
    res = await alice(PRODUCT_UPDATE, {"input": {"id": gid("Product", 999), "name": "X"}})
    assert codes(res.data["productUpdate"]) == [("id", "NOT_FOUND")]
    res = await alice(PRODUCT_DELETE, {"id": gid("Contact", desk.id)})
    assert codes(res.data["productDelete"]) == [("id", "INVALID")]
    assert await counts() == before
    assert (await models.Product.get(id=crm.id)).name == "CRM"


async def test_products_list_and_lookup(gql: GQLClient, world: World) -> None:
    for name, code in [("zeta", "Z1"), ("Alpha", "A-77"), ("beta", "B2"), ("Gamma", "ABC")]:
        await models.Product.create(name=name, code=code)
    alice = gql.as_(world.alice_token)
    res = await alice(PRODUCTS, {"first": 3})
    conn = res.data["products"]
    assert [n["name"] for n in conn["nodes"]] == ["Alpha", "beta", "Gamma"]
    assert conn["totalCount"] == 4 and conn["pageInfo"]["hasNextPage"] is True
    res = await alice(PRODUCTS, {"first": 3, "after": conn["pageInfo"]["endCursor"]})
    assert [n["name"] for n in res.data["products"]["nodes"]] == ["zeta"]
    res = await alice(PRODUCTS, {"sort": {"field": "NAME", "direction": "DESC"}})
    assert [n["name"] for n in res.data["products"]["nodes"]] == ["zeta", "Gamma", "beta", "Alpha"]
    res = await alice(PRODUCTS, {"filter": {"text": "a"}})
    assert res.data["products"]["totalCount"] == 4
    res = await alice(PRODUCTS, {"filter": {"text": "abc"}})
    assert [n["name"] for n in res.data["products"]["nodes"]] == ["Gamma"]
    res = await alice(PRODUCTS, {"filter": {"text": "ETA"}})
    assert [n["name"] for n in res.data["products"]["nodes"]] == ["beta", "zeta"]
    row = await models.Product.get(name="beta")
    q = "query($id: ID!) { product(id: $id) { name code } }"
    res = await alice(q, {"id": gid("Product", row.id)})
    assert res.data["product"] == {"name": "beta", "code": "B2"}
    res = await alice(q, {"id": gid("Product", 999)})
    assert res.data["product"] is None
    res = await alice(q, {"id": "garbage"})
    assert res.error_codes() == ["INVALID_ID"]


# --- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ contacts { totalCount } }", None),
        ("{ accounts { totalCount } }", None),
        ("{ products { totalCount } }", None),
        ('{ contact(id: "Q29udGFjdDox") { id } }', None),
        (CONTACT_CREATE, {"input": {"lastName": "Sneaky"}}),
        (CONTACT_UPDATE, {"input": {"id": "Q29udGFjdDox", "lastName": "Sneaky"}}),
        (CONTACT_DELETE, {"id": "Q29udGFjdDox"}),
        (ACCOUNT_CREATE, {"input": {"name": "Sneaky"}}),
        (ACCOUNT_DELETE, {"id": "QWNjb3VudDox"}),
        (PRODUCT_CREATE, {"input": {"name": "Sneaky"}}),
        (PRODUCT_DELETE, {"id": "UHJvZHVjdDox"}),
    ],
)
async def test_unauthenticated_requests_are_refused(
    gql: GQLClient, world: World, query: str, variables: dict[str, Any] | None
) -> None:
    await models.Account.create(name="Acme")
    await models.Product.create(name="Desk")
    before = await counts()
    res = await gql(query, variables)
    assert res.error_codes() == ["UNAUTHENTICATED"]
    assert await counts() == before
    res = await gql.as_("dq_not-a-real-token")(query, variables)
    assert res.error_codes() == ["UNAUTHENTICATED"]
    assert await counts() == before
