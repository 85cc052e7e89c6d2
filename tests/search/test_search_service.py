"""The search service on the running engine (SQLite FTS5, or PostgreSQL with
DESKQL_DATABASE_URL): words, phrases, Polish and Chinese, ORG-5, spam, facets, criteria,
suggestions, letters, and the index following every write."""

from __future__ import annotations

from typing import Any

import pytest

from deskql.schema.ids import from_global_id
from deskql.services import customers, tickets
from deskql.services.auth import Actor
from deskql.services.search import criteria as crit
from deskql.services.search import index, query
from tests.search.conftest import Desk


def decode(value: str, type_name: str) -> int:
    found, pk = from_global_id(value)
    assert found == type_name
    return pk


async def find(actor: Actor, text: str, **kwargs: Any) -> list[tuple[str, int]]:
    plan = await query.plan(actor, query=text, decode_id=decode, **kwargs)
    hits, _ = await query.page(plan, offset=0, limit=50)
    return [(h.module, h.object_id) for h in hits]


async def test_words_diacritics_and_chinese(desk: Desk) -> None:
    y, c = desk.yellow.id, desk.chinese.id
    assert await find(desk.alice, "zolty") == [("ticket", y)]
    assert await find(desk.alice, "ŻÓŁTY rower") == [("ticket", y)]
    assert await find(desk.alice, "lancuch") == [("ticket", y)]
    assert await find(desk.alice, "工单") == [("ticket", c)]
    assert await find(desk.alice, "无法登录") == [("ticket", c)]
    assert await find(desk.alice, "zolty nothinglikethis") == []


async def test_phrases(desk: Desk) -> None:
    assert await find(desk.alice, '"żółty rower"') == [("ticket", desk.yellow.id)]
    assert await find(desk.alice, '"rower żółty"') == []


async def test_access_and_spam(desk: Desk) -> None:
    assert ("ticket", desk.sales.id) not in await find(desk.alice, "zolty")
    assert await find(desk.bob, "zolty") == [("ticket", desk.sales.id)]
    admin = await find(desk.admin, "zolty")
    assert sorted(admin) == sorted([("ticket", desk.yellow.id), ("ticket", desk.sales.id)])
    spam = await find(desk.alice, "zolty", include_spam=True)
    assert ("ticket", desk.spam.id) in spam


async def test_counts_and_facets_respect_access(desk: Desk) -> None:
    plan = await query.plan(desk.alice, query="zolty", decode_id=decode)
    counts = await query.counts(plan)
    assert counts.total == 1
    assert counts.facets["status"] == [("OPEN", 1)]
    assert counts.facets["priority"] == [("HIGH", 1)]
    assert counts.facets["tag"] == [("rower", 1)]
    plan = await query.plan(desk.admin, query="zolty", decode_id=decode)
    counts = await query.counts(plan)
    assert counts.total == 2
    assert sorted(counts.facets["status"]) == [("ON_HOLD", 1), ("OPEN", 1)]
    narrowed = await query.plan(
        desk.admin, query="zolty", decode_id=decode, chosen_facets={"status": ["ON_HOLD"]}
    )
    counts = await query.counts(narrowed)
    assert counts.total == 1
    # The status facet keeps counting the other statuses; the others follow the narrowing.
    assert sorted(counts.facets["status"]) == [("ON_HOLD", 1), ("OPEN", 1)]
    assert counts.facets["priority"] == [("MEDIUM", 1)]
    hits, _ = await query.page(narrowed, offset=0, limit=10)
    assert [(h.module, h.object_id) for h in hits] == [("ticket", desk.sales.id)]


async def test_index_follows_writes(desk: Desk) -> None:
    assert await find(desk.alice, "kapibara") == []
    await tickets.add_comment(desk.alice, ticket_id=desk.yellow.id, body="Kapibara w koszyku")
    assert await find(desk.alice, "kapibara") == [("ticket", desk.yellow.id)]
    fresh = await tickets.get_ticket(desk.alice, ticket_id=desk.yellow.id)
    assert fresh is not None
    await tickets.update_ticket(
        desk.admin,
        ticket_id=fresh.id,
        version=fresh.version,
        changes={"department_id": desk.world.sales.id},
    )
    assert await find(desk.alice, "kapibara") == []
    assert await find(desk.bob, "kapibara") == [("ticket", desk.yellow.id)]
    await customers.delete_contact(desk.admin, contact_id=desk.melissa.id)
    assert await find(desk.admin, "melissa") == []


