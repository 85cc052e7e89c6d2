"""The compiled page's statement (readpath/compiled/reads.Static): Tortoise builds only the
request's own part (filters, sort, slice) on the sort's columns; the other columns and the
joins are built once per plan and spliced in. Every request here is also run on the full
executor and compared (readpath_verify)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from deskql import models
from deskql.db import count_statements
from deskql.readpath.compiled import reads
from deskql.readpath.compiled.specs import specs
from tests.conftest import GQLClient, World
from tests.readpath.test_compiled import seed
from tests.readpath.test_lean import readpath_of

PAGE = """
query($after: String) {
  tickets(first: 3, after: $after, filter: {tag: "printer", status: [OPEN]},
          sort: {field: NUMBER, direction: DESC}) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { number subject contact { name account { name } }
      assignee { ... on Agent { name } ... on Team { name } } } }
  }
}
"""


@pytest.fixture
def wholes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the whole statements Tortoise builds for compiled pages."""
    built: list[int] = []
    whole = reads.Page._whole

    def counted(self: reads.Page, *args: Any) -> Any:
        built.append(1)
        return whole(self, *args)

    monkeypatch.setattr(reads.Page, "_whole", counted)
    return built


async def test_a_page_statement_is_built_once_then_spliced(
    gql: GQLClient, http: httpx.AsyncClient, world: World, wholes: list[int]
) -> None:
    await seed(world)
    tag = await models.Tag.create(name="printer")
    for ticket in await models.Ticket.filter(number__in=[200, 201, 202, 203, 205, 206, 207, 209]):
        await models.TicketTag.create(ticket_id=ticket.id, tag_id=tag.id)
    path = readpath_of(http)
    numbers: list[int] = []
    after = None
    with count_statements() as stmts:
        for _ in range(3):
            res = await gql.as_(world.alice_token)(PAGE, {"after": after})
            assert res.errors == [], res.errors
            page = res.data["tickets"]
            numbers += [e["node"]["number"] for e in page["edges"]]
            after = page["pageInfo"]["endCursor"]
            if not page["pageInfo"]["hasNextPage"]:
                break
    # Alice is in Support: 201-203, 205-207, 209 (200, 204, 208 are Sales')
    assert numbers == [209, 207, 206, 205, 203, 202, 201]
    assert path.compiled == 3, path.fallbacks
    # One whole statement for the plan's Static, then only the sort's columns per request.
    assert wholes == [1]
    pages = [s for s in stmts.sql if s.startswith('SELECT "ticket"."id" "id"')]
    assert len(pages) == 3, stmts.sql
    for sql in pages:
        assert 'LEFT OUTER JOIN "contact" "ticket__contact"' in sql, sql
        assert '"ticket__contact__account"."name"' in sql, sql
        assert '"ticket_tag"' in sql, sql
        # The page size is in the statement (PostgreSQL keeps a generic plan for it then).
        assert sql.rsplit(": [", 1)[0].endswith(" LIMIT 4"), sql


async def test_contacts_sorted_by_an_annotation_splice_its_columns(
    gql: GQLClient, http: httpx.AsyncClient, world: World, wholes: list[int]
) -> None:
    for first, last in [("ana", "Zeta"), ("Bea", "alpha"), ("Cy", "Mu"), ("Dee", "mu")]:
        await models.Contact.create(first_name=first, last_name=last, email=f"{first}@x.org")
    path = readpath_of(http)
    query = """query($after: String) { contacts(first: 2, after: $after,
      sort: {field: NAME, direction: DESC}) { pageInfo { hasNextPage endCursor }
      nodes { name email } } }"""
    names: list[str] = []
    after = None
    while True:
        res = await gql.as_(world.alice_token)(query, {"after": after})
        assert res.errors == [], res.errors
        names += [n["name"] for n in res.data["contacts"]["nodes"]]
        info = res.data["contacts"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert names == ["ana Zeta", "Dee mu", "Cy Mu", "Melissa Doe", "Bea alpha"]
    assert path.compiled >= 3, path.fallbacks
    assert wholes == [1]


async def test_a_statement_tortoise_joins_itself_is_built_whole(
    world: World, wholes: list[int]
) -> None:
    # A filter on a related table makes Tortoise join it: nothing is spliced into that.
    await seed(world)
    spec = specs()["Ticket"]
    page = reads.Page(spec.model, spec.row)
    page.columns = {"id", "number", "subject"}
    rows = await page.fetch(
        models.Ticket.filter(contact__last_name="Doe").order_by("-number", "-id").limit(3)
    )
    assert [(r.number, r.subject) for r in rows] == [
        (210, "Printer 10"),
        (208, "Printer 8"),
        (206, "Printer 6"),
    ]
    # The Static is built once (a whole statement), and the request itself is built whole.
    assert wholes == [1, 1]
    again = await page.fetch(models.Ticket.filter(number__lt=203).order_by("-number", "-id"))
    assert [r.number for r in again] == [202, 201, 200]
    assert wholes == [1, 1]
