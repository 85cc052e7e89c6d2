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


async def test_tag_names_are_the_orm_query_s(world: World) -> None:
    from deskql.schema.loaders import _tag_names

    await seed(world)
    tickets = await models.Ticket.filter(number__in=[200, 201, 202]).order_by("number")
    tags = {n: await models.Tag.create(name=n) for n in ("zeta", "alpha", "mid")}
    for ticket, names in zip(tickets, (["zeta", "alpha", "mid"], ["mid"], []), strict=True):
        for name in names:
            await models.TicketTag.create(ticket_id=ticket.id, tag_id=tags[name].id)
    ids = [t.id for t in tickets]
    orm = await (
        models.TicketTag.filter(ticket_id__in=ids)
        .order_by("tag__name")
        .values("ticket_id", "tag__name")
    )
    ours = [(row["ticket_id"], row["name"]) for row in await _tag_names(ids)]
    assert ours == [(row["ticket_id"], row["tag__name"]) for row in orm]
    assert [name for tid, name in ours if tid == ids[0]] == ["alpha", "mid", "zeta"]


async def test_a_page_s_loaded_lists_come_from_one_batch_and_prime_the_loader() -> None:
    from strawberry.dataloader import DataLoader

    from deskql.readpath.compiled.serialise import _load_page
    from deskql.readpath.compiled.specs import NotCompiled

    batches: list[list[int]] = []

    async def batch(keys: list[int]) -> list[Any]:
        batches.append(list(keys))
        return [[k * 10] for k in keys]

    loader: DataLoader[int, Any] = DataLoader(load_fn=batch)
    assert await _load_page(loader, [3, 1, 2]) == [[30], [10], [20]]
    assert await loader.load(1) == [10]  # primed: no second batch
    assert batches == [[3, 1, 2]]
    assert await _load_page(loader, []) == []

    async def failing(keys: list[int]) -> list[Any]:
        return [ValueError("no")] * len(keys)

    with pytest.raises(NotCompiled):
        await _load_page(DataLoader(load_fn=failing), [1, 2])


async def test_total_count_caps_with_the_cap_in_the_statement(gql: GQLClient, world: World) -> None:
    await seed(world)
    with count_statements() as stmts:
        res = await gql.as_(world.admin_token)("{ tickets(first: 2) { totalCount } }")
    assert res.errors == [], res.errors
    assert res.data["tickets"]["totalCount"] == 12
    counts = [s for s in stmts.sql if s.startswith("SELECT COUNT(*) FROM (")]
    assert counts and all(
        " LIMIT " in s and not s.split(" LIMIT ")[1].startswith(("$", "?")) for s in counts
    ), counts
