"""Advanced search (SRC-3): per-field criteria with operators, on the fields the list filters
of tickets, contacts, accounts, products and tasks offer, combined with AND.

Each criterion names a module's field from a fixed list (so no input becomes a column name),
an operator that suits the field's type, and values converted to that type; the module's
criteria become one `object_id IN (SELECT id FROM <table> WHERE ...)` condition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from deskql.models.enums import Channel, TicketPriority, TicketStatus
from deskql.services.errors import ClientError
from deskql.services.search.engine import sql_value


class InvalidCriterion(ClientError):
    """An advanced-search criterion names an unknown field, an unsuitable operator or a value
    that does not fit the field."""

    code = "INVALID_CRITERION"


class Op(StrEnum):
    """Criterion operators."""

    EQUALS = "EQUALS"
    IN = "IN"
    CONTAINS = "CONTAINS"
    STARTS_WITH = "STARTS_WITH"
    BEFORE = "BEFORE"
    AFTER = "AFTER"
    BETWEEN = "BETWEEN"
    IS_EMPTY = "IS_EMPTY"
    NOT_EMPTY = "NOT_EMPTY"


TEXT, ENUM, ID, DATETIME, BOOL, INT = "text", "enum", "id", "datetime", "bool", "int"
OPS = {
    TEXT: {Op.EQUALS, Op.IN, Op.CONTAINS, Op.STARTS_WITH, Op.IS_EMPTY, Op.NOT_EMPTY},
    ENUM: {Op.EQUALS, Op.IN},
    ID: {Op.EQUALS, Op.IN, Op.IS_EMPTY, Op.NOT_EMPTY},
    INT: {Op.EQUALS, Op.IN, Op.BEFORE, Op.AFTER, Op.BETWEEN},
    DATETIME: {Op.BEFORE, Op.AFTER, Op.BETWEEN, Op.IS_EMPTY, Op.NOT_EMPTY},
    BOOL: {Op.EQUALS},
}


@dataclass(frozen=True)
class Field:
    """A searchable column: its SQL name, type, and (ids) the type its global ids name, or
    (enums) how a name becomes the stored value."""

    column: str
    kind: str
    id_type: str = ""
    enum: Callable[[str], Any] | None = None


def _enum(cls: Any, stored: Callable[[Any], Any] = lambda m: m.value) -> Callable[[str], Any]:
    def convert(name: str) -> Any:
        try:
            return stored(cls[name])
        except KeyError:
            raise InvalidCriterion(
                f"{name[:40]!r} is not one of {', '.join(m.name for m in cls)}"
            ) from None

    return convert


_COMMON = {"createdAt": Field("created_at", DATETIME)}
FIELDS: dict[str, tuple[str, dict[str, Field]]] = {
    "ticket": (
        "ticket",
        {
            **_COMMON,
            "number": Field("number", INT),
            "subject": Field("subject", TEXT),
            "description": Field("description", TEXT),
            "status": Field("status", ENUM, enum=_enum(TicketStatus)),
            "priority": Field("priority", ENUM, enum=_enum(TicketPriority, int)),
            "channel": Field("channel", ENUM, enum=_enum(Channel)),
            "department": Field("department_id", ID, "Department"),
            "assignee": Field("assignee_agent_id", ID, "Agent"),
            "team": Field("assignee_team_id", ID, "Team"),
            "contact": Field("contact_id", ID, "Contact"),
            "account": Field("account_id", ID, "Account"),
            "product": Field("product_id", ID, "Product"),
            "isSpam": Field("is_spam", BOOL),
            "updatedAt": Field("updated_at", DATETIME),
            "dueAt": Field("due_at", DATETIME),
            "closedAt": Field("closed_at", DATETIME),
        },
    ),
    "contact": (
        "contact",
        {
            **_COMMON,
            "firstName": Field("first_name", TEXT),
            "lastName": Field("last_name", TEXT),
            "email": Field("email", TEXT),
            "phone": Field("phone", TEXT),
            "mobile": Field("mobile", TEXT),
            "description": Field("description", TEXT),
            "account": Field("account_id", ID, "Account"),
            "owner": Field("owner_id", ID, "Agent"),
            "updatedAt": Field("updated_at", DATETIME),
        },
    ),
    "account": (
        "account",
        {
            **_COMMON,
            "name": Field("name", TEXT),
            "email": Field("email", TEXT),
            "phone": Field("phone", TEXT),
            "website": Field("website", TEXT),
            "description": Field("description", TEXT),
            "owner": Field("owner_id", ID, "Agent"),
            "updatedAt": Field("updated_at", DATETIME),
        },
    ),
    "product": (
        "product",
        {
            **_COMMON,
            "name": Field("name", TEXT),
            "code": Field("code", TEXT),
            "description": Field("description", TEXT),
        },
    ),
    "task": (
        "task",
        {
            **_COMMON,
            "title": Field("title", TEXT),
            "description": Field("description", TEXT),
            "dueAt": Field("due_at", DATETIME),
            "completed": Field("is_completed", BOOL),
            "assignee": Field("assignee_id", ID, "Agent"),
            "ticket": Field("ticket_id", ID, "Ticket"),
            "contact": Field("contact_id", ID, "Contact"),
        },
    ),
}


@dataclass
class Criterion:
    """One condition: module, field name (as listed in FIELDS), operator, values."""

    module: str
    field: str
    op: Op
    values: list[str] = field(default_factory=list)


def _like(text: str) -> str:
    """A LIKE pattern matching `text` literally (`%`, `_` and `\\` escaped)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _convert(f: Field, raw: str, decode_id: Callable[[str, str], int]) -> Any:
    if f.kind == TEXT:
        return raw
    if f.kind == ENUM:
        assert f.enum is not None
        return f.enum(raw)
    if f.kind == ID:
        return decode_id(raw, f.id_type)
    if f.kind == INT:
        try:
            return int(raw)
        except ValueError:
            raise InvalidCriterion(f"{raw[:40]!r} is not a whole number") from None
    if f.kind == BOOL:
        if raw.lower() not in ("true", "false"):
            raise InvalidCriterion(f"{raw[:40]!r} is not true or false")
        return raw.lower() == "true"
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidCriterion(f"{raw[:40]!r} is not an ISO 8601 date or time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _condition(c: Criterion, f: Field, values: list[Any], pg: bool) -> tuple[str, list[Any]]:
    col = f.column
    lower = "LOWER" if pg else "dq_lower"
    like = "ILIKE" if pg else "LIKE"
    if not pg and f.kind == TEXT:
        col = f"dq_lower({col})"
        values = [v.lower() if isinstance(v, str) else v for v in values]
    count = {Op.EQUALS: 1, Op.CONTAINS: 1, Op.STARTS_WITH: 1, Op.BEFORE: 1, Op.AFTER: 1}
    need = 2 if c.op is Op.BETWEEN else count.get(c.op)
    if c.op in (Op.IS_EMPTY, Op.NOT_EMPTY):
        need = 0
    if need is not None and len(values) != need:
        raise InvalidCriterion(
            f"{c.op.value} on {c.field} takes {need} value(s), got {len(values)}"
        )
    if c.op is Op.IN and not 1 <= len(values) <= 100:
        raise InvalidCriterion(f"IN on {c.field} takes 1 to 100 values")
    params = [sql_value(v, pg) for v in values]
    if c.op is Op.EQUALS:
        if f.kind == TEXT:
            return f"{lower}({col}) = {lower}(?)", params
        return f"{col} = ?", params
    if c.op is Op.IN:
        marks = ", ".join("?" for _ in values)
        if f.kind == TEXT:
            return f"{lower}({col}) IN ({', '.join(f'{lower}(?)' for _ in values)})", params
        return f"{col} IN ({marks})", params
    if c.op is Op.CONTAINS:
        return f"{col} {like} ? ESCAPE '\\'", [f"%{_like(values[0])}%"]
    if c.op is Op.STARTS_WITH:
        return f"{col} {like} ? ESCAPE '\\'", [f"{_like(values[0])}%"]
    if c.op is Op.BEFORE:
        return f"{col} < ?", params
    if c.op is Op.AFTER:
        return f"{col} >= ?", params
    if c.op is Op.BETWEEN:
        return f"{col} >= ? AND {col} < ?", params
    empty = f"({f.column} IS NULL OR {f.column} = '')" if f.kind == TEXT else f"{col} IS NULL"
    return (empty if c.op is Op.IS_EMPTY else f"NOT {empty}"), []


def conditions(
    criteria: list[Criterion], decode_id: Callable[[str, str], int], pg: bool
) -> tuple[str, list[Any], set[str]]:
    """The SQL condition on search_doc `d` for these criteria, its parameters, and the modules
    they narrow the search to; InvalidCriterion for an unknown field or unsuitable operator."""
    per_module: dict[str, list[tuple[str, list[Any]]]] = {}
    if len(criteria) > 20:
        raise InvalidCriterion("at most 20 criteria")
    for c in criteria:
        table_fields = FIELDS.get(c.module)
        if table_fields is None:
            raise InvalidCriterion(f"criteria do not apply to {c.module}")
        f = table_fields[1].get(c.field)
        if f is None:
            raise InvalidCriterion(
                f"{c.module} has no field {c.field[:40]!r}; one of {', '.join(table_fields[1])}"
            )
        if c.op not in OPS[f.kind]:
            raise InvalidCriterion(f"{c.op.value} does not apply to {c.module}.{c.field}")
        values = [_convert(f, raw, decode_id) for raw in c.values]
        per_module.setdefault(c.module, []).append(_condition(c, f, values, pg))
    if not per_module:
        return "", [], set()
    parts, params = [], []
    for module, conds in per_module.items():
        table = FIELDS[module][0]
        where = " AND ".join(f"({s})" for s, _ in conds)
        parts.append(f"(d.module = ? AND d.object_id IN (SELECT id FROM {table} WHERE {where}))")
        params.append(module)
        for _, p in conds:
            params.extend(p)
    return "(" + " OR ".join(parts) + ")", params, set(per_module)
