"""Nodes written by PostgreSQL: one SQL expression per plan that builds each node's response
JSON in the page's own statement, byte for byte what `emit` and orjson would write.

A compiled page spends most of its Python time turning the driver's values into Python values
(enum members, datetimes) and those into response values (enum names, ISO strings, global ids),
one function call at a time. When everything a plan writes is a column of the node's table or
of a joined relation, of a type written below, the database writes the node's JSON instead and
the response carries it as it comes (orjson.Fragment): the text of the response is the same,
and the work moves from the one Python process to the database's own processes.

Written here (anything else and the page is read as rows, as before):
- String and ID from text columns: `to_json(text)`, which escapes exactly what orjson escapes
  (`"`, `\\`, the control characters, with the same short forms and lowercase \\u00xx);
- Int from 16/32-bit integer columns, Boolean from boolean columns;
- an enum from a text or integer enum column, by a CASE over the enum's members (a value that
  is not a member gives no JSON: the page goes to the full executor, which refuses it as
  before);
- DateTime from a timestamp with time zone, in UTC, as `datetime.isoformat()` writes it
  (microseconds only when not zero), when Tortoise's time zone is UTC;
- the global id (base64url of "Type:id", unpadded), `__typename`, and a model's display
  `name` (first and last name joined by a space, stripped as `str.strip()` strips);
- to-one relations joined into the page (the first target whose key is set decides; a joined
  row that is gone is null);
- a ticket's tag names (the loader's statement for one ticket, in a subquery).
A null at a non-null field makes the whole node's JSON null, and a page with such a node goes
to the full executor, as `emit`'s refusal does.
"""

from __future__ import annotations

import sys
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLInt,
    GraphQLObjectType,
    GraphQLString,
)
from tortoise import timezone
from tortoise.fields import data as fields

from deskql.readpath.compiled.plan import JOINED, LEAF, LOADED, TYPENAME, NodePlan
from deskql.readpath.compiled.specs import Spec
from deskql.schema.ids import to_global_id
from deskql.schema.loaders import TAG_NAME, TAG_NAMES_FROM

# What str.strip() strips: every character str.isspace() calls whitespace
_SPACE = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
_TEXT = (fields.CharField, fields.TextField)
_INT = (fields.IntField, fields.SmallIntField)
# Display names computed by a model property from two columns: f"{first} {last}".strip()
_NAMES = {"name": ("first_name", "last_name")}
# The properties known to compute it so (another model's `name` may not)
_NAME_PROPERTIES = frozenset({"Contact.name", "Agent.name"})


class NotWritten(Exception):
    """This plan has a part the database does not write here."""


def literal(text: str) -> str:
    """A SQL string literal of this text (standard_conforming_strings: quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


class Postgres:
    """How PostgreSQL writes each kind of value as JSON text."""

    def text(self, col: str) -> str:
        """A JSON string of a text value."""
        return f"to_json({col})::text"

    def integer(self, col: str) -> str:
        """A JSON number of an integer value."""
        return f"{col}::text"

    def boolean(self, col: str) -> str:
        """true or false."""
        return f"(CASE WHEN {col} THEN 'true' ELSE 'false' END)"

    def datetime(self, col: str) -> str:
        """`datetime.isoformat()` of the instant in UTC (microseconds only when not zero)."""
        utc = f"({col} AT TIME ZONE 'UTC')"
        micro = f"to_char({utc}, 'US')"
        return (
            f"('\"' || to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
            f"(CASE {micro} WHEN '000000' THEN '' ELSE '.' || {micro} END) || '+00:00\"')"
        )

    def global_id(self, type_name: str, col: str) -> str:
        """The JSON string of schema.ids.to_global_id(type_name, id)."""
        text = literal(f"{type_name}:") + f" || {col}::text"
        encoded = f"encode(convert_to({text}, 'UTF8'), 'base64')"
        return f"('\"' || rtrim(translate({encoded}, '+/', '-_'), '=') || '\"')"

    def name(self, first: str, last: str) -> str:
        """The JSON string of f"{first} {last}".strip()."""
        return f"to_json(btrim({first} || ' ' || {last}, {literal(_SPACE)}))::text"

    def tags(self, ticket_id: str) -> str:
        """A ticket's tag names as the tags loader gives them (schema/loaders._tag_names)."""
        name = TAG_NAME
        return (
            f"(SELECT CASE WHEN count(*) = count({name}) THEN '[' || COALESCE(string_agg("
            f"to_json({name})::text, ',' ORDER BY {name}), '') || ']' END {TAG_NAMES_FROM} "
            f'WHERE "ticket_tag"."ticket_id"={ticket_id})'
        )


