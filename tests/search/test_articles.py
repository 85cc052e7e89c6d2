"""Knowledge-base articles in search: title, body and tags; Polish and Chinese; ORG-5 (an
article is its department's); edits and deletes follow in the same transaction."""

from __future__ import annotations

import httpx

from deskql.services.kb import articles
from deskql.services.search import query
from tests.conftest import GQLClient, gid
from tests.readpath.test_lean import readpath_of
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


async def test_article_hits_are_answered_by_the_lean_executor(
    gql: GQLClient, http: httpx.AsyncClient, desk: Desk
) -> None:
    """A search whose hits include an article stays on the read path's lean executor (it
    used to fall back to the full executor, which ran the whole search a second time); the
    suite's readpath_verify compares the lean answer with the full executor's byte for byte."""
    a = await articles.create_article(
        desk.alice,
        title="Drukarka nie drukuje",
        body="Sprawdź papier w drukarce.",
        department_id=desk.world.support.id,
        tags=["druk"],
    )
    path = readpath_of(http)
    before, fallbacks = path.answered, list(path.fallbacks)
    query_text = (
        "query($q: String!) { search(query: $q) { totalCount facets { field values { value "
        "count } } edges { node { module title node { id __typename ... on Article { title "
        "status permalink } } } } } }"
    )
    result = await gql.as_(desk.world.alice_token)(query_text, {"q": "drukarka"})
    assert result.errors == []
    node = result.data["search"]["edges"][0]["node"]["node"]
    assert node == {
        "id": gid("Article", a.id),
        "__typename": "Article",
        "title": "Drukarka nie drukuje",
        "status": a.status.name,
        "permalink": a.permalink,
    }
    suggest = await gql.as_(desk.world.alice_token)(
        "query($p: String!) { searchSuggest(prefix: $p) { module node { id } } }", {"p": "druk"}
    )
    assert suggest.data["searchSuggest"] == [
        {"module": "ARTICLES", "node": {"id": gid("Article", a.id)}}
    ]
    assert path.answered == before + 2 and path.fallbacks == fallbacks, path.fallbacks
    # An article's relations are still the full executor's (not planned).
    related = await gql.as_(desk.world.alice_token)(
        "query($q: String!) { search(query: $q) { edges { node { node { ... on Article { "
        "tags } } } } } }",
        {"q": "drukarka"},
    )
    assert related.data["search"]["edges"][0]["node"]["node"] == {"tags": ["druk"]}
    assert path.answered == before + 2