async def test_suggest_prefixes(desk: Desk) -> None:
    hits = await query.suggest(desk.admin, prefix="mel")
    assert [(h.module, h.object_id) for h in hits] == [("contact", desk.melissa.id)]
    assert hits[0].snippet == "<mark>Mel</mark>issa Łukasiewicz"
    hits = await query.suggest(desk.admin, prefix="luk")
    assert [(h.module, h.object_id) for h in hits] == [("contact", desk.melissa.id)]
    assert await query.suggest(desk.admin, prefix="m") == []
    hits = await query.suggest(desk.admin, prefix="系")  # one Chinese character is a word
    assert [(h.module, h.object_id) for h in hits] == [("ticket", desk.chinese.id)]
    # Alice sees no Sales ticket among the suggestions.
    assert await query.suggest(desk.alice, prefix="secr") == []
    assert [h.object_id for h in await query.suggest(desk.bob, prefix="secr")] == [desk.sales.id]


async def test_suggest_typos_on_postgres(desk: Desk) -> None:
    from deskql.services.search import engine

    if not engine.is_postgres():
        pytest.skip("pg_trgm is PostgreSQL's; SQLite suggests by prefixes only")
    hits = await query.suggest(desk.admin, prefix="lukasiwicz")  # a letter missing
    assert [(h.module, h.object_id) for h in hits] == [("contact", desk.melissa.id)]
    assert await query.suggest(desk.alice, prefix="discont") == []  # Sales: not Alice's
    hits = await query.suggest(desk.bob, prefix="discont")
    assert [(h.module, h.object_id) for h in hits] == [("ticket", desk.sales.id)]


async def test_criteria(desk: Desk) -> None:
    got = await find(
        desk.admin,
        "zolty",
        criteria=[crit.Criterion("ticket", "status", crit.Op.IN, ["OPEN", "ESCALATED"])],
    )
    assert got == [("ticket", desk.yellow.id)]
    got = await find(
        desk.admin,
        "",
        criteria=[crit.Criterion("ticket", "subject", crit.Op.CONTAINS, ["discount"])],
    )
    assert got == [("ticket", desk.sales.id)]
    got = await find(
        desk.alice,
        "",
        criteria=[crit.Criterion("ticket", "subject", crit.Op.CONTAINS, ["discount"])],
    )
    assert got == []
    with pytest.raises(crit.InvalidCriterion):
        await find(desk.admin, "", criteria=[crit.Criterion("ticket", "nope", crit.Op.IN, ["x"])])


async def test_letters_and_rebuild(desk: Desk) -> None:
    letters = dict(await query.letters(desk.admin, "contact"))
    assert letters["M"] == 1
    assert letters["Z"] == 0 and letters["#"] == 0
    got = await find(desk.admin, "", modules=["contact"], letter="M")
    assert got == [("contact", desk.melissa.id)]
    before = await find(desk.admin, "zolty")
    assert await index.rebuild() > 0
    assert sorted(await find(desk.admin, "zolty")) == sorted(before)


async def test_ticket_number_jump(desk: Desk) -> None:
    got = await find(desk.alice, f"#{desk.chinese.number}")
    assert got == [("ticket", desk.chinese.id)]
    assert await find(desk.alice, f"#{desk.sales.number}") == []
    got = await find(desk.alice, f"#{desk.chinese.number} zolty")
    assert got == [("ticket", desk.chinese.id), ("ticket", desk.yellow.id)]


async def test_criteria_operators_on_accounts_and_products(desk: Desk) -> None:
    from datetime import UTC, datetime, timedelta

    acme = await customers.create_account(desk.admin, name="Acme Sp. z o.o.", website="")
    await customers.create_account(desk.admin, name="Łąka SA", website="https://laka.pl")
    product = await customers.create_product(desk.admin, name="Rower Miejski", code="RM-1")
    now = datetime.now(UTC)
    window = [(now - timedelta(hours=1)).isoformat(), (now + timedelta(hours=1)).isoformat()]

    def c(module: str, field: str, op: crit.Op, values: list[str]) -> crit.Criterion:
        return crit.Criterion(module, field, op, values)

    assert await find(
        desk.alice, "", criteria=[c("product", "name", crit.Op.EQUALS, ["rower miejski"])]
    ) == [("product", product.id)]
    got = await find(
        desk.alice,
        "",
        criteria=[
            c("account", "createdAt", crit.Op.BETWEEN, window),
            c("account", "website", crit.Op.IS_EMPTY, []),
        ],
    )
    assert got == [("account", acme.id)]
    got = await find(
        desk.alice, "", criteria=[c("account", "createdAt", crit.Op.BEFORE, [window[0]])]
    )
    assert got == []
    with pytest.raises(crit.InvalidCriterion):
        await find(
            desk.alice, "", criteria=[c("account", "createdAt", crit.Op.BETWEEN, window[:1])]
        )
    with pytest.raises(crit.InvalidCriterion):
        await find(
            desk.alice, "", criteria=[c("account", "createdAt", crit.Op.AFTER, ["yesterday"])]
        )
