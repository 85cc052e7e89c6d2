"""`search` pages by keyset (issue 18, point 4): walks forward (`first`/`after`) and back
(`last`/`before`) give the one big page, a record indexed between two pages neither repeats
nor skips a hit, cursors are signed and tied to their search, and offset cursors handed out
before still page by position. On both stacks (SQLite FTS5, PostgreSQL)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from deskql.models.enums import TicketStatus
from deskql.schema.cursors import encode_cursor
from deskql.services import tickets
from deskql.services.auth import Actor
from deskql.services.search import statement
from tests.conftest import GQLClient, gid
from tests.search.conftest import Desk

PAGE = """
query($q: String!, $f: [SearchFacetInput!], $c: [SearchCriterion!], $letter: String,
      $first: Int, $after: String, $last: Int, $before: String) {
  search(query: $q, facets: $f, criteria: $c, letter: $letter, first: $first, after: $after,
         last: $last, before: $before) {
    totalCount
    facets { field values { value count } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { score node { id } } }
  }
}"""


async def _ticket(actor: Actor, dept: int, subject: str, body: str, **kw: Any) -> int:
    t = await tickets.create_ticket(
        actor,
        subject=subject,
        description=body,
        department_id=dept,
        contact_email="pager@example.com",
        **kw,
    )
    return t.id


async def _seed(desk: Desk) -> None:
    """14 Support and 4 Sales tickets with `widget`: varied scores, some ties."""
    w = desk.world
    for i in range(14):
        subject = "Widget broken" if i % 4 == 0 else f"Case {i}"
        body = " ".join(["widget"] * (1 + i % 3)) + f" text {i} filler words here"
        status = TicketStatus.ON_HOLD if i % 5 == 0 else TicketStatus.OPEN
        await _ticket(desk.alice, w.support.id, subject, body, status=status)
    for i in range(4):
        await _ticket(desk.bob, w.sales.id, f"Sales {i}", "widget for sales only")


async def _call(gql: GQLClient, token: str, q: str, **args: Any) -> dict[str, Any]:
    res = await gql.as_(token)(PAGE, {"q": q, **args})
    return res.data["search"]


def _ids(page: dict[str, Any]) -> list[str]:
    return [e["node"]["node"]["id"] for e in page["edges"]]


async def _forward(gql: GQLClient, token: str, q: str, size: int, **args: Any) -> list[str]:
    out: list[str] = []
    after = None
    for _ in range(100):
        page = await _call(gql, token, q, first=size, after=after, **args)
        out += _ids(page)
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            return out
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("the walk did not end")


async def _backward(gql: GQLClient, token: str, q: str, size: int, **args: Any) -> list[str]:
    out: list[str] = []
    before = None
    for _ in range(100):
        page = await _call(gql, token, q, last=size, before=before, **args)
        out = _ids(page) + out
        assert page["pageInfo"]["hasNextPage"] is (before is not None)
        if not page["pageInfo"]["hasPreviousPage"]:
            return out
        before = page["pageInfo"]["startCursor"]
    raise AssertionError("the walk did not end")


CASES: list[tuple[str, dict[str, Any]]] = [
    ("widget", {}),
    ("widget", {"f": [{"field": "STATUS", "values": ["OPEN"]}]}),
    (
        "",
        {"c": [{"module": "TICKETS", "field": "subject", "operator": "CONTAINS", "values": ["a"]}]},
    ),
    ("", {"letter": "M"}),
]


@pytest.mark.parametrize("candidates", [500, 4])
async def test_walks_forward_and_back_equal_one_big_page(
    gql: GQLClient, desk: Desk, monkeypatch: pytest.MonkeyPatch, candidates: int
) -> None:
    # 4 candidates: the ranked tier and the newest-first rest (score 0) are both walked.
    monkeypatch.setattr(statement, "CANDIDATES", candidates)
    await _seed(desk)
    w = desk.world
    jump = f"#{desk.yellow.number} widget"
    for token in (w.admin_token, w.alice_token):
        for q, args in [*CASES, (jump, {})]:
            big = await _call(gql, token, q, first=100, **args)
            want = _ids(big)
            assert len(want) == big["totalCount"] and (want or args.get("letter")), (q, args)
            assert len(set(want)) == len(want)
            for size in (1, 3, 5):
                assert await _forward(gql, token, q, size, **args) == want, (q, args, size)
                assert await _backward(gql, token, q, size, **args) == want, (q, args, size)
            if q == jump:
                assert want[0] == gid("Ticket", desk.yellow.id)


async def test_org5_agent_pages_only_visible_hits(gql: GQLClient, desk: Desk) -> None:
    await _seed(desk)
    w = desk.world
    admin = _ids(await _call(gql, w.admin_token, "widget", first=100))
    alice = _ids(await _call(gql, w.alice_token, "widget", first=100))
    assert len(admin) == 18 and len(alice) == 14
    assert [i for i in admin if i in alice] == alice  # the same order, Sales left out
    assert await _forward(gql, w.alice_token, "widget", 4) == alice
    assert await _backward(gql, w.alice_token, "widget", 4) == alice
    # An administrator's cursor pages alice's search without revealing a Sales hit.
    cursor = (await _call(gql, w.admin_token, "widget", first=2))["pageInfo"]["endCursor"]
    rest = _ids(await _call(gql, w.alice_token, "widget", first=100, after=cursor))
    assert set(rest) <= set(alice)


@pytest.mark.parametrize("candidates", [500, 4])
async def test_a_record_indexed_between_pages_neither_repeats_nor_skips(
    gql: GQLClient, desk: Desk, monkeypatch: pytest.MonkeyPatch, candidates: int
) -> None:
    monkeypatch.setattr(statement, "CANDIDATES", candidates)
    await _seed(desk)
    w = desk.world
    want = _ids(await _call(gql, w.admin_token, "widget", first=100))
    for size in (3, 7):
        seen: list[str] = []
        after = None
        added: list[str] = []
        for _ in range(30):
            page = await _call(gql, w.admin_token, "widget", first=size, after=after)
            seen += _ids(page)
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
            # A new ticket ranked first (the word in its subject, three times in its body).
            new = await _ticket(desk.alice, w.support.id, "Widget widget", "widget widget widget")
            added.append(gid("Ticket", new))
        old = [i for i in seen if i not in added]
        assert old == want, size  # every earlier hit once, in the same order
        assert len(set(seen)) == len(seen)
        want = _ids(await _call(gql, w.admin_token, "widget", first=100))


async def test_cursors_are_signed_and_tied_to_their_search(gql: GQLClient, desk: Desk) -> None:
    await _seed(desk)
    token = desk.world.admin_token
    page = await _call(gql, token, "widget", first=3)
    cursor = page["pageInfo"]["endCursor"]
    assert cursor.startswith("k1.")
    body, _, mac = cursor[3:].partition(".")
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    forged = base64.urlsafe_b64encode(raw.replace(b'"values":[0', b'"values":[1', 1))
    tampered = f"k1.{forged.decode().rstrip('=')}.{mac}"
    for bad in (tampered, cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB"), "k1.x.y"):
        for args in ({"first": 2, "after": bad}, {"last": 2, "before": bad}):
            res = await gql.as_(token)(PAGE, {"q": "widget", **args})
            assert res.error_codes() == ["INVALID_CURSOR"], (bad, res.errors)
    others: list[dict[str, Any]] = [
        {"q": "widget broken"},
        {"q": "widget", "f": [{"field": "STATUS", "values": ["OPEN"]}]},
        {"q": "", "letter": "M"},
    ]
    for other in others:
        res = await gql.as_(token)(PAGE, {**other, "first": 2, "after": cursor})
        assert res.error_codes() == ["CURSOR_MISMATCH"], other
    tickets_cursor = await gql.as_(token)("{ tickets(first: 1) { pageInfo { endCursor } } }")
    other_list = tickets_cursor.data["tickets"]["pageInfo"]["endCursor"]
    res = await gql.as_(token)(PAGE, {"q": "widget", "first": 2, "after": other_list})
    assert res.error_codes() == ["CURSOR_MISMATCH"]
    res = await gql.as_(token)(
        PAGE, {"q": "widget", "first": 2, "after": cursor, "before": encode_cursor(3)}
    )
    assert res.error_codes() == ["BAD_PAGINATION"]


async def test_offset_cursors_handed_out_before_still_page(gql: GQLClient, desk: Desk) -> None:
    await _seed(desk)
    token = desk.world.admin_token
    want = _ids(await _call(gql, token, "widget", first=100))
    page = await _call(gql, token, "widget", first=4, after=encode_cursor(2))
    assert _ids(page) == want[3:7] and page["pageInfo"]["hasPreviousPage"]
    # Its cursors are keyset cursors, and continue where it ended.
    rest = await _call(gql, token, "widget", first=4, after=page["pageInfo"]["endCursor"])
    assert _ids(rest) == want[7:11]
    back = await _call(gql, token, "widget", last=3, before=encode_cursor(6))
    assert _ids(back) == want[3:6] and back["pageInfo"]["hasNextPage"]
    jump = f"#{desk.yellow.number} widget"
    want = _ids(await _call(gql, token, jump, first=100))
    assert _ids(await _call(gql, token, jump, first=3, after=encode_cursor(0))) == want[1:4]


async def test_facet_counts_do_not_depend_on_the_page(gql: GQLClient, desk: Desk) -> None:
    await _seed(desk)
    token = desk.world.alice_token
    first = await _call(gql, token, "widget", first=3)
    later = await _call(gql, token, "widget", first=3, after=first["pageInfo"]["endCursor"])
    back = await _call(gql, token, "widget", last=3)
    assert first["facets"] == later["facets"] == back["facets"]
    assert first["totalCount"] == later["totalCount"] == back["totalCount"] == 14
