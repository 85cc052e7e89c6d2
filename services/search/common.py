"""What searching, suggestions and the letters share: the limits, the error, the `Hit`, and
the conditions on search_doc `d` for ORG-5, spam and the modules asked for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deskql.services.auth import Actor
from deskql.services.errors import ClientError
from deskql.services.search import engine
from deskql.services.search.index import modules as indexed_modules

MAX_QUERY = 1000  # characters of a search box's text
MAX_PAGE = 100


class InvalidSearch(ClientError):
    """A search that cannot run: no words and no criteria, or text past MAX_QUERY."""

    code = "INVALID_SEARCH"


@dataclass
class Hit:
    """One record found: its module and id, score, title and HTML snippet."""

    module: str
    object_id: int
    score: float
    title: str
    snippet: str
    sort_at: Any = None
    position: Any = None  # search's keyset.Position (its place in the ordering)


def _access(actor: Actor, include_spam: bool, pg: bool) -> tuple[list[str], list[Any]]:
    """ORG-5 and spam, on search_doc `d`."""
    parts: list[str] = []
    params: list[Any] = []
    if not actor.is_admin:
        depts = sorted(actor.department_ids)
        if depts:
            parts.append(
                f"(d.department_id IS NULL OR d.department_id IN ({', '.join('?' for _ in depts)}))"
            )
            params.extend(depts)
        else:
            parts.append("d.department_id IS NULL")
    if not include_spam:
        parts.append("d.is_spam = ?")
        params.append(engine.sql_value(False, pg))
    return parts, params


def _modules(wanted: list[str] | None) -> list[str]:
    known = indexed_modules()
    if not wanted:
        return known
    unknown = [m for m in wanted if m not in known]
    if unknown:
        raise InvalidSearch(f"unknown module(s): {', '.join(unknown)}")
    return sorted(set(wanted))


def _module_clause(wanted: list[str]) -> tuple[str, list[str]]:
    """The condition on d.module; none when every module is wanted (a no-op condition that
    SQLite would still answer through the (module, letter) index, in the wrong order)."""
    if not wanted:
        return "1=0", []
    if set(wanted) == set(indexed_modules()):
        return "1=1", []
    return f"d.module IN ({', '.join('?' for _ in wanted)})", list(wanted)