class Sqlite(Postgres):
    """How SQLite writes them: json_quote escapes as orjson does; a value not of its column's
    type (SQLite keeps what it is given) writes NULL, and the page goes to the full executor;
    global ids by a function (sqlite_functions); datetimes are not written (kept as text in
    the offset they were written with)."""

    def text(self, col: str) -> str:
        """A JSON string of a text value."""
        return f"(CASE WHEN typeof({col}) = 'text' THEN json_quote({col}) END)"

    def integer(self, col: str) -> str:
        """A JSON number of an integer value."""
        return f"(CASE WHEN typeof({col}) = 'integer' THEN CAST({col} AS TEXT) END)"

    def boolean(self, col: str) -> str:
        """true or false (stored as 1 or 0)."""
        return f"(CASE {col} WHEN 1 THEN 'true' WHEN 0 THEN 'false' END)"

    def datetime(self, col: str) -> str:
        """Not written."""
        raise NotWritten("datetimes on SQLite")

    def global_id(self, type_name: str, col: str) -> str:
        """The JSON string of schema.ids.to_global_id(type_name, id)."""
        return f"dq_gid({literal(type_name)}, {col})"

    def name(self, first: str, last: str) -> str:
        """The JSON string of f"{first} {last}".strip()."""
        joined = f"{self.text(first)} || {self.text(last)}"  # NULL unless both are text
        trimmed = f"trim({first} || ' ' || {last}, {literal(_SPACE)})"
        return f"(CASE WHEN ({joined}) IS NOT NULL THEN json_quote({trimmed}) END)"

    def tags(self, ticket_id: str) -> str:
        """A ticket's tag names as the tags loader gives them (schema/loaders._tag_names);
        an aggregate over an ordered subquery is not flattened, so it keeps the order."""
        name = TAG_NAME
        return (
            "(SELECT CASE WHEN count(*) = count(n) THEN '[' || COALESCE(group_concat(j, ','), '')"
            f" || ']' END FROM (SELECT {name} n, json_quote({name}) j {TAG_NAMES_FROM} "
            f'WHERE "ticket_tag"."ticket_id"={ticket_id} ORDER BY {name}))'
        )


DIALECTS = {"postgres": Postgres(), "sqlite": Sqlite()}
# A request loader's list of strings -> how a dialect writes one node's
LOADED_LISTS = {"tags_by_ticket": "tags"}


def node_json(plan: NodePlan, dialect: str, table: str) -> str | None:
    """The SQL expression writing the JSON of a plan's node from its row (the node's table
    named `table` in the statement, its joined relations `<table>__<path>`), or None when the
    plan has a part not written here."""
    writer = DIALECTS.get(dialect)
    if writer is None or str(timezone.get_default_timezone()) != "UTC":
        return None
    try:
        return _Writer(writer).node(plan, table)
    except NotWritten:
        return None


def _gid(type_name: object, pk: object) -> str | None:
    if type(type_name) is not str or type(pk) is not int:
        return None
    return '"' + to_global_id(type_name, pk) + '"'


async def sqlite_functions(client: Any) -> None:
    """Give a SQLite connection `dq_gid` (global ids as JSON strings), once."""
    raw = getattr(client, "_connection", None)
    if raw is None or getattr(raw, "_deskql_gid", False):
        return
    await raw.create_function("dq_gid", 2, _gid, deterministic=True)
    raw._deskql_gid = True


