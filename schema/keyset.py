"""Keyset conditions from a query's ORDER BY (issue 18).

The sort is read from the Tortoise queryset itself (its orderings, else the model's default),
with `id` added as the final tiebreak, so each row has one place. NULLs sort high on both
databases: ascending puts them last, descending first (PostgreSQL's default; on SQLite an
`IS NULL` key is ordered first, since SQLite puts NULLs low).

"After the row at (x, y, id0)" for an ordering (a, b, id) becomes
`a >= x AND (a > x OR (a = x AND b > y) OR (a = x AND b = y AND id > id0))` (with `<` for
descending columns and the NULL cases spelled out); the leading `a >= x` lets an index on
(a, ...) start its range scan at the cursor.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tortoise import fields as tfields
from tortoise.expressions import Q, RawSQL
from tortoise.functions import Lower, Trim, Upper
from tortoise.queryset import QuerySet

NULL_KEY = "_keyset_null_"


@dataclass(frozen=True)
class SortColumn:
    """One column of a keyset ordering."""

    name: str
    desc: bool
    nullable: bool
    field: Any  # the model field; None for an annotation
    source: str  # the table column whose NULLs are the column's NULLs


@dataclass(frozen=True)
class Ordering:
    """The whole keyset ordering of a query (its last column is the primary key)."""

    columns: tuple[SortColumn, ...]

    @property
    def key(self) -> str:
        """The sort as a string, e.g. `-created_at,-id` (checked against a cursor's)."""
        return ",".join(("-" if c.desc else "") + c.name for c in self.columns)


# Annotations a keyset may sort on: functions of one column that are NULL exactly when it is.
NULL_PRESERVING = (Lower, Upper, Trim)


def _column(query: QuerySet[Any], name: str, desc: bool) -> SortColumn | None:
    meta = query.model._meta
    annotation = query._annotations.get(name)
    if annotation is not None:
        inner = getattr(annotation, "field", None)
        if not isinstance(annotation, NULL_PRESERVING) or not isinstance(inner, str):
            return None
        base = meta.fields_map.get(inner)
        if base is None or inner in meta.fetch_fields:
            return None
        return SortColumn(name, desc, bool(base.null), None, base.source_field or inner)
    field = meta.fields_map.get(name)
    if field is None or "__" in name or name in meta.fetch_fields:
        return None
    nullable = bool(field.null) and name != meta.pk_attr
    return SortColumn(name, desc, nullable, field, field.source_field or name)


def ordering_of(query: QuerySet[Any]) -> Ordering | None:
    """The keyset ordering of a query, or None when it sorts by something else than columns of
    its model or a lower-cased column (a relation's column, a computed value): such lists page
    by position."""
    meta = query.model._meta
    pk = meta.pk_attr
    raw = list(query._orderings)
    if not raw and meta.ordering:
        raw = list(meta.ordering)
    columns: list[SortColumn] = []
    for name, order in raw:
        if name in {c.name for c in columns}:
            continue
        desc = str(getattr(order, "value", order)).strip().upper() == "DESC"
        column = _column(query, name, desc)
        if column is None:
            return None
        columns.append(column)
        if name == pk:
            break
    if not columns or columns[-1].name != pk:
        desc = columns[-1].desc if columns else False
        columns.append(
            SortColumn(pk, desc, False, meta.fields_map[pk], meta.fields_map[pk].source_field or pk)
        )
    return Ordering(tuple(columns))


def ordered(query: QuerySet[Any], ordering: Ordering, *, reverse: bool) -> QuerySet[Any]:
    """The query sorted by the ordering (reversed for a backward page), NULLs high."""
    sqlite = query.model._meta.db.capabilities.dialect == "sqlite"
    keys: list[str] = []
    nulls: dict[str, Any] = {}
    table = query.model._meta.db_table
    for i, col in enumerate(ordering.columns):
        desc = col.desc != reverse
        sign = "-" if desc else ""
        if col.nullable and sqlite:
            # SQLite puts NULLs first ascending: order by `IS NULL` first to put them high.
            alias = f"{NULL_KEY}{i}"
            nulls[alias] = RawSQL(f'"{table}"."{col.source}" IS NULL')
            keys.append(sign + alias)
        keys.append(sign + col.name)
    if nulls:
        query = query.annotate(**nulls)
    return query.order_by(*keys)


def row_values(row: Any, ordering: Ordering) -> list[Any]:
    """A row's sort values (then its id), as JSON values for a cursor."""
    out: list[Any] = []
    for col in ordering.columns:
        value = getattr(row, col.name)
        if isinstance(value, enum.Enum):
            value = value.value
        elif isinstance(value, datetime | date):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        out.append(value)
    return out


def parse_values(ordering: Ordering, values: list[Any]) -> list[Any]:
    """A cursor's JSON values as the columns' Python values; ValueError when they do not fit."""
    if len(values) != len(ordering.columns):
        raise ValueError("the cursor has another number of sort values")
    out: list[Any] = []
    for col, value in zip(ordering.columns, values, strict=True):
        if value is None:
            if not col.nullable:
                raise ValueError(f"{col.name} cannot be null")
            out.append(None)
            continue
        field = col.field
        if field is None:
            if not isinstance(value, str):
                raise ValueError(f"{col.name} is text")
            out.append(value)
        elif isinstance(field, tfields.DatetimeField):
            out.append(datetime.fromisoformat(value))
        elif isinstance(field, tfields.DateField):
            out.append(date.fromisoformat(value))
        elif isinstance(field, tfields.DecimalField):
            out.append(Decimal(value))
        elif getattr(field, "enum_type", None) is not None:
            out.append(field.enum_type(value))
        else:
            out.append(value)
    return out


def _beyond(col: SortColumn, value: Any, desc: bool) -> Q | None:
    """Rows strictly past `value` in this column's direction (NULLs high); None: no row is."""
    if value is None:
        # NULL is the highest value: nothing is above it; below it, every non-null.
        return Q(**{f"{col.name}__isnull": False}) if desc else None
    if desc:
        return Q(**{f"{col.name}__lt": value})
    past = Q(**{f"{col.name}__gt": value})
    return past | Q(**{f"{col.name}__isnull": True}) if col.nullable else past


def _equal(col: SortColumn, value: Any) -> Q:
    if value is None:
        return Q(**{f"{col.name}__isnull": True})
    return Q(**{col.name: value})


def _leading(col: SortColumn, value: Any, desc: bool) -> Q | None:
    """`a >= x` (or `<=`) on the first column, so an index range scan starts at the cursor."""
    if value is None:
        return None if desc else Q(**{f"{col.name}__isnull": True})
    if desc:
        return Q(**{f"{col.name}__lte": value})
    at_or_past = Q(**{f"{col.name}__gte": value})
    return at_or_past | Q(**{f"{col.name}__isnull": True}) if col.nullable else at_or_past


def after_condition(ordering: Ordering, values: list[Any], *, reverse: bool) -> Q | None:
    """Rows after the row at `values` in the ordering (before it when `reverse`); None: none."""
    branches: list[Q] = []
    equal: list[Q] = []
    for col, value in zip(ordering.columns, values, strict=True):
        desc = col.desc != reverse
        past = _beyond(col, value, desc)
        if past is not None:
            branch = past
            for eq in equal:
                branch = eq & branch
            branches.append(branch)
        equal.append(_equal(col, value))
    if not branches:
        return None
    condition = branches[0]
    for branch in branches[1:]:
        condition = condition | branch
    first = ordering.columns[0]
    leading = _leading(first, values[0], first.desc != reverse)
    return leading & condition if leading is not None else condition
