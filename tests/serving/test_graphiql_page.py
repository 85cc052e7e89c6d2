"""The GraphiQL page (issue 11, point 2) loads nothing from another host: every script and
style it names is served from /static/graphiql. The browser test (tests/browser) runs it."""

from __future__ import annotations

import re

from deskql.settings import Settings
from tests.serving.conftest import app_client

HTML = {"Accept": "text/html"}


async def test_the_page_uses_only_committed_assets(clean_db: Settings):
    async with app_client(clean_db) as http:
        page = await http.get("/graphql", headers=HTML)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        urls = [u for u in re.findall(r'(?:src|href)="([^"]+)"', page.text) if u != "data:,"]
        assert urls, page.text
        assert all(u.startswith("/static/graphiql/") for u in urls), urls
        assert "cdn" not in page.text.lower() and "https://" not in page.text
        for url in urls:
            asset = await http.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 500, url
        script = (await http.get("/static/graphiql/deskql-graphiql.js")).text
    assert "Authorization" in script and "subscriptionUrl" in script
    assert 'defaultEditorToolsVisibility: "headers"' in script


async def test_graphiql_off(clean_db: Settings):
    async with app_client(clean_db, graphiql=False) as http:
        page = await http.get("/graphql", headers=HTML)
    assert page.status_code == 404
