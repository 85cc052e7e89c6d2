"""The public knowledge base (KB-1, KB-2): server-rendered pages, readable without JavaScript
and without signing in.

- `GET /kb`: the categories and their PUBLISHED + PUBLIC articles;
- `GET /kb/articles/{permalink}`: the article page (a view is counted); an old permalink
  answers 301 with `Location` straight at the current one; a deleted article's permalink 410;
  anything else (a draft, an archived or non-public article, a malformed or unknown permalink,
  any path below /kb/articles/) 404, without touching the database when the permalink cannot
  be one (services.kb.permalinks.is_well_formed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

import models
from services.kb import public
from web import templates

if TYPE_CHECKING:
    from settings import Settings

# Pages may be cached briefly by browsers and proxies (views are counted on each GET served).
CACHE = "public, max-age=60"


def routes(settings: Settings) -> list[BaseRoute]:
    """The /kb pages."""
    base = settings.public_base_url.rstrip("/")

    async def index(request: Request) -> Response:
        rows = await public.published(public.PUBLIC).order_by("title", "id")
        categories = await models.ArticleCategory.all().order_by("position", "id")
        tree = _tree(categories, rows)
        return templates.TemplateResponse(
            request,
            "kb/index.html",
            {
                "roots": tree.roots,
                "uncategorised": tree.uncategorised,
                "canonical": f"{base}/kb",
                "count": len(rows),
            },
            headers={"Cache-Control": CACHE},
        )

    async def article(request: Request) -> Response:
        permalink = request.path_params["permalink"]
        found = await public.resolve(permalink, public.PUBLIC)
        if found.redirect_to is not None:
            return RedirectResponse(f"/kb/articles/{found.redirect_to}", status_code=301)
        if found.article is None:
            return _missing(request, gone=found.gone)
        row = found.article
        public.count_view(row.id)
        return templates.TemplateResponse(
            request,
            "kb/article.html",
            {
                "article": row,
                "body_html": public.body_html(row),
                "category": row.category_name,
                "canonical": f"{base}/kb/articles/{row.permalink}",
            },
            headers={"Cache-Control": CACHE},
        )

    async def anything_else(request: Request) -> Response:
        return _missing(request, gone=False)

    return [
        Route("/kb", index, methods=["GET"]),
        Route("/kb/articles/{permalink}", article, methods=["GET"]),
        Route("/kb/articles/{rest:path}", anything_else, methods=["GET"]),
    ]


def _missing(request: Request, *, gone: bool) -> Response:
    return templates.TemplateResponse(
        request, "kb/missing.html", {"gone": gone}, status_code=410 if gone else 404
    )


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
