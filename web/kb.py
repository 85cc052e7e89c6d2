"""The public knowledge base (KB-1, KB-2): server-rendered pages, readable without JavaScript
and without signing in.

- `GET /kb`: the categories and their PUBLISHED + PUBLIC articles;
- `GET /kb/articles/{permalink}`: the article page (a view is counted); an old permalink
  answers 301 with `Location` straight at the current one; a deleted article's permalink 410;
  anything else (a draft, an archived or non-public article, a malformed or unknown permalink,
  any path below /kb/articles/) 404, without touching the database when the permalink cannot
  be one (services.kb.permalinks.is_well_formed).

Answers are cached per process, rendered, for at most `kb_page_cache_ms` (settings; 0: no
cache): a change to an article
or a category made by this process empties the cache at once (services.kb.public.changed);
one made by another process shows here within that time (browsers and proxies may keep a
page for `max-age` anyway). Misses are cached too (bounded), so a flood of made-up permalinks
costs one lookup each per interval at most.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from deskql import models
from deskql.services.kb import permalinks, public
from deskql.web import templates

if TYPE_CHECKING:
    from deskql.settings import Settings

# Pages may be cached briefly by browsers and proxies (views are counted on each GET served).
CACHE_CONTROL = "public, max-age=60"
CACHE_ENTRIES = 4096
_now = time.monotonic  # the cache's clock (tests move it)


@dataclass(frozen=True)
class _Answer:
    """A rendered answer: a page (with the article to count a view of), a redirect, a miss."""

    status: int
    html: bytes = b""
    location: str | None = None
    article_id: int | None = None


class _Cache:
    """Rendered answers by path for `seconds`, dropped when this process changes the KB."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._rows: OrderedDict[str, tuple[float, int, _Answer]] = OrderedDict()

    def get(self, key: str) -> _Answer | None:
        found = self._rows.get(key)
        if found is None:
            return None
        expires, generation, answer = found
        if generation != public.generation() or expires < _now():
            del self._rows[key]
            return None
        return answer

    def put(self, key: str, generation: int, answer: _Answer) -> None:
        if self.seconds <= 0:
            return
        self._rows[key] = (_now() + self.seconds, generation, answer)
        self._rows.move_to_end(key)
        while len(self._rows) > CACHE_ENTRIES:
            self._rows.popitem(last=False)


def _render(name: str, context: dict[str, Any]) -> bytes:
    return templates.get_template(name).render(context).encode()


def routes(settings: Settings) -> list[BaseRoute]:
    """The /kb pages."""
    base = settings.base_url
    cache = _Cache(settings.kb_page_cache_ms / 1000)

    async def index_answer() -> _Answer:
        rows = await public.published(public.PUBLIC).order_by("title", "id")
        categories = await models.ArticleCategory.all().order_by("position", "id")
        tree = _tree(categories, rows)
        html = _render(
            "kb/index.html",
            {
                "roots": tree.roots,
                "uncategorised": tree.uncategorised,
                "canonical": f"{base}/kb",
                "count": len(rows),
            },
        )
        return _Answer(200, html)

    async def article_answer(permalink: str) -> _Answer:
        found = await public.resolve_page(permalink, public.PUBLIC)
        if found.redirect_to is not None:
            return _Answer(301, location=f"/kb/articles/{found.redirect_to}")
        if found.article is None:
            return _Answer(
                410 if found.gone else 404, _render("kb/missing.html", {"gone": found.gone})
            )
        page = found.article
        html = _render(
            "kb/article.html",
            {
                "article": page,
                "body_html": public.body_html(page),
                "category": page.category_name,
                "canonical": f"{base}/kb/articles/{page.permalink}",
            },
        )
        return _Answer(200, html, article_id=page.id)

    async def answer(key: str, make: Any) -> Response:
        found = cache.get(key)
        if found is None:
            generation = public.generation()
            found = await make()
            cache.put(key, generation, found)
        if found.location is not None:
            return RedirectResponse(found.location, status_code=found.status)
        if found.article_id is not None:
            await public.count_view(found.article_id)
        headers = {"Cache-Control": CACHE_CONTROL} if found.status == 200 else None
        return Response(
            found.html, status_code=found.status, media_type="text/html", headers=headers
        )

    async def index(request: Request) -> Response:
        return await answer("/kb", index_answer)

    async def article(request: Request) -> Response:
        permalink: str = request.path_params["permalink"]
        if not permalinks.is_well_formed(permalink):
            return _missing()  # not cached: made-up paths must not evict real pages
        return await answer(permalink, lambda: article_answer(permalink))

    async def anything_else(request: Request) -> Response:
        return _missing()

    return [
        Route("/kb", index, methods=["GET"]),
        Route("/kb/articles/{permalink}", article, methods=["GET"]),
        Route("/kb/articles/{rest:path}", anything_else, methods=["GET"]),
    ]


def _missing() -> Response:
    return Response(_render("kb/missing.html", {"gone": False}), 404, media_type="text/html")


class _Node:
    """A category on the index page, with its articles and sub-categories."""

    def __init__(self, row: models.ArticleCategory) -> None:
        self.row = row
        self.articles: list[models.Article] = []
        self.children: list[_Node] = []

    @property
    def has_articles(self) -> bool:
        """Whether it or a sub-category holds a public article."""
        return bool(self.articles) or any(child.has_articles for child in self.children)


class _Tree:
    def __init__(self) -> None:
        self.roots: list[_Node] = []
        self.uncategorised: list[models.Article] = []


def _tree(categories: list[models.ArticleCategory], rows: list[models.Article]) -> _Tree:
    """Categories with their public articles; categories without any (in their subtree) left out."""
    nodes = {row.id: _Node(row) for row in categories}
    tree = _Tree()
    for node in nodes.values():
        parent = nodes.get(node.row.parent_id)  # type: ignore[attr-defined]
        (parent.children if parent is not None else tree.roots).append(node)
    for row in rows:
        node = nodes.get(row.category_id)  # type: ignore[attr-defined]
        if node is not None:
            node.articles.append(row)
        else:
            tree.uncategorised.append(row)
    tree.roots = [node for node in tree.roots if node.has_articles]
    return tree
