"""Knowledge-base articles in search: title, body and tags; Polish and Chinese; ORG-5 (an
article is its department's); edits and deletes follow in the same transaction."""

from __future__ import annotations

from deskql.services.kb import articles
from deskql.services.search import query
from tests.conftest import GQLClient, gid
from tests.search.conftest import Desk


async def find(actor, text: str, **kwargs):  # type: ignore[no-untyped-def]
    plan = await query.plan(actor, query=text, decode_id=lambda g, t: 0, **kwargs)
    hits, _ = await query.page(plan, offset=0, limit=50)
    return [(h.module, h.object_id) for h in hits]


async def test_articles_are_found_by_title_body_and_tags(gql: GQLClient, desk: Desk) -> None:
    a = await articles.create_article(
        desk.alice,
        title="Jak wymienić dętkę",
        body="Zdejmij koło, wyjmij starą dętkę. 这是一个工单系统的知识库文章。",
        department_id=desk.world.support.id,
        tags=["rowery"],
    )
    assert await find(desk.alice, "detke", modules=["article"]) == [("article", a.id)]
    assert await find(desk.alice, "知识库", modules=["article"]) == [("article", a.id)]
    assert await find(desk.alice, "rowery", modules=["article"]) == [("article", a.id)]
    assert await find(desk.alice, '"wymienic detke"') == [("article", a.id)]
    # Sales (Bob) may not see a Support article: no hit, no count, no suggestion.
    assert await find(desk.bob, "detke") == []
    plan = await query.plan(desk.bob, query="detke", decode_id=lambda g, t: 0)
    assert (await query.counts(plan)).total == 0
    assert await query.suggest(desk.bob, prefix="wymi") == []
    assert [h.object_id for h in await query.suggest(desk.alice, prefix="wymi")] == [a.id]

    result = await gql.as_(desk.world.alice_token)(
        '{ search(query: "detke", modules: [ARTICLES]) { totalCount edges { node { module '
        "snippet node { id __typename } } } } }"
    )
    edge = result.data["search"]["edges"][0]["node"]
    assert edge["module"] == "ARTICLES" and edge["node"]["id"] == gid("Article", a.id)
    assert "<mark>dętkę</mark>" in edge["snippet"]

    await articles.update_article(
        desk.alice, article_id=a.id, changes={"title": "Jak załatać oponę", "body": "Łatka."}
    )
    assert await find(desk.alice, "detke") == []
    assert await find(desk.alice, "latka") == [("article", a.id)]
    await articles.delete_article(desk.alice, article_id=a.id)
    assert await find(desk.alice, "latka") == []
