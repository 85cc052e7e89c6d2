"""Keyset cursors on lists already loaded (issue 18, schema/loaded_pages.py): a ticket's
threads, comments, attachments, activities, merged and split tickets; an account's and a
contact's products; a department's agents and a team's members; `ticketViews`. Each pages
forward and backward, finds its place by value when items come or go ahead of the cursor,
refuses cursors of other lists and tampered ones, and still takes offset cursors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from deskql import models
from deskql.models.enums import ThreadDirection
from deskql.schema.cursors import encode_cursor
from tests.conftest import GQLClient, World, gid

THREADS = """
query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  ticket(id: $id) {
    threads(first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { subject } }
    }
  }
}
"""

PRODUCTS = """
query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  account(id: $id) {
    products(first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      nodes { name }
    }
  }
}
"""

VIEWS = """
query($first: Int, $after: String, $last: Int, $before: String) {
  ticketViews(first: $first, after: $after, last: $last, before: $before) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { id name }
  }
}
"""

MERGED = """
query($id: ID!, $last: Int, $before: String) {
  ticket(id: $id) {
    mergedTickets(last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      nodes { number }
    }
  }
}
"""


async def _ticket_with_threads(world: World, count: int) -> models.Ticket:
    ticket = await models.Ticket.create(
        number=500, subject="Printer", department_id=world.support.id
    )
    for i in range(count):
        await models.Thread.create(
            ticket_id=ticket.id,
            direction=ThreadDirection.INCOMING,
            from_address="melissa@example.com",
            to_addresses="support@example.com",
            subject=f"t{i}",
            body_text="x",
        )
    return ticket


def _conn(res: Any, *path: str) -> Any:
    assert res.errors == [], res.errors
    data = res.data
    for step in path:
        data = data[step]
    return data


async def _walk(
    run: Any,
    query: str,
    variables: dict[str, Any],
    path: tuple[str, ...],
    size: int,
    *,
    backward: bool = False,
    name: Any = None,
) -> list[str]:
    name = name or (lambda conn: [e["node"]["subject"] for e in conn["edges"]])
    seen: list[str] = []
    cursor = None
    for _ in range(30):
        if backward:
            page = {"last": size, "before": cursor}
        else:
            page = {"first": size, "after": cursor}
        conn = _conn(await run(query, {**variables, **page}), *path)
        info = conn["pageInfo"]
        if backward:
            seen = name(conn) + seen
            assert info["hasNextPage"] is (cursor is not None)
            if not info["hasPreviousPage"]:
                return seen
            cursor = info["startCursor"]
        else:
            seen += name(conn)
            assert info["hasPreviousPage"] is (cursor is not None)
            if not info["hasNextPage"]:
                return seen
            cursor = info["endCursor"]
    raise AssertionError("no end")


async def test_threads_page_forward_and_backward_by_keyset(gql: GQLClient, world: World) -> None:
    ticket = await _ticket_with_threads(world, 7)
    run = gql.as_(world.admin_token)
    want = [f"t{i}" for i in range(7)]
    variables = {"id": gid("Ticket", ticket.id)}
    path = ("ticket", "threads")
    assert await _walk(run, THREADS, variables, path, 3) == want
    assert await _walk(run, THREADS, variables, path, 2, backward=True) == want
    # `last` without `before`: the last page; each cursor is a signed keyset cursor.
    conn = _conn(await run(THREADS, {**variables, "last": 2}), *path)
    assert [e["node"]["subject"] for e in conn["edges"]] == ["t5", "t6"]
    assert conn["pageInfo"]["hasPreviousPage"] is True and conn["totalCount"] == 7
    assert all(e["cursor"].startswith("k1.") for e in conn["edges"])
    # Between two cursors, both ways.
    first = _conn(await run(THREADS, {**variables, "first": 7}), *path)["edges"]
    after, before = first[1]["cursor"], first[5]["cursor"]
    for page in ({"first": 10}, {"last": 10}):
        conn = _conn(
            await run(THREADS, {**variables, **page, "after": after, "before": before}), *path
        )
        assert [e["node"]["subject"] for e in conn["edges"]] == ["t2", "t3", "t4"]
        assert conn["pageInfo"]["hasNextPage"] is True
        assert conn["pageInfo"]["hasPreviousPage"] is True


async def test_removed_items_ahead_of_the_cursor_do_not_shift_the_page(
    gql: GQLClient, world: World
) -> None:
    ticket = await _ticket_with_threads(world, 7)
    run = gql.as_(world.admin_token)
    variables = {"id": gid("Ticket", ticket.id), "first": 3}
    path = ("ticket", "threads")
    page1 = _conn(await run(THREADS, variables), *path)
    threads = await models.Thread.filter(ticket_id=ticket.id).order_by("id")
    # t0 is deleted meanwhile (a position would now skip t3), and so is the cursor's own t2.
    await models.Thread.filter(id__in=[threads[0].id, threads[2].id]).delete()
    conn = _conn(await run(THREADS, {**variables, "after": page1["pageInfo"]["endCursor"]}), *path)
    assert [e["node"]["subject"] for e in conn["edges"]] == ["t3", "t4", "t5"]
    assert conn["pageInfo"]["hasPreviousPage"] is True and conn["totalCount"] == 5
    # Backward from t3's cursor: what remains before it.
    before = conn["edges"][0]["cursor"]
    conn = _conn(await run(THREADS, {"id": variables["id"], "last": 5, "before": before}), *path)
    assert [e["node"]["subject"] for e in conn["edges"]] == ["t1"]
    assert conn["pageInfo"]["hasPreviousPage"] is False


async def test_products_linked_ahead_of_the_cursor_are_not_seen_twice(
    gql: GQLClient, world: World
) -> None:
    account = await models.Account.create(name="Zylker Corp")
    products = [await models.Product.create(name=f"P{i}") for i in range(6)]
    for product in products[1:]:
        await models.AccountProduct.create(account_id=account.id, product_id=product.id)
    run = gql.as_(world.admin_token)
    variables = {"id": gid("Account", account.id)}
    path = ("account", "products")
    page1 = _conn(await run(PRODUCTS, {**variables, "first": 2}), *path)
    assert [n["name"] for n in page1["nodes"]] == ["P1", "P2"]
    # P0 (a lower id) is linked meanwhile: it lands ahead of the cursor.
    await models.AccountProduct.create(account_id=account.id, product_id=products[0].id)
    cursor = page1["pageInfo"]["endCursor"]
    page2 = _conn(await run(PRODUCTS, {**variables, "first": 2, "after": cursor}), *path)
    assert [n["name"] for n in page2["nodes"]] == ["P3", "P4"]
    assert page2["totalCount"] == 6
    # The whole list backward, then an old offset cursor (position 1) still pages by position.
    names = await _walk(
        run,
        PRODUCTS,
        variables,
        path,
        4,
        backward=True,
        name=lambda c: [n["name"] for n in c["nodes"]],
    )
    assert names == [f"P{i}" for i in range(6)]
    conn = _conn(await run(PRODUCTS, {**variables, "first": 2, "after": encode_cursor(1)}), *path)
    assert [n["name"] for n in conn["nodes"]] == ["P2", "P3"]
    conn = _conn(await run(PRODUCTS, {**variables, "last": 2, "before": encode_cursor(4)}), *path)
    assert [n["name"] for n in conn["nodes"]] == ["P2", "P3"]


async def test_cursors_of_another_list_tampered_or_malformed_are_refused(
    gql: GQLClient, world: World
) -> None:
    ticket = await _ticket_with_threads(world, 3)
    account = await models.Account.create(name="Zylker Corp")
    product = await models.Product.create(name="P")
    await models.AccountProduct.create(account_id=account.id, product_id=product.id)
    run = gql.as_(world.admin_token)
    threads = _conn(await run(THREADS, {"id": gid("Ticket", ticket.id)}), "ticket", "threads")
    cursor = threads["edges"][0]["cursor"]
    # A thread cursor given to an account's products: another list.
    res = await run(PRODUCTS, {"id": gid("Account", account.id), "after": cursor})
    assert res.error_codes() == ["CURSOR_MISMATCH"]
    assert "Ticket.threads" in res.errors[0]["message"]
    res = await run(VIEWS, {"before": cursor})
    assert res.error_codes() == ["CURSOR_MISMATCH"]
    # A ticket cursor (another sort of values) on a list of views.
    tickets = await run("{ tickets(first: 1) { edges { cursor } } }")
    res = await run(VIEWS, {"after": _conn(tickets, "tickets", "edges")[0]["cursor"]})
    assert res.error_codes() == ["CURSOR_MISMATCH"]
    # One character changed, or not a cursor at all.
    tampered = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    for bad in (tampered, "k1.garbage", "not a cursor"):
        res = await run(THREADS, {"id": gid("Ticket", ticket.id), "after": bad})
        assert res.error_codes() == ["INVALID_CURSOR"], bad
        assert res.body["data"] == {"ticket": None}
    # first and last together.
    res = await run(THREADS, {"id": gid("Ticket", ticket.id), "first": 1, "last": 1})
    assert res.error_codes() == ["BAD_PAGINATION"]


async def test_ticket_views_page_both_ways(gql: GQLClient, world: World) -> None:
    run = gql.as_(world.alice_token)
    for name in ("Mine urgent", "Team queue", "Escalations"):
        res = await run(
            """mutation($name: String!) { ticketViewCreate(input: {name: $name}) {
                 errors { code } } }""",
            {"name": name},
        )
        assert res.errors == [] and res.data["ticketViewCreate"]["errors"] == []
    whole = _conn(await run(VIEWS, {"first": 100}), "ticketViews")["nodes"]
    names = [n["name"] for n in whole]
    assert names[-3:] == ["Mine urgent", "Team queue", "Escalations"]

    def view_names(conn: Any) -> list[str]:
        return [n["name"] for n in conn["nodes"]]

    forward = await _walk(run, VIEWS, {}, ("ticketViews",), 4, name=view_names)
    backward = await _walk(run, VIEWS, {}, ("ticketViews",), 5, backward=True, name=view_names)
    assert forward == backward == names
    # A saved view deleted ahead of the cursor: the next page starts where it did.
    end = _conn(await run(VIEWS, {"first": len(names) - 2}), "ticketViews")["pageInfo"]
    await models.TicketView.filter(name="Mine urgent").delete()
    conn = _conn(await run(VIEWS, {"first": 5, "after": end["endCursor"]}), "ticketViews")
    assert view_names(conn) == ["Team queue", "Escalations"]


async def test_another_departments_agent_pages_only_the_tickets_it_may_see(
    gql: GQLClient, world: World
) -> None:
    target = await models.Ticket.create(
        number=900, subject="Target", department_id=world.support.id
    )
    for number in range(901, 907):
        # Every other merged ticket is Sales's: Alice (Support) never sees those.
        department = world.sales if number % 2 else world.support
        await models.Ticket.create(
            number=number, subject="m", department_id=department.id, merged_into_id=target.id
        )
    variables = {"id": gid("Ticket", target.id)}
    path = ("ticket", "mergedTickets")

    def numbers(conn: Any) -> list[int]:
        return [n["number"] for n in conn["nodes"]]

    admin = await _walk(
        gql.as_(world.admin_token), MERGED, variables, path, 2, backward=True, name=numbers
    )
    assert admin == list(range(901, 907))
    alice = gql.as_(world.alice_token)
    assert await _walk(alice, MERGED, variables, path, 2, backward=True, name=numbers) == [
        902,
        904,
        906,
    ]
    conn = _conn(await alice(MERGED, {**variables, "last": 1}), *path)
    assert numbers(conn) == [906] and conn["totalCount"] == 3


CONVERSATION = """
query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  ticket(id: $id) {
    conversation(first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      nodes { __typename ... on Thread { subject } ... on Comment { body } }
    }
  }
}
"""


async def test_conversation_pages_by_time_kind_and_id(gql: GQLClient, world: World) -> None:
    ticket = await _ticket_with_threads(world, 0)
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    # Messages and comments at shared times (messages first at a tie), one a microsecond on.
    for i in range(4):
        when = at + timedelta(minutes=i // 2, microseconds=1 if i == 3 else 0)
        await models.Thread.create(
            ticket_id=ticket.id,
            direction=ThreadDirection.INCOMING,
            from_address="melissa@example.com",
            to_addresses="support@example.com",
            subject=f"m{i}",
            body_text="x",
            created_at=when,
        )
        comment = await models.Comment.create(ticket_id=ticket.id, body=f"c{i}")
        await models.Comment.filter(id=comment.id).update(created_at=when)
    want = ["m0", "m1", "c0", "c1", "m2", "c2", "m3", "c3"]

    def items(conn: Any) -> list[str]:
        return [n.get("subject") or n.get("body") for n in conn["nodes"]]

    run = gql.as_(world.admin_token)
    variables = {"id": gid("Ticket", ticket.id)}
    path = ("ticket", "conversation")
    assert await _walk(run, CONVERSATION, variables, path, 3, name=items) == want
    assert await _walk(run, CONVERSATION, variables, path, 3, backward=True, name=items) == want
    # An earlier comment removed meanwhile does not shift the next page.
    page1 = _conn(await run(CONVERSATION, {**variables, "first": 3}), *path)
    await models.Comment.filter(body="c0").delete()
    page2 = _conn(
        await run(CONVERSATION, {**variables, "first": 3, "after": page1["pageInfo"]["endCursor"]}),
        *path,
    )
    assert items(page2) == ["c1", "m2", "c2"] and page2["totalCount"] == 7
    # An old offset cursor still pages by position.
    conn = _conn(
        await run(CONVERSATION, {**variables, "first": 2, "after": encode_cursor(0)}), *path
    )
    assert items(conn) == ["m1", "c1"]