class _Writer:
    def __init__(self, dialect: Postgres) -> None:
        self.dialect = dialect

    def node(self, plan: NodePlan, alias: str) -> str:
        """Concatenation writing `{"key":value,...}`: NULL when a non-null field is null."""
        if not plan.direct or plan.lean:
            raise NotWritten("not read from rows")
        by_attr = _fields_by_attr(plan.object_type)
        parts: list[str] = []
        for number, step in enumerate(plan.steps):
            kind, key = step[0], step[1]
            head = ("{" if number == 0 else ",") + f'"{key}":'
            if kind == TYPENAME:
                parts.append(literal(f'{head}"{step[2]}"'))
                continue
            parts.append(literal(head))
            if kind == LEAF:
                parts.append(self.leaf(plan, alias, step, by_attr))
            elif kind == JOINED:
                parts.append(self.joined(plan, alias, step))
            elif kind == LOADED and step[2] in LOADED_LISTS and step[3] is GraphQLString.serialize:
                write = getattr(self.dialect, LOADED_LISTS[step[2]])
                parts.append(write(self.column(plan.spec, alias, "id")))
            else:
                raise NotWritten("a step written by Python")
        parts.append(literal("}" if plan.steps else "{}"))
        return "(" + " || ".join(parts) + ")"

    def column(self, spec: Spec, alias: str, name: str) -> str:
        db = spec.model._meta.fields_db_projection[name]
        return f'"{alias}"."{db}"'

    def leaf(
        self, plan: NodePlan, alias: str, step: tuple[Any, ...], by_attr: dict[str, Any]
    ) -> str:
        _, _, attr, _, nonnull = step[:5]
        spec = plan.spec
        row_attr = spec.row_attr(attr)
        if row_attr is None:
            if attr != "id":
                raise NotWritten(attr)
            # the key is never null
            return self.dialect.global_id(plan.type_name, self.column(spec, alias, "id"))
        leaf = by_attr.get(attr)
        if leaf is None:
            raise NotWritten(attr)
        meta = spec.model._meta
        if row_attr in _NAMES and row_attr not in meta.fields_map:
            prop = getattr(spec.model, row_attr, None)
            fget = getattr(prop, "fget", None)
            if getattr(fget, "__qualname__", None) not in _NAME_PROPERTIES:
                raise NotWritten(row_attr)
            first, last = (meta.fields_map[c] for c in _NAMES[row_attr])
            if leaf is not GraphQLString or first.null or last.null:
                raise NotWritten(row_attr)
            a, b = (self.column(spec, alias, c) for c in _NAMES[row_attr])
            return self.dialect.name(a, b)
        field = meta.fields_map.get(row_attr)
        if field is None or row_attr not in meta.fields_db_projection:
            raise NotWritten(row_attr)
        col = self.column(spec, alias, row_attr)
        value = _value(self.dialect, field, leaf, col)
        if nonnull:
            return value
        return f"(CASE WHEN {col} IS NULL THEN 'null' ELSE {value} END)"

    def joined(self, plan: NodePlan, alias: str, step: tuple[Any, ...]) -> str:
        _, _, targets, nonnull = step
        none = "NULL" if nonnull else "'null'"
        whens = []
        for attr, prefix, sub in targets:
            row_attr = plan.spec.row_attr(attr)
            if row_attr is None or row_attr not in plan.spec.model._meta.fields_db_projection:
                raise NotWritten(attr)
            key = self.column(plan.spec, alias, row_attr)
            path = alias + "__" + prefix[:-2]
            sub_id = self.column(sub.spec, path, "id")
            value = self.node(sub, path)
            whens.append(
                f"WHEN {key} IS NOT NULL THEN "
                f"(CASE WHEN {sub_id} IS NOT NULL THEN {value} ELSE {none} END)"
            )
        return "(CASE " + " ".join(whens) + f" ELSE {none} END)"


def _value(dialect: Postgres, field: Any, leaf: Any, col: str) -> str:
    """The JSON text of a non-null column value as its GraphQL leaf serialises it."""
    kind = type(field)
    if isinstance(leaf, GraphQLEnumType):
        if kind not in (fields.CharEnumFieldInstance, fields.IntEnumFieldInstance):
            raise NotWritten("an enum not from an enum column")
        names = {value.value: name for name, value in leaf.values.items()}
        whens = [
            f"WHEN {_sql_value(member.value)} THEN {literal(chr(34) + names[member] + chr(34))}"
            for member in field.enum_type
            if member in names
        ]
        return f"(CASE {col} " + " ".join(whens) + " END)" if whens else "NULL"
    if leaf in (GraphQLString, GraphQLID) and kind in _TEXT:
        return dialect.text(col)
    if leaf is GraphQLInt and kind in _INT:
        return dialect.integer(col)
    if leaf is GraphQLBoolean and kind is fields.BooleanField:
        return dialect.boolean(col)
    if getattr(leaf, "name", None) == "DateTime" and kind is fields.DatetimeField:
        return dialect.datetime(col)
    raise NotWritten(f"{kind.__name__} as {leaf}")


def _sql_value(value: Any) -> str:
    """An enum member's database value as a SQL literal (a number unquoted)."""
    if type(value) is int:
        return str(value)
    if isinstance(value, str):
        return literal(value)
    raise NotWritten(f"an enum value {value!r}")


def _fields_by_attr(object_type: GraphQLObjectType) -> dict[str, Any]:
    """Schema attribute -> the GraphQL leaf type of the field reading it (unwrapped)."""
    found: dict[str, Any] = {}
    for field_def in object_type.fields.values():
        definition = field_def.extensions.get("strawberry-definition")
        if definition is None:
            continue
        gtype = field_def.type
        while hasattr(gtype, "of_type"):
            gtype = gtype.of_type
        found[definition.python_name] = gtype
    return found
