"""Duplicate contacts and accounts (CUS-5): normalisation, groups in SQL, pagination."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deskql import models
from deskql.db import count_statements
from deskql.services import customer_keys
from tests.conftest import GQLClient, World

GROUPS = """
query($field: ContactDuplicateField!, $first: Int, $after: String) {
  contactDuplicates(field: $field, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { key count contacts(first: 10) { totalCount nodes { id email } } }
  }
}
"""
ACCOUNT_GROUPS = """
query($field: AccountDuplicateField!) {
  accountDuplicates(field: $field) { totalCount nodes { key count accounts { nodes { name } } } }
}
"""


@pytest.fixture
def polish() -> Iterator[None]:
    before = customer_keys.region()
    customer_keys.configure("PL")
    yield
    customer_keys.configure(before)


def test_keys_normalise_case_space_unicode_and_phones(polish: None) -> None:
    assert customer_keys.text_key("  MELISSA  ") == customer_keys.text_key("melissa")
    # NFKC: a ligature and full-width letters are the plain ones.
    assert customer_keys.text_key("ﬁona") == customer_keys.text_key("FIONA")
    assert customer_keys.text_key("Ｍelissa") == "melissa"
    assert customer_keys.phone_key("+48 600 100 200") == customer_keys.phone_key("600-100-200")
    assert customer_keys.phone_key("(600) 100.200") == "+48600100200"
    assert customer_keys.phone_key("+1 650 253 0000") != customer_keys.phone_key("600100200")
    assert customer_keys.phone_key("   ") == ""


async def test_contact_duplicates_by_each_field(world: World, gql: GQLClient, polish: None) -> None:
    admin = gql.as_(world.admin_token)
    a = await models.Contact.create(
        first_name="Melissa", last_name="Doe ", email="m1@example.com", phone="+48 600 100 200"
    )
    b = await models.Contact.create(
        first_name=" MELISSA", last_name="doe", email="m2@example.com", phone="600-100-200"
    )
    c = await models.Contact.create(
        first_name="Mélissa",
        last_name="Other",
        email="m3@example.com",
        secondary_email="M1@Example.com",
        mobile="600 100 200",
    )
    result = await admin(GROUPS, {"field": "FULL_NAME"})
    data = result.data["contactDuplicates"]
    assert data["totalCount"] == 1
    (group,) = data["nodes"]
    # world.contact is Melissa Doe too.
    assert group["key"] == "melissa doe" and group["count"] == 3
    assert {n["email"] for n in group["contacts"]["nodes"]} == {
        "m1@example.com",
        "m2@example.com",
        "melissa@example.com",
    }

    first = (await admin(GROUPS, {"field": "FIRST_NAME"})).data["contactDuplicates"]["nodes"]
    assert [(g["key"], g["count"]) for g in first] == [("melissa", 3)]  # Mélissa differs

    phone = (await admin(GROUPS, {"field": "PHONE"})).data["contactDuplicates"]["nodes"]
    assert [(g["key"], g["count"]) for g in phone] == [("+48600100200", 3)]

    either = (await admin(GROUPS, {"field": "EMAIL_OR_SECONDARY"})).data["contactDuplicates"]
    assert [(g["key"], g["count"]) for g in either["nodes"]] == [("m1@example.com", 2)]
    ids = {n["id"] for n in either["nodes"][0]["contacts"]["nodes"]}
    assert len(ids) == 2 and a.id != c.id

    assert (await admin(GROUPS, {"field": "EMAIL"})).data["contactDuplicates"]["totalCount"] == 0
    assert (await admin(GROUPS, {"field": "SECONDARY_EMAIL"})).data["contactDuplicates"][
        "nodes"
    ] == []
    # An update rewrites the keys: b is no longer a Doe.
    await admin(
        'mutation($id: ID!) { contactUpdate(input: {id: $id, lastName: "Smith"}) '
        "{ errors { code } } }",
        {"id": _gid("Contact", b.id)},
    )
    assert (await admin(GROUPS, {"field": "FULL_NAME"})).data["contactDuplicates"][
        "totalCount"
    ] == 1
    full = (await admin(GROUPS, {"field": "FULL_NAME"})).data["contactDuplicates"]["nodes"]
    assert full[0]["count"] == 2


def _gid(type_name: str, pk: int) -> str:
    from deskql.schema.ids import to_global_id

    return to_global_id(type_name, pk)


async def test_groups_and_members_paginate_in_constant_statements(
    world: World, gql: GQLClient
) -> None:
    # 30 groups of 3 contacts sharing a last name.
    for i in range(30):
        for j in range(3):
            await models.Contact.create(first_name=f"F{i}-{j}", last_name=f"Name{i:02d}")
    agent = gql.as_(world.bob_token)  # contacts are organisation-wide: any agent
    # The token's Actor cached first (services/auth_cache.py): every page counts the same
    # statements, none of them authentication.
    assert (await agent("{ __typename }")).data == {"__typename": "Query"}
    seen: list[str] = []
    after = None
    counts = []
    while True:
        with count_statements() as stmts:
            page = (await agent(GROUPS, {"field": "LAST_NAME", "first": 7, "after": after})).data
        counts.append(stmts.count)
        conn = page["contactDuplicates"]
        seen += [g["key"] for g in conn["nodes"]]
        assert all(len(g["contacts"]["nodes"]) == 3 for g in conn["nodes"])
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert seen == [f"name{i:02d}" for i in range(30)]
    # groups + COUNT + members (ids, rows): the same for a page of 7 groups as of 2.
    assert max(counts) == min(counts[:-1] or counts)


async def test_group_members_paginate(world: World, gql: GQLClient) -> None:
    for j in range(5):
        await models.Contact.create(first_name="Same", last_name=f"L{j}")
    query = """
    query($after: String) { contactDuplicates(field: FIRST_NAME) { nodes {
      contacts(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor }
        nodes { lastName } } } } }
    """
    admin = gql.as_(world.admin_token)
    names: list[str] = []
    after = None
    while True:
        group = (await admin(query, {"after": after})).data["contactDuplicates"]["nodes"][0]
        conn = group["contacts"]
        assert conn["totalCount"] == 5
        names += [n["lastName"] for n in conn["nodes"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert names == ["L0", "L1", "L2", "L3", "L4"]


async def test_account_duplicates(world: World, gql: GQLClient, polish: None) -> None:
    await models.Account.create(name="Zylker Corp", phone="+48 22 123 45 67")
    await models.Account.create(name="ZYLKER  corp ", phone="22 123 45 67", email="a@z.com")
    await models.Account.create(name="Other", email="A@Z.com ")
    admin = gql.as_(world.admin_token)
    for field, key, count in (
        ("NAME", "zylker corp", 2),
        ("PHONE", "+48221234567", 2),
        ("EMAIL", "a@z.com", 2),
    ):
        data = (await admin(ACCOUNT_GROUPS, {"field": field})).data["accountDuplicates"]
        assert [(g["key"], g["count"]) for g in data["nodes"]] == [(key, count)], field
        assert len(data["nodes"][0]["accounts"]["nodes"]) == count


async def test_duplicates_on_100000_contacts_finish_paginated(world: World, gql: GQLClient) -> None:
    from tortoise.connection import get_connection

    # 100,000 contacts in one statement (the seed is not under test): 40,000 last names
    # shared by two or three contacts; every 10th contact's secondary email is another's email.
    await get_connection("default").execute_script(
        """
        WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 100000)
        INSERT INTO contact (first_name, last_name, email, secondary_email, phone, mobile,
            description, first_name_key, last_name_key, full_name_key, email_key,
            secondary_email_key, phone_key, mobile_key, created_at, updated_at)
        SELECT 'F', 'Name' || (n % 40000), 'c' || n || '@example.com',
            CASE WHEN n % 10 = 0 THEN 'c' || (n + 1) || '@example.com' ELSE '' END, '', '', '',
            'f', 'name' || (n % 40000), 'f name' || (n % 40000), 'c' || n || '@example.com',
            CASE WHEN n % 10 = 0 THEN 'c' || (n + 1) || '@example.com' ELSE '' END, '', '',
            CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
        FROM g
        """
    )
    admin = gql.as_(world.admin_token)
    import time

    start = time.perf_counter()
    page = (await admin(GROUPS, {"field": "LAST_NAME", "first": 50})).data["contactDuplicates"]
    assert page["totalCount"] == 40000
    assert len(page["nodes"]) == 50 and page["pageInfo"]["hasNextPage"]
    assert all(g["count"] in (2, 3) for g in page["nodes"])
    assert all(len(g["contacts"]["nodes"]) == g["count"] for g in page["nodes"])
    nxt = await admin(
        GROUPS, {"field": "LAST_NAME", "first": 50, "after": page["pageInfo"]["endCursor"]}
    )
    keys = [g["key"] for g in page["nodes"]] + [
        g["key"] for g in nxt.data["contactDuplicates"]["nodes"]
    ]
    assert keys == sorted(keys) and len(set(keys)) == 100
    either = (await admin(GROUPS, {"field": "EMAIL_OR_SECONDARY", "first": 20})).data
    # Every 10th contact's secondary email is the next one's email (the last one's: nobody's).
    assert either["contactDuplicates"]["totalCount"] == 9999
    assert time.perf_counter() - start < 60


BOTH_WAYS = """
query($field: ContactDuplicateField!, $first: Int, $after: String, $last: Int,
      $before: String, $members: Int, $mafter: String, $mlast: Int, $mbefore: String) {
  contactDuplicates(field: $field, first: $first, after: $after, last: $last, before: $before) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { key contacts(first: $members, after: $mafter, last: $mlast, before: $mbefore) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      nodes { firstName } } }
  }
}
"""


async def test_groups_and_members_page_by_keyset_both_ways(world: World, gql: GQLClient) -> None:
    from deskql.schema.cursors import encode_cursor

    for i in range(1, 10):
        for j in range(2):
            await models.Contact.create(first_name=f"F{i}-{j}", last_name=f"Name{i}")
    admin = gql.as_(world.admin_token)
    want = [f"name{i}" for i in range(1, 10)]

    async def walk(backward: bool) -> list[str]:
        keys: list[str] = []
        cursor = None
        while True:
            args = {"last": 2, "before": cursor} if backward else {"first": 2, "after": cursor}
            res = await admin(BOTH_WAYS, {"field": "LAST_NAME", **args})
            conn = res.data["contactDuplicates"]
            page = [g["key"] for g in conn["nodes"]]
            keys = page + keys if backward else keys + page
            info = conn["pageInfo"]
            if not info["hasPreviousPage" if backward else "hasNextPage"]:
                return keys
            cursor = info["startCursor" if backward else "endCursor"]

    assert await walk(False) == want
    assert await walk(True) == want
    # A group that appears ahead of the cursor (a smaller key) does not shift the next page.
    page = (await admin(BOTH_WAYS, {"field": "LAST_NAME", "first": 3})).data["contactDuplicates"]
    for j in range(2):
        await models.Contact.create(first_name=f"A-{j}", last_name="Name0")
    cursor = page["pageInfo"]["endCursor"]
    res = await admin(BOTH_WAYS, {"field": "LAST_NAME", "first": 2, "after": cursor})
    assert [g["key"] for g in res.data["contactDuplicates"]["nodes"]] == ["name4", "name5"]
    # A cursor of another field's groups, a tampered one; an old offset cursor still pages.
    res = await admin(BOTH_WAYS, {"field": "FIRST_NAME", "after": cursor})
    assert res.error_codes() == ["CURSOR_MISMATCH"]
    res = await admin(BOTH_WAYS, {"field": "LAST_NAME", "after": cursor[:-3] + "abc"})
    assert res.error_codes() == ["INVALID_CURSOR"]
    res = await admin(BOTH_WAYS, {"field": "LAST_NAME", "first": 2, "after": encode_cursor(1)})
    assert [g["key"] for g in res.data["contactDuplicates"]["nodes"]] == ["name2", "name3"]
    res = await admin(BOTH_WAYS, {"field": "LAST_NAME", "last": 2, "before": encode_cursor(3)})
    assert res.error_codes() == ["CURSOR_MISMATCH"]
    # Members: the last one of each group, then the one before it.
    res = await admin(BOTH_WAYS, {"field": "LAST_NAME", "first": 2, "mlast": 1})
    groups = res.data["contactDuplicates"]["nodes"]
    assert [g["contacts"]["nodes"] for g in groups] == [
        [{"firstName": "A-1"}],
        [{"firstName": "F1-1"}],
    ]
    members = groups[0]["contacts"]
    assert members["totalCount"] == 2 and members["pageInfo"]["hasPreviousPage"] is True
    before = members["pageInfo"]["startCursor"]
    res = await admin(BOTH_WAYS, {"field": "LAST_NAME", "first": 1, "mlast": 5, "mbefore": before})
    members = res.data["contactDuplicates"]["nodes"][0]["contacts"]
    assert members["nodes"] == [{"firstName": "A-0"}]
    assert members["pageInfo"]["hasPreviousPage"] is False
    assert members["pageInfo"]["hasNextPage"] is True
