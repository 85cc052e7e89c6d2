"""The index's documents: the modules, the builders' registry, one document's shape, and
where builders read records (`Source`)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from deskql import models
from deskql.services.search import engine
from deskql.services.search.text import clean, terms

TICKET, CONTACT, ACCOUNT, PRODUCT, TASK, ARTICLE = (
    "ticket",
    "contact",
    "account",
    "product",
    "task",
    "article",
)
# Activity subject types that name an indexed record directly.
SUBJECT_MODULES = {
    "Ticket": TICKET,
    "Contact": CONTACT,
    "Account": ACCOUNT,
    "Product": PRODUCT,
    "Task": TASK,
    "Article": ARTICLE,
}
BODY_LIMIT = 100_000  # characters of a record's text kept for snippets and indexed

Builder = Callable[["Source", list[int]], Awaitable[list[dict[str, Any]]]]
_builders: dict[str, Builder] = {}


def builder(module: str) -> Callable[[Builder], Builder]:
    """Register the function that builds the documents of a module from record ids."""

    def register(fn: Builder) -> Builder:
        _builders[module] = fn
        return fn

    return register


def modules() -> list[str]:
    """The indexed modules."""
    return list(_builders)


def builders() -> dict[str, Builder]:
    """The registered builders by module."""
    return _builders


TAGS_HTML = re.compile(r"<[^>]+>")


def text(*parts: str | None) -> str:
    """The parts joined, cleaned and cut to BODY_LIMIT characters."""
    return clean("\n".join(p for p in parts if p))[:BODY_LIMIT]


def doc(
    module: str,
    object_id: int,
    *,
    title: str,
    body: str,
    sort_at: Any,
    title_extra: str = "",
    **facets: Any,
) -> dict[str, Any]:
    """One search_doc row (as a dict) with its terms; facets default to empty."""
    title = clean(title)[:500]
    row = {
        "module": module,
        "object_id": object_id,
        "department_id": None,
        "is_spam": False,
        "title": title,
        "body": body,
        "title_terms": terms(f"{title} {title_extra}"),
        "body_terms": terms(body),
        "letter": "",
        "status": None,
        "priority": None,
        "channel": None,
        "assignee_id": None,
        "account_id": None,
        "owner_id": None,
        "sort_at": sort_at,
        "tag_ids": [],
    }
    row.update(facets)
    return row


class Source:
    """Where builders read records: the app's models on a connection, or (in a migration)
    the historical models on the migration's connection."""

    def __init__(
        self,
        conn: BaseDBAsyncClient | None = None,
        apps: Any = None,
        columns: tuple[str, ...] = engine.COLUMNS,
    ) -> None:
        self.conn = conn or engine.connection()
        self.apps = apps
        self.columns = columns  # search_doc's columns at this point of the migrations
        # Records a builder found that must be refreshed too (a ticket's tasks).
        self.followups: dict[str, set[int]] = {}

    def rows(self, name: str, **filters: Any) -> Any:
        """A queryset of a model on this source's connection."""
        model = self.apps.get_model("models", name) if self.apps else getattr(models, name)
        return model.filter(**filters).using_db(self.conn)


def value(value: Any) -> Any:
    """An enum's value, anything else as is."""
    return getattr(value, "value", value)
