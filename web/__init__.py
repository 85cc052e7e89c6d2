"""Server-rendered pages and static assets (DESIGN: web pages live in one place).

`templates` renders the Jinja2 files of web/templates (autoescaped); `/static` serves
web/static. A feature adds its pages as a module of this package with a
`routes(settings) -> list[BaseRoute]` function, listed in PAGE_MODULES; server.py mounts them
all. Nothing here is loaded from a CDN: every asset is committed under web/static."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

if TYPE_CHECKING:
    from deskql.settings import Settings

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))

# Modules of this package that serve pages, each with `routes(settings)`.
PAGE_MODULES: list[str] = ["exports", "print", "help", "kb"]


def routes(settings: Settings) -> list[BaseRoute]:
    """Every page route of every feature, then `/static`."""
    found: list[BaseRoute] = []
    for name in PAGE_MODULES:
        module = importlib.import_module(f"deskql.web.{name}")
        found.extend(module.routes(settings))
    found.append(Mount("/static", app=StaticFiles(directory=str(STATIC_DIR)), name="static"))
    return found
