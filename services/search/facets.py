"""Facets (SRC-2): the fields of the modules hit, each value with its count among the matches.

A chosen value narrows the results; the counts of a facet are taken over the matches narrowed
by every OTHER chosen facet (values of one facet are alternatives, facets combine with AND),
so a client can widen a facet it narrowed. A facet of one module narrows the results to that
module. Counts come from the same SQL as the hits, ORG-5 included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deskql.models.enums import Channel, TicketPriority, TicketStatus
from deskql.services.errors import ClientError


class InvalidFacet(ClientError):
    """A facet value that is not one of the field's values (an unknown status, say)."""

    code = "INVALID_FACET"


@dataclass(frozen=True)
class Facet:
    """A facet field: its module, its search_doc column (or the tag join)."""

    name: str
    module: str
    column: str  # "" for tags
    id_type: str = ""  # the Node type its values name, for id-valued facets


FACETS = {
    f.name: f
    for f in (
        Facet("status", "ticket", "status"),
        Facet("priority", "ticket", "priority"),
        Facet("channel", "ticket", "channel"),
        Facet("department", "ticket", "department_id", "Department"),
        Facet("assignee", "ticket", "assignee_id", "Agent"),
        Facet("tag", "ticket", ""),
        Facet("account", "contact", "account_id", "Account"),
        Facet("owner", "contact", "owner_id", "Agent"),
    )
}
TOP = 50  # values per facet, most frequent first


def stored_value(facet: Facet, value: str) -> Any:
    """A chosen value as search_doc stores it; InvalidFacet for an unknown enum name."""
    enums = {"status": TicketStatus, "priority": TicketPriority, "channel": Channel}
    if facet.name in enums:
        cls = enums[facet.name]
        try:
            member = cls[value]
        except KeyError:
            raise InvalidFacet(
                f"{value[:40]!r} is not a {facet.name}: one of {', '.join(m.name for m in cls)}"
            ) from None
        return int(member) if facet.name == "priority" else member.value
    return value


def shown_value(facet: Facet, raw: Any) -> str:
    """A stored value as the facet shows it (enum names; ids and tags as they are)."""
    if facet.name == "priority":
        return TicketPriority(int(raw)).name
    return str(raw)


def condition(facet: Facet, values: list[Any], alias: str, pg: bool) -> tuple[str, list[Any]]:
    """`alias`'s row has one of the values, or is of another module."""
    marks = ", ".join("?" for _ in values)
    if facet.column:
        test = f"{alias}.{facet.column} IN ({marks})"
    else:
        test = (
            f"EXISTS (SELECT 1 FROM ticket_tag tt JOIN tag tg ON tg.id = tt.tag_id "
            f"WHERE tt.ticket_id = {alias}.object_id AND tg.name IN ({marks}))"
        )
    return f"({alias}.module <> ? OR {test})", [facet.module, *values]


def narrowing(
    chosen: dict[str, list[Any]], alias: str, pg: bool, *, skip: str | None = None
) -> tuple[str, list[Any]]:
    """The condition of every chosen facet (but `skip`) plus the narrowing to their modules."""
    if not chosen:
        return "1=1", []
    modules = sorted({FACETS[name].module for name in chosen})
    parts = [f"{alias}.module IN ({', '.join('?' for _ in modules)})"]
    params: list[Any] = list(modules)
    for name, values in chosen.items():
        if name == skip:
            continue
        sql, p = condition(FACETS[name], values, alias, pg)
        parts.append(sql)
        params.extend(p)
    return " AND ".join(parts), params


def count_branches(
    chosen: dict[str, list[Any]], modules: list[str], pg: bool
) -> tuple[list[str], list[Any]]:
    """UNION ALL branches over the CTE `m`: the total, per module, and per facet value."""
    text = "TEXT"
    branches: list[str] = []
    params: list[Any] = []
    where, p = narrowing(chosen, "m", pg)
    branches.append(f"SELECT 'total', CAST(NULL AS {text}), COUNT(*) FROM m WHERE {where}")
    params.extend(p)
    branches.append(
        f"SELECT 'module', CAST(m.module AS {text}), COUNT(*) FROM m WHERE {where} "
        "GROUP BY m.module"
    )
    params.extend(p)
    for facet in FACETS.values():
        if facet.module not in modules:
            continue
        where, p = narrowing(chosen, "m", pg, skip=facet.name)
        if facet.column:
            branches.append(
                f"SELECT CAST(? AS {text}), CAST(m.{facet.column} AS {text}), COUNT(*) FROM m "
                f"WHERE m.module = ? AND m.{facet.column} IS NOT NULL AND {where} "
                f"GROUP BY m.{facet.column}"
            )
        else:
            branches.append(
                f"SELECT CAST(? AS {text}), CAST(tg.name AS {text}), COUNT(*) FROM m "
                "JOIN ticket_tag tt ON tt.ticket_id = m.object_id JOIN tag tg ON tg.id = tt.tag_id "
                f"WHERE m.module = ? AND {where} GROUP BY tg.name"
            )
        params.extend([facet.name, facet.module, *p])
    return branches, params
