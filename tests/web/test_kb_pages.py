"""The public /kb pages: real HTML for PUBLISHED + PUBLIC articles without signing in, 301
from every old permalink straight to the current one, 404/410 for the rest, views counted,
sanitized bodies, and hostile paths answered quickly with 404."""

from __future__ import annotations

import httpx
import pytest

from deskql import models
from deskql.models.kb import ArticleStatus, ArticleVisibility
from deskql.services import auth
from deskql.services.kb import articles, categories, public
from deskql.settings import Settings
from deskql.web import kb
from tests.conftest import World


async def _published(world: World, title: str, **kw: object) -> models.Article:
    alice = await auth.load_actor(world.alice.id)
    row = await articles.create_article(
        alice,
        title=title,
        department_id=world.support.id,
        visibility=kw.pop("visibility", ArticleVisibility.PUBLIC),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )
    await articles.publish_article(alice, article_id=row.id)
    return await models.Article.get(id=row.id)


async def test_article_page_is_real_html_with_title_canonical_and_print_css(
    http: httpx.AsyncClient, world: World
) -> None:
    body = (
        "## Steps\n\n1. Open <b>settings</b>\n\n<script>alert(1)</script>\n\n"
        "[x](javascript:alert(1))"
    )
    row = await _published(world, "Reset <your> password", body=body, summary="How to")
    resp = await http.get(f"/kb/articles/{row.permalink}")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    html = resp.text
    assert "<title>Reset &lt;your&gt; password · Knowledge base</title>" in html
    assert (
        f'<link rel="canonical" href="http://127.0.0.1:8000/kb/articles/{row.permalink}">' in html
    )
    assert '<link rel="stylesheet" href="/static/kb.css">' in html
    assert "<h2>Steps</h2>" in html and "<b>settings</b>" in html
    assert "<script>alert" not in html and 'href="javascript' not in html
    css = await http.get("/static/kb.css")
    assert css.status_code == 200 and "@media print" in css.text
    await public.flush_views()
    assert (await models.Article.get(id=row.id)).view_count == 1
    await http.get(f"/kb/articles/{row.permalink}")
    await http.get(f"/kb/articles/{row.permalink}")
    await public.flush_views()
    assert (await models.Article.get(id=row.id)).view_count == 3


async def test_old_permalinks_answer_301_straight_to_the_current_one(
    http: httpx.AsyncClient, world: World
) -> None:
    alice = await auth.load_actor(world.alice.id)
    row = await _published(world, "First")
    for name in ("second", "third", "fourth"):
        await articles.update_article(alice, article_id=row.id, changes={"permalink": name})
    for old in ("first", "second", "third"):
        resp = await http.get(f"/kb/articles/{old}", follow_redirects=False)
        assert resp.status_code == 301, old
        assert resp.headers["location"] == "/kb/articles/fourth"
    assert (await http.get("/kb/articles/fourth")).status_code == 200
    # Views are counted on the page, not on the redirects.
    await public.flush_views()
    assert (await models.Article.get(id=row.id)).view_count == 1


async def test_drafts_archived_non_public_and_deleted_are_not_shown(
    http: httpx.AsyncClient, world: World
) -> None:
    alice = await auth.load_actor(world.alice.id)
    draft = await articles.create_article(
        alice, title="Draft", department_id=world.support.id, visibility=ArticleVisibility.PUBLIC
    )
    archived = await _published(world, "Archived")
    await articles.unpublish_article(alice, article_id=archived.id, archive=True)
    contacts = await _published(world, "Contacts only", visibility=ArticleVisibility.CONTACTS)
    agents = await _published(world, "Agents only", visibility=ArticleVisibility.AGENTS)
    for row in (draft, archived, contacts, agents):
        resp = await http.get(f"/kb/articles/{row.permalink}")
        assert resp.status_code == 404, row.title
        assert "Article not found" in resp.text
    # An old permalink of a non-public article does not reveal the new one.
    await articles.update_article(alice, article_id=draft.id, changes={"permalink": "draft-2"})
    assert (await http.get("/kb/articles/draft", follow_redirects=False)).status_code == 404
    gone = await _published(world, "Gone soon")
    await articles.delete_article(alice, article_id=gone.id)
    resp = await http.get(f"/kb/articles/{gone.permalink}")
    assert resp.status_code == 410 and "removed" in resp.text
    index = await http.get("/kb")
    assert index.status_code == 200
    for title in ("Draft", "Archived", "Contacts only", "Agents only", "Gone soon"):
        assert title not in index.text


async def test_index_lists_categories_and_public_articles(
    http: httpx.AsyncClient, world: World
) -> None:
    admin = await auth.load_actor(world.admin.id)
    root = await categories.create_category(admin, name="Getting started")
    child = await categories.create_category(admin, name="Accounts", parent_id=root.id)
    await categories.create_category(admin, name="Empty one")
    await _published(world, "Sign in", category_id=child.id)
    await _published(world, "Loose article")
    resp = await http.get("/kb")
    assert resp.status_code == 200
    html = resp.text
    assert "<title>Knowledge base</title>" in html
    assert '<link rel="canonical" href="http://127.0.0.1:8000/kb">' in html
    assert "<h2>Getting started</h2>" in html and "<h3>Accounts</h3>" in html
    assert '<a href="/kb/articles/sign-in">Sign in</a>' in html
    assert "Loose article" in html and "Empty one" not in html


async def test_hostile_paths_are_404(http: httpx.AsyncClient, world: World) -> None:
    await _published(world, "Real")
    for path in (
        "/kb/articles/",
        "/kb/articles/" + "a" * 10_240,
        "/kb/articles/%ff%fe%00%2e%2e",
        "/kb/articles/..%2f..%2fetc%2fpasswd",
        "/kb/articles/%E2%80%AE%F0%9F%98%80",
        "/kb/articles/real/extra",
        "/kb/articles/REAL",
        "/kb/articles/real%20",
    ):
        resp = await http.get(path, follow_redirects=False)
        assert resp.status_code == 404, path


def world_settings_seconds() -> float:
    return Settings().kb_page_cache_ms / 1000


async def test_cached_pages_follow_changes(
    http: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = await auth.load_actor(world.alice.id)
    row = await _published(world, "Cached")
    assert (await http.get("/kb/articles/cached")).status_code == 200
    # A change made through the services in this process shows at once.
    await articles.unpublish_article(alice, article_id=row.id)
    assert (await http.get("/kb/articles/cached")).status_code == 404
    await articles.publish_article(alice, article_id=row.id)
    assert (await http.get("/kb/articles/cached")).status_code == 200
    # One made elsewhere (another process: here, straight in the table) shows once the cached
    # answer expires; meanwhile views are still counted.
    await models.Article.filter(id=row.id).update(status=ArticleStatus.DRAFT)
    assert (await http.get("/kb/articles/cached")).status_code == 200
    later = kb._now() + world_settings_seconds() + 0.1
    monkeypatch.setattr(kb, "_now", lambda: later)
    assert (await http.get("/kb/articles/cached")).status_code == 404
    await public.flush_views()
    assert (await models.Article.get(id=row.id)).view_count == 3
