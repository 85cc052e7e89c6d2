"""Keyset cursors (issue 18): forward and backward pages for every ticket sort, stable under
concurrent inserts, signed cursors (tampered, of another list or sort), offset cursors handed
out before, `last` without `before`, the capped totalCount, and ORG-5 while paging."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
import strawberry

from deskql import models
from deskql.db import count_statements
from deskql.models.enums import TicketPriority, TicketStatus
from deskql.schema.connections import Connection, Edge, PageInfo
from deskql.schema.cursors import BadPagination, encode_cursor
from deskql.schema.page_request import add_backward_arguments
from deskql.server import create_app
from deskql.services.tickets import SORT_FIELDS
from deskql.settings import Settings
from tests.conftest import GQLClient, World, gid

PAGE = """
query Page($first: Int, $after: String, $last: Int, $before: String, $sort: TicketSort,
           $filter: TicketFilter) {
  tickets(first: $first, after: $after, last: $last, before: $before, sort: $sort,
          filter: $filter) {
    totalCount
    totalCountIsEstimate
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { number } }
  }
}
"""

# Every sort the API offers, with the column it orders by (the service's own table).
SORTS = SORT_FIELDS


async def seed(world: World, count: int = 11) -> list[models.Ticket]:
    """Tickets with ties and NULLs in every sortable column but number."""
    base = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    statuses = list(TicketStatus)
    priorities = list(TicketPriority)
    rows = []
    for i in range(count):
        row = await models.Ticket.create(
            number=100 + 2 * i,
            subject=f"Subject {i % 4}",
            department_id=world.support.id if i % 5 else world.sales.id,
            contact_id=world.contact.id if i % 2 == 0 else None,
            status=statuses[i % len(statuses)],
            priority=priorities[i % 3],
            # Every third has no due date; the others share dates pairwise.
            due_at=None if i % 3 == 0 else base + timedelta(days=i // 2),
        )
        rows.append(row)
    # Ties on created_at/updated_at too (auto_now would make them all distinct).
    for i, row in enumerate(rows):
        stamp = base - timedelta(hours=i // 2)
        await models.Ticket.filter(id=row.id).update(created_at=stamp, updated_at=stamp)
    return list(await models.Ticket.all())


def expected(rows: list[models.Ticket], column: str, desc: bool) -> list[int]:
    """Numbers in the documented order: the column (NULLs high), then id, same direction."""

    def key(row: models.Ticket) -> tuple[Any, ...]:
        value = getattr(row, column)
        value = getattr(value, "value", value)
        return (value is None, value if value is not None else 0, row.id)

    return [r.number for r in sorted(rows, key=key, reverse=desc)]


async def walk_forward(run: Any, sort: dict[str, str], size: int) -> list[int]:
    numbers: list[int] = []
    after = None
    for _ in range(50):
        res = await run(PAGE, {"first": size, "after": after, "sort": sort})
        assert res.errors == [], res.errors
        conn = res.data["tickets"]
        numbers += [e["node"]["number"] for e in conn["edges"]]
        assert conn["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not conn["pageInfo"]["hasNextPage"]:
            return numbers
        after = conn["pageInfo"]["endCursor"]
    raise AssertionError("no last page")


async def walk_backward(run: Any, sort: dict[str, str], size: int) -> list[int]:
    numbers: list[int] = []
    before = None
    for _ in range(50):
        res = await run(PAGE, {"last": size, "before": before, "sort": sort})
        assert res.errors == [], res.errors
        conn = res.data["tickets"]
        numbers = [e["node"]["number"] for e in conn["edges"]] + numbers
        assert conn["pageInfo"]["hasNextPage"] is (before is not None)
        if not conn["pageInfo"]["hasPreviousPage"]:
            return numbers
        before = conn["pageInfo"]["startCursor"]
    raise AssertionError("no first page")


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
@pytest.mark.parametrize("field", sorted(SORTS))
async def test_every_sort_pages_forward_and_backward(
    gql: GQLClient, world: World, field: str, direction: str
) -> None:
    rows = await seed(world)
    want = expected(rows, SORTS[field], direction == "DESC")
    run = gql.as_(world.admin_token)
    sort = {"field": field, "direction": direction}
    assert await walk_forward(run, sort, 3) == want
    assert await walk_backward(run, sort, 4) == want
    # One page of everything: the same order as the pages.
    res = await run(PAGE, {"first": 100, "sort": sort})
    assert [e["node"]["number"] for e in res.data["tickets"]["edges"]] == want


async def test_nulls_sort_high_on_due_at(gql: GQLClient, world: World) -> None:
    rows = await seed(world)
    undated = {r.number for r in rows if r.due_at is None}
    run = gql.as_(world.admin_token)
    asc = await walk_forward(run, {"field": "DUE_AT", "direction": "ASC"}, 2)
    desc = await walk_forward(run, {"field": "DUE_AT", "direction": "DESC"}, 2)
    assert set(asc[-len(undated) :]) == undated
    assert set(desc[: len(undated)]) == undated


async def test_pages_are_stable_under_concurrent_inserts(gql: GQLClient, world: World) -> None:
    rows = await seed(world)
    run = gql.as_(world.admin_token)
    sort = {"field": "NUMBER", "direction": "ASC"}
    res = await run(PAGE, {"first": 3, "sort": sort})
    first = [e["node"]["number"] for e in res.data["tickets"]["edges"]]
    assert first == [100, 102, 104]
    # Between pages: one ticket sorts before the cursor, one after it.
    for number in (101, 111):
        await models.Ticket.create(number=number, subject="New", department_id=world.support.id)
    after = res.data["tickets"]["pageInfo"]["endCursor"]
    rest: list[int] = []
    while after:
        res = await run(PAGE, {"first": 3, "after": after, "sort": sort})
        conn = res.data["tickets"]
        rest += [e["node"]["number"] for e in conn["edges"]]
        after = conn["pageInfo"]["endCursor"] if conn["pageInfo"]["hasNextPage"] else None
    seen = first + rest
    assert len(seen) == len(set(seen)), "a row was returned twice"
    assert 111 in rest and 101 not in seen
    assert set(seen) == {r.number for r in rows} | {111}
    # The same walk with offset cursors (what every list did before) repeats a row.
    res = await run(PAGE, {"first": 3, "after": encode_cursor(2), "sort": sort})
    assert [e["node"]["number"] for e in res.data["tickets"]["edges"]] == [104, 106, 108]


async def test_backward_pages_are_stable_under_concurrent_inserts(
    gql: GQLClient, world: World
) -> None:
    await seed(world, 6)
    run = gql.as_(world.admin_token)
    sort = {"field": "NUMBER", "direction": "ASC"}
    res = await run(PAGE, {"last": 2, "sort": sort})
    assert [e["node"]["number"] for e in res.data["tickets"]["edges"]] == [108, 110]
    await models.Ticket.create(number=109, subject="New", department_id=world.support.id)
    await models.Ticket.create(number=103, subject="New", department_id=world.support.id)
    before = res.data["tickets"]["pageInfo"]["startCursor"]
    res = await run(PAGE, {"last": 3, "before": before, "sort": sort})
    assert [e["node"]["number"] for e in res.data["tickets"]["edges"]] == [103, 104, 106]
    assert res.data["tickets"]["pageInfo"]["hasPreviousPage"] is True


async def test_last_without_before_is_the_last_page(gql: GQLClient, world: World) -> None:
    rows = await seed(world)
    run = gql.as_(world.admin_token)
    want = expected(rows, "created_at", True)
    res = await run(PAGE, {"last": 4})
    conn = res.data["tickets"]
    assert [e["node"]["number"] for e in conn["edges"]] == want[-4:]
    assert conn["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "startCursor": conn["edges"][0]["cursor"],
        "endCursor": conn["edges"][-1]["cursor"],
    }
    # Forward from the start of the last page gives its rest.
    res = await run(PAGE, {"first": 10, "after": conn["edges"][0]["cursor"]})
    assert [e["node"]["number"] for e in res.data["tickets"]["edges"]] == want[-3:]
    # Both first and last: refused.
    res = await run(PAGE, {"first": 2, "last": 2})
    assert res.error_codes() == ["BAD_PAGINATION"]
    res = await run(PAGE, {"last": 101})
    assert res.error_codes() == ["BAD_PAGINATION"]


def _tamper(cursor: str) -> str:
    body, _, mac = cursor[3:].partition(".")
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    raw = raw.replace(b'"values":[', b'"values":[1,', 1)[:-1] + b"]}"
    forged = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return f"k1.{forged}.{mac}"


async def test_tampered_and_malformed_cursors_are_invalid(gql: GQLClient, world: World) -> None:
    await seed(world, 5)
    run = gql.as_(world.admin_token)
    res = await run(PAGE, {"first": 2})
    cursor = res.data["tickets"]["pageInfo"]["endCursor"]
    assert cursor.startswith("k1.")
    for bad in (_tamper(cursor), cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB"), "nope"):
        for args in ({"first": 2, "after": bad}, {"last": 2, "before": bad}):
            res = await run(PAGE, args)
            assert res.error_codes() == ["INVALID_CURSOR"], (bad, res.errors)
            assert res.body.get("data") is None


async def test_cursor_of_another_list_or_sort_is_a_mismatch(gql: GQLClient, world: World) -> None:
    await seed(world, 5)
    run = gql.as_(world.admin_token)
    res = await run(PAGE, {"first": 2, "sort": {"field": "NUMBER", "direction": "ASC"}})
    by_number = res.data["tickets"]["pageInfo"]["endCursor"]
    for args in (
        {"first": 2, "after": by_number, "sort": {"field": "NUMBER", "direction": "DESC"}},
        {"first": 2, "after": by_number, "sort": {"field": "SUBJECT", "direction": "ASC"}},
        {"first": 2, "after": by_number},
        {"last": 2, "before": by_number},
    ):
        res = await run(PAGE, args)
        assert res.error_codes() == ["CURSOR_MISMATCH"], args
    await models.Contact.create(email="second@example.com", first_name="Ann", last_name="Second")
    contacts = """query($after: String) { contacts(first: 1, after: $after) {
      pageInfo { endCursor } edges { node { email } } } }"""
    res = await run(contacts)
    other = res.data["contacts"]["pageInfo"]["endCursor"]
    assert other.startswith("k1.")
    res = await run(PAGE, {"first": 2, "after": other})
    assert res.error_codes() == ["CURSOR_MISMATCH"]
    assert "Query.contacts" in res.errors[0]["message"]
    # The contacts list takes it.
    res = await run(contacts, {"after": other})
    assert res.errors == [] and len(res.data["contacts"]["edges"]) == 1


async def test_offset_cursors_handed_out_before_still_page(gql: GQLClient, world: World) -> None:
    rows = await seed(world)
    want = expected(rows, "created_at", True)
    run = gql.as_(world.admin_token)
    res = await run(PAGE, {"first": 3, "after": encode_cursor(2)})
    conn = res.data["tickets"]
    assert [e["node"]["number"] for e in conn["edges"]] == want[3:6]
    assert conn["pageInfo"]["hasPreviousPage"] is True
    # Its cursors are keyset cursors now, and continue where it ended.
    res = await run(PAGE, {"first": 3, "after": conn["pageInfo"]["endCursor"]})
    assert [e["node"]["number"] for e in res.data["tickets"]["edges"]] == want[6:9]
    res = await run(PAGE, {"last": 2, "before": encode_cursor(5)})
    assert [e["node"]["number"] for e in res.data["tickets"]["edges"]] == want[3:5]


async def test_loaded_lists_take_last_and_before(gql: GQLClient, world: World) -> None:
    account = await models.Account.create(name="Zylker Corp")
    for name in ("P1", "P2", "P3"):
        product = await models.Product.create(name=name)
        await models.AccountProduct.create(account_id=account.id, product_id=product.id)
    query = """query($id: ID!) { account(id: $id) { products(last: 2) {
      totalCount pageInfo { hasPreviousPage } nodes { name } } } }"""
    res = await gql.as_(world.admin_token)(query, {"id": gid("Account", account.id)})
    conn = res.data["account"]["products"]
    assert [n["name"] for n in conn["nodes"]] == ["P2", "P3"]
    assert conn["totalCount"] == 3 and conn["pageInfo"]["hasPreviousPage"] is True


async def test_a_list_that_cannot_page_backward_refuses_last_and_before() -> None:
    """The guard every connection field gets (schema/page_request.py): a list that did not
    honour `last`/`before` (none of the API's lists today) refuses them, never ignores them."""

    @strawberry.type
    class Root:
        @strawberry.field
        def items(self, first: int | None = None, after: str | None = None) -> Connection[int]:
            edges = [Edge(cursor=encode_cursor(i), node=i) for i in range(first or 3)]
            info = PageInfo(
                has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None
            )
            return Connection(edges=edges, page_info=info, count_query=None, known_total=3)

    schema = strawberry.Schema(query=Root)
    add_backward_arguments(schema._schema)
    assert set(schema._schema.query_type.fields["items"].args) == {
        "first",
        "after",
        "last",
        "before",
    }
    for args in ("last: 1", f'before: "{encode_cursor(1)}"'):
        result = await schema.execute("{ items(" + args + ") { totalCount } }")
        assert result.data is None
        error = result.errors[0].original_error
        assert isinstance(error, BadPagination) and "forward only" in str(error)
    result = await schema.execute("{ items(first: 2) { totalCount nodes } }")
    assert result.errors is None and result.data == {"items": {"totalCount": 3, "nodes": [0, 1]}}


@pytest_asyncio.fixture
async def capped(clean_db: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(replace(clean_db, total_count_cap=4), manage_db=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_total_count_is_capped_and_says_so(capped: httpx.AsyncClient, world: World) -> None:
    await seed(world, 9)
    run = GQLClient(capped).as_(world.admin_token)
    with count_statements() as stmts:
        res = await run(PAGE, {"first": 2})
    assert res.data["tickets"]["totalCount"] == 4
    assert res.data["tickets"]["totalCountIsEstimate"] is True
    # One statement for both fields: a COUNT over at most cap+1 rows, in no order.
    counts = [q for q in stmts.sql if q.upper().startswith("SELECT COUNT")]
    assert len(counts) == 1, counts
    assert "LIMIT" in counts[0].upper() and "ORDER BY" not in counts[0].upper()
    # Under the cap: exact (two of the nine are Sales tickets).
    sales = {"departmentIds": [gid("Department", world.sales.id)]}
    res = await run(PAGE, {"first": 1, "filter": sales})
    assert (res.data["tickets"]["totalCount"], res.data["tickets"]["totalCountIsEstimate"]) == (
        2,
        False,
    )
    # Exactly at the cap is exact too.
    res = await run(PAGE, {"first": 1, "filter": {"status": ["OPEN"]}})
    count = await models.Ticket.filter(status=TicketStatus.OPEN).count()
    assert count <= 4
    assert res.data["tickets"]["totalCount"] == count
    assert res.data["tickets"]["totalCountIsEstimate"] is False


async def test_total_count_uncapped_by_default(gql: GQLClient, world: World) -> None:
    await seed(world, 9)
    res = await gql.as_(world.admin_token)(PAGE, {"first": 2})
    assert res.data["tickets"]["totalCount"] == 9
    assert res.data["tickets"]["totalCountIsEstimate"] is False


async def test_an_agent_of_another_department_pages_only_their_tickets(
    gql: GQLClient, world: World
) -> None:
    rows = await seed(world)
    sales = [r for r in rows if r.department_id == world.sales.id]
    run = gql.as_(world.bob_token)
    sort = {"field": "NUMBER", "direction": "DESC"}
    want = expected(sales, "number", True)
    assert len(want) >= 2
    assert await walk_forward(run, sort, 1) == want
    assert await walk_backward(run, sort, 1) == want
    res = await run(PAGE, {"first": 1, "sort": sort})
    assert res.data["tickets"]["totalCount"] == len(want)
    # Alice's cursor into a Support ticket shows Bob nothing of hers.
    res = await gql.as_(world.alice_token)(PAGE, {"first": 1, "sort": sort})
    hers = res.data["tickets"]["edges"][0]
    assert hers["node"]["number"] not in want
    res = await run(PAGE, {"first": 10, "after": hers["cursor"], "sort": sort})
    assert {e["node"]["number"] for e in res.data["tickets"]["edges"]} <= set(want)


CONTACTS = """
query Page($first: Int, $after: String, $last: Int, $before: String, $sort: ContactSort) {
  contacts(first: $first, after: $after, last: $last, before: $before, sort: $sort) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { email } }
  }
}
"""


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
@pytest.mark.parametrize("field", ["NAME", "EMAIL", "CREATED_AT"])
async def test_contacts_sorted_by_lower_cased_columns_page_both_ways(
    gql: GQLClient, world: World, field: str, direction: str
) -> None:
    people = [
        ("Ann", "doe", "b@example.com"),
        ("ann", "Doe", None),
        ("Bea", "Abel", "A@example.com"),
        ("Cy", "zed", None),
        ("Dan", "DOE", "c@example.com"),
        ("Eve", "Abel", "a2@example.com"),
    ]
    for first_name, last_name, email in people:
        await models.Contact.create(first_name=first_name, last_name=last_name, email=email)
    rows = list(await models.Contact.all())

    def key(row: models.Contact) -> tuple[Any, ...]:
        if field == "NAME":
            return (False, (row.last_name.lower(), row.first_name.lower()), row.id)
        if field == "EMAIL":
            return (row.email is None, (row.email or "").lower(), row.id)
        return (False, row.created_at, row.id)

    want = [r.id for r in sorted(rows, key=key, reverse=direction == "DESC")]
    by_email = {r.id: r.email for r in rows}
    run = gql.as_(world.admin_token)
    sort = {"field": field, "direction": direction}
    # Emails are not unique here (NULLs): compare by position through the expected ids' emails.
    forward: list[str | None] = []
    after = None
    while True:
        res = await run(CONTACTS, {"first": 2, "after": after, "sort": sort})
        assert res.errors == [], res.errors
        conn = res.data["contacts"]
        forward += [e["node"]["email"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    backward: list[str | None] = []
    before = None
    while True:
        res = await run(CONTACTS, {"last": 3, "before": before, "sort": sort})
        assert res.errors == [], res.errors
        conn = res.data["contacts"]
        backward = [e["node"]["email"] for e in conn["edges"]] + backward
        if not conn["pageInfo"]["hasPreviousPage"]:
            break
        before = conn["pageInfo"]["startCursor"]
    expected_emails = [by_email[i] for i in want]
    assert forward == expected_emails
    assert backward == expected_emails
