"""Reading: a page's rows with the columns its plans need, and related rows by id."""

from __future__ import annotations

import types
from typing import TYPE_CHECKING, Any

from tortoise.models import Model
from tortoise.queryset import QuerySet

from deskql.readpath.compiled.specs import Row
from deskql.schema.connections import CompiledFetch

if TYPE_CHECKING:
    from deskql.readpath.compiled.plan import NodePlan


class Page(CompiledFetch):
    """The plans of one root field's nodes and how its page is read."""

    def __init__(self, model: type[Model], row: type[Row]) -> None:
        self.model = model
        self.row = row
        self.columns: set[str] = set()
        self.plans: dict[tuple[int, ...], NodePlan] = {}
        self.used = False

    async def fetch(self, query: QuerySet[Any]) -> list[Any]:
        """The page's rows with the columns every selection on its nodes needs, and the sort's
        columns and annotations (a keyset cursor is made of them)."""
        columns = set(self.columns)
        for name, _ in query._orderings:
            if name in self.model._meta.fields_db_projection or name in query._annotations:
                columns.add(name)
        values = query.values(*sorted(columns))
        values._choose_db_if_not_chosen()
        values._make_query()
        sql, params = values.query.get_parameterized_sql()
        # The driver's records straight into Rows (what `values()` gives, without its dicts).
        _, records = await values._db.execute_query(sql, params)
        self.used = True
        row = self.row
        if not records:
            return []
        names = list(records[0].keys())
        model = self.model
        convert = []
        for index, name in enumerate(names):
            func = values.resolve_to_python_value(model, values._fields_for_select[name])
            if not isinstance(func, types.LambdaType):
                convert.append((index, func))
        out = []
        for record in records:
            cells = list(record)
            for index, func in convert:
                cells[index] = func(cells[index])
            out.append(row(dict(zip(names, cells, strict=True))))
        return out


async def by_ids(plan: NodePlan, ids: list[int]) -> list[Row]:
    """The rows with these ids, their plan's columns only: one statement written here (the
    ORM's query building costs more than the statement for a list of ids)."""
    model = plan.spec.model
    meta = model._meta
    client = meta.db
    columns = sorted(plan.columns)
    if client.capabilities.dialect == "postgres":
        marks = ",".join(f"${i}" for i in range(1, len(ids) + 1))
    else:
        marks = ",".join("?" * len(ids))
    names = ",".join(f'"{meta.fields_db_projection[c]}"' for c in columns)
    key = meta.fields_db_projection["id"]
    sql = f'SELECT {names} FROM "{meta.db_table}" WHERE "{key}" IN ({marks})'
    _, records = await client.execute_query(sql, ids)
    convert = [meta.fields_map[c].to_python_value for c in columns]
    row = plan.spec.row
    return [
        row({c: f(v) for c, f, v in zip(columns, convert, tuple(r), strict=True)}) for r in records
    ]
