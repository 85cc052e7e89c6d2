"""Published articles in the help center (issue 13, point 2, KB): PUBLIC for anyone, PUBLIC
and CONTACTS for signed-in contacts, never AGENTS ones or drafts; sanitized bodies."""

from __future__ import annotations

from deskql import models
from deskql.models.kb import ArticleVisibility
from deskql.services.auth import load_actor
from deskql.services.kb import articles, public
from tests.conftest import World
from tests.helpcenter.conftest import HelpClient, SignedIn

LIST = """query($q: String) { articles(query: $q, first: 10) {
  totalCount edges { node { title permalink } } } }"""
ONE = """query($p: String!) { article(permalink: $p) { title permalink bodyHtml } }"""
XSS = (
    "# Drukarka 打印机\n\n<script>window.__xss=1</script>\n\n"
    '<img src="x" onerror="window.__xss=2">\n\n[link](javascript:alert(1)) **ok**'
)


async def _article(
    world: World, title: str, visibility: ArticleVisibility, publish: bool = True
) -> models.Article:
    actor = await load_actor(world.admin.id)
    row = await articles.create_article(
        actor, title=title, department_id=world.support.id, body=XSS, visibility=visibility
    )
    if publish:
        row = await articles.publish_article(actor, article_id=row.id)
    return row


async def test_who_reads_which_articles(
    helpql: HelpClient, world: World, melissa: SignedIn
) -> None:
    await _article(world, "Public printer guide", ArticleVisibility.PUBLIC)
    await _article(world, "Customers printer tips", ArticleVisibility.CONTACTS)
    await _article(world, "Agents printer internals", ArticleVisibility.AGENTS)
    await _article(world, "Draft printer notes", ArticleVisibility.CONTACTS, publish=False)
    anonymous = await helpql(LIST)
    assert [e["node"]["title"] for e in anonymous.data["articles"]["edges"]] == [
        "Public printer guide"
    ]
    signed_in = await melissa.client(LIST)
    assert [e["node"]["title"] for e in signed_in.data["articles"]["edges"]] == [
        "Customers printer tips",
        "Public printer guide",
    ]
    searched = await melissa.client(LIST, {"q": "customers PRINTER"})
    assert searched.data["articles"]["totalCount"] == 1
    # By permalink: the AGENTS one and the draft are not there, for anyone.
    for permalink in ("agents-printer-internals", "draft-printer-notes"):
        assert (await melissa.client(ONE, {"p": permalink})).data["article"] is None
    assert (await helpql(ONE, {"p": "customers-printer-tips"})).data["article"] is None
    # A bad token is an error, not a quiet public view.
    bad = await helpql.as_("dqc_nonsense")(LIST)
    assert bad.error_codes() == ["UNAUTHENTICATED"]


async def test_article_bodies_are_sanitized_and_old_permalinks_work(
    world: World, melissa: SignedIn
) -> None:
    row = await _article(world, "Printer guide", ArticleVisibility.CONTACTS)
    got = (await melissa.client(ONE, {"p": row.permalink})).data["article"]
    html = got["bodyHtml"]
    assert "<h1>Drukarka 打印机</h1>" in html and "<strong>ok</strong>" in html
    for bad in ("<script", "onerror", 'href="javascript'):
        assert bad not in html, bad
    actor = await load_actor(world.admin.id)
    await articles.update_article(actor, article_id=row.id, changes={"permalink": "printers"})
    moved = (await melissa.client(ONE, {"p": row.permalink})).data["article"]
    assert moved["permalink"] == "printers"
    await public.flush_views()  # views are written in batches (services/kb/public)
    assert (await models.Article.get(id=row.id)).view_count == 2
