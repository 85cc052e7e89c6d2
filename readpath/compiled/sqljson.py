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

# What str.strip() strips: every character str.isspace() calls whitespace
_SPACE = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
_TEXT = (fields.CharField, fields.TextField)
_INT = (fields.IntField, fields.SmallIntField)
# Display names computed by a model property from two columns: f"{first} {last}".strip()
_NAMES = {"name": ("first_name", "last_name")}
# The properties known to compute it so (another model's `name` may not)
_NAME_PROPERTIES = frozenset({"Contact.name", "Agent.name"})


# A request loader's list of strings -> the JSON array of one node's, given its `{id}` column:
# the loader's own statement for one node (schema/loaders.py), NULL when an item is null
LOADED_LISTS = {
    "tags_by_ticket": (
        '(SELECT CASE WHEN count(*) = count("tag"."name") THEN \'[\' || '
        'COALESCE(string_agg(to_json("tag"."name")::text, \',\' ORDER BY "tag"."name"), \'\')'
        ' || \']\' END FROM "ticket_tag" LEFT OUTER JOIN "tag" '
        'ON "tag"."id"="ticket_tag"."tag_id" WHERE "ticket_tag"."ticket_id"={id})'
    ),
}


class NotWritten(Exception):
    """This plan has a part the database does not write here."""


def literal(text: str) -> str:
    """A SQL string literal of this text (standard_conforming_strings: quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


def node_json(plan: NodePlan, table: str, alias: str) -> str | None:
    """The SQL expression writing the JSON of a plan's node from its row (the node's table
    named `table` in the statement, its joined relations `<table>__<path>`), or None when the
    plan has a part not written here."""
    if str(timezone.get_default_timezone()) != "UTC":
        return None
    try:
        return _Writer(table).node(plan, alias)
    except NotWritten:
        return None


class _Writer:
    def __init__(self, table: str) -> None:
        self.table = table

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
                parts.append(LOADED_LISTS[step[2]].format(id=self.column(plan.spec, alias, "id")))
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
            ident = self.column(spec, alias, "id")
            text = literal(f"{plan.type_name}:") + f" || {ident}::text"
            encoded = f"encode(convert_to({text}, 'UTF8'), 'base64')"
            value = f"('\"' || rtrim(translate({encoded}, '+/', '-_'), '=') || '\"')"
            return value  # the key is never null
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
            return f"to_json(btrim({a} || ' ' || {b}, {literal(_SPACE)}))::text"
        field = meta.fields_map.get(row_attr)
        if field is None or row_attr not in meta.fields_db_projection:
            raise NotWritten(row_attr)
        col = self.column(spec, alias, row_attr)
        value = _value(field, leaf, col)
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


def _value(field: Any, leaf: Any, col: str) -> str:
    """The JSON text of a non-null column value as its GraphQL leaf serialises it."""
    kind = type(field)
    if isinstance(leaf, GraphQLEnumType):
        if kind not in (fields.CharEnumFieldInstance, fields.IntEnumFieldInstance):
            raise NotWritten("an enum not from an enum column")
        names = {value.value: name for name, value in leaf.values.items()}
        whens = [
            f"WHEN {literal(str(member.value))} THEN {literal(chr(34) + names[member] + chr(34))}"
            for member in field.enum_type
            if member in names
        ]
        return f"(CASE {col} " + " ".join(whens) + " END)" if whens else "NULL"
    if leaf in (GraphQLString, GraphQLID) and kind in _TEXT:
        return f"to_json({col})::text"
    if leaf is GraphQLInt and kind in _INT:
        return f"{col}::text"
    if leaf is GraphQLBoolean and kind is fields.BooleanField:
        return f"(CASE WHEN {col} THEN 'true' ELSE 'false' END)"
    if getattr(leaf, "name", None) == "DateTime" and kind is fields.DatetimeField:
        utc = f"({col} AT TIME ZONE 'UTC')"
        micro = f"to_char({utc}, 'US')"
        return (
            f"('\"' || to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
            f"(CASE {micro} WHEN '000000' THEN '' ELSE '.' || {micro} END) || '+00:00\"')"
        )
    raise NotWritten(f"{kind.__name__} as {leaf}")


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
