"""Reading: a page's rows with the columns its plans need, and related rows by id."""

from __future__ import annotations

import asyncio
import types
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pypika_tortoise import JoinType, Table
from pypika_tortoise.queries import JoinOn
from pypika_tortoise.terms import Parameterizer, ValueWrapper
from tortoise import timezone
from tortoise.fields.data import CharEnumFieldInstance, DatetimeField, IntEnumFieldInstance
from tortoise.models import Model
from tortoise.queryset import QuerySet

from deskql.db import placeholders
from deskql.readpath.compiled.specs import Row
from deskql.schema.connections import CompiledFetch

if TYPE_CHECKING:
    from deskql.readpath.compiled.plan import NodePlan


class Page(CompiledFetch):
    """The plans of one root field's nodes and how its page is read."""

    def __init__(
        self, model: type[Model], row: type[Row], statics: dict[Any, Static | None] | None = None
    ) -> None:
        self.model = model
        self.row = row
        self.columns: set[str] = set()
        self.plans: dict[tuple[int, ...], NodePlan] = {}
        self.used = False
        # The parts of its statement that do not change between requests (kept by the plan)
        self.statics: dict[Any, Static | None] = {} if statics is None else statics
        # A column every row carries beside the sort's (the key a loader groups rows by)
        self.group: str | None = None

    async def fetch(self, query: QuerySet[Any]) -> list[Any]:
        """The page's rows with the columns every selection on its nodes needs, and the sort's
        columns and annotations (a keyset cursor is made of them)."""
        meta = self.model._meta
        sort = {"id"} if self.group is None else {"id", self.group}
        for name, _ in query._orderings:
            if name in meta.fields_db_projection or name in query._annotations:
                sort.add(name)
        # The request's own part (filters, sort, slice) is built by Tortoise from the query on
        # its sort's columns alone; the other columns and the joins come from the Static.
        values = query.values(*sorted(sort))
        values._choose_db_if_not_chosen()
        values._make_query()
        static = self._static(query, values, sort)
        built = static.splice(values.query) if static is not None else None
        if built is None:
            values, convert = self._whole(query, sort)
            sql, params = values.query.get_parameterized_sql()
        else:
            sql, params = built
            convert = dict(static.convert)
            for name, field in values._fields_for_select.items():
                convert[name] = values.resolve_to_python_value(self.model, field)
        if built is not None and JSON in static.convert:
            await _functions(values._db)
        # The driver's records straight into Rows (what `values()` gives, without its dicts).
        _, records = await values._db.execute_query(sql, params)
        self.used = True
        if not records:
            return []
        names = tuple(records[0].keys())
        # As values() does: plain functions (identities) are not applied.
        steps = tuple(
            (name, f) for name in names if not isinstance(f := convert[name], types.LambdaType)
        )
        if static is not None:
            return static.rows(self.row, names, steps)(records)
        return _rows_maker(self.row, names, tuple((n, faster(f)) for n, f in steps))(records)

    def _whole(self, query: QuerySet[Any], sort: set[str]) -> tuple[Any, dict[str, Any]]:
        """The page's whole statement built by Tortoise (columns, joins and all) and its
        columns' conversions."""
        local = {c for c in self.columns if "__" not in c} | sort
        values = query.values(*sorted(local))
        values._choose_db_if_not_chosen()
        values._make_query()
        convert = {
            name: values.resolve_to_python_value(self.model, field)
            for name, field in values._fields_for_select.items()
        }
        _join_related(values.query, self.model, self.columns - local, convert)
        return values, convert

    def _static(self, query: QuerySet[Any], values: Any, sort: set[str]) -> Static | None:
        """The unchanging parts of this page's statement for this sort (built once)."""
        dialect = values._db.capabilities.dialect
        key = (dialect, tuple(sorted(sort)))
        if key not in self.statics:
            whole, convert = self._whole(query, sort)
            json = self._json(dialect)
            self.statics[key] = Static.of(whole.query, sort, convert, json)
        return self.statics[key]

    def _json(self, dialect: str) -> str | None:
        """The expression writing the JSON of the page's nodes (readpath.compiled.sqljson),
        when the page has one selection on its nodes and the database can write all of it."""
        from deskql.readpath.compiled import sqljson  # it plans with plan.py, which needs us

        if len(self.plans) != 1:
            return None
        (plan,) = self.plans.values()
        return sqljson.node_json(plan, dialect, self.model._meta.db_table)


class Nodes(CompiledFetch):
    """The pages of `node`/`nodes`: per GraphQL type whose selection compiles, how its objects
    are read (by resolvers/nodes.py, on the same visible() query it builds for that type)."""

    model = None

    def __init__(self, pages: dict[str, Page]) -> None:
        self.pages = pages

    def of_type(self, type_name: str) -> Page | None:
        """The page reading objects of this type, or None (they are read as always)."""
        return self.pages.get(type_name)


class Children(CompiledFetch):
    """The lists a Grouped loader (schema.loaders) gives for a level's objects, read by a page
    as rows of the selected columns: one statement, on the loader's own query, for every key
    the level holds (schema.types.common.loaded asks for each key's list)."""

    def __init__(self, page: Page, loader: Any, keys: list[int]) -> None:
        self.page = page
        self.model = page.model
        self.loader = loader
        self.keys = keys
        self.read: asyncio.Future[dict[int, list[Row]]] | None = None
        page.group = loader.key

    async def children(self, loader: Any, key: int) -> list[Any] | None:
        """This key's rows when `loader` is the one read here, else None."""
        if loader is not self.loader:
            return None
        if self.read is None:
            self.read = asyncio.ensure_future(self._read())
        return (await self.read).get(key, [])

    async def _read(self) -> dict[int, list[Row]]:
        groups: dict[int, list[Row]] = {}
        key = self.loader.key
        for row in await self.page.fetch(self.loader.query(sorted(set(self.keys)))):
            groups.setdefault(getattr(row, key), []).append(row)
        return groups


class Static:
    """The parts of a page's statement that depend on its plan only: the columns beside the
    sort's (the node's own and the joined relations'), the joins, their conversions. A
    request's statement is Tortoise's statement on the sort's columns with these spliced in:
    `SELECT <sort columns>` + columns + ` FROM <table>` + joins + its WHERE, ORDER BY, LIMIT."""

    def __init__(self, columns: str, source: str, joins: str, convert: dict[str, Any]) -> None:
        self.columns = columns
        self.source = source
        self.joins = joins
        self.convert = convert
        self.fast = {name: faster(f) for name, f in convert.items()}
        # (columns, conversions) -> the function making a page's Rows from its records
        self.makers: dict[Any, Callable[[Any], list[Row]]] = {}

    def rows(
        self, row: type[Row], names: tuple[str, ...], steps: tuple[tuple[str, Any], ...]
    ) -> Callable[[Any], list[Row]]:
        """The function making Rows of these columns with these conversions (generated once:
        the same columns come with the same conversions, equal bound methods, each request)."""
        key = (names, steps)
        maker = self.makers.get(key)
        if maker is None:
            if len(self.makers) >= MAKERS:
                self.makers.clear()
            fast = tuple((n, self.fast.get(n) or faster(f)) for n, f in steps)
            maker = self.makers[key] = _rows_maker(row, names, fast)
        return maker

    @classmethod
    def of(
        cls, query: Any, sort: set[str], convert: dict[str, Any], json: str | None = None
    ) -> Static | None:
        """The Static of a whole page statement (Tortoise's, joins added); None when its
        columns or joins carry parameters (then every request builds its whole statement).
        With `json`, the nodes' JSON written by the database is read instead of their columns
        (the joins stay: it reads theirs)."""
        ctx = query.QUERY_CLS.SQL_CONTEXT.copy(with_namespace=True, parameterizer=Parameterizer())
        select_ctx = ctx.copy(subquery=True, with_alias=True)
        columns = "".join(
            "," + term.get_sql(select_ctx) for term in query._selects if term.alias not in sort
        )
        joins = "".join(" " + join.get_sql(ctx) for join in query._joins)
        source = query._from_sql(ctx)
        if ctx.parameterizer.values:
            return None
        if json is not None:
            return cls(f',{json} "{JSON}"', source, joins, {JSON: _same})
        extra = {term.alias for term in query._selects if term.alias not in sort}
        return cls(columns, source, joins, {k: v for k, v in convert.items() if k in extra})

    def splice(self, query: Any) -> tuple[str, list[Any]] | None:
        """This request's statement and parameters from Tortoise's statement on the sort's
        columns (`query`), or None when that statement is not of the expected shape (it
        joins tables itself, or does not begin `SELECT ... FROM <table>`)."""
        if query._joins:
            return None
        # Columns are named with their table (the joined tables have columns of these names).
        query._foreign_table = True
        # The page's size and offset written into the statement, not passed as parameters:
        # PostgreSQL plans a prepared statement with an unknown LIMIT for a tenth of the table
        # and so keeps planning it again for every request (a third of the page's database
        # time); with the number in it, its generic plan is as good and is kept after five.
        for attr in ("_limit", "_offset"):
            term = getattr(query, attr)
            if isinstance(term, ValueWrapper) and type(term.value) is int:
                setattr(query, attr, ValueWrapper(term.value, allow_parametrize=False))
        sql, params = query.get_parameterized_sql()
        ctx = query.QUERY_CLS.SQL_CONTEXT.copy(with_namespace=True, parameterizer=Parameterizer())
        head = query._select_sql(ctx)
        start = head + self.source
        if not sql.startswith(start):
            return None
        return head + self.columns + self.source + self.joins + sql[len(start) :], params


# Sets of columns and conversions whose Row makers a Static keeps
MAKERS = 16
# The column of a node's JSON written by the database (readpath.compiled.sqljson)
JSON = "dq_json"


def _rows_maker(
    row: type[Row], names: tuple[str, ...], steps: tuple[tuple[str, Any], ...]
) -> Callable[[Any], list[Row]]:
    """A function making Rows from driver records with these column names, each converted by
    its step (one dict display per record, written for these columns)."""
    scope: dict[str, Any] = {"make": row.of}
    convert = dict(steps)
    cells = []
    for index, name in enumerate(names):
        if name in convert:
            scope[f"f{index}"] = convert[name]
            cells.append(f"{name!r}: f{index}(r[{index}])")
        else:
            cells.append(f"{name!r}: r[{index}]")
    src = "\n".join(
        [
            "def rows(records):",
            "    out = []",
            "    append = out.append",
            "    for r in records:",
            "        append(make({" + ", ".join(cells) + "}))",
            "    return out",
        ]
    )
    exec(compile(src, f"<rows {row.__name__}>", "exec"), scope)  # noqa: S102
    return scope["rows"]


def _join_related(
    query: Any, model: type[Model], joined: set[str], convert: dict[str, Any]
) -> None:
    """LEFT OUTER JOIN each to-one relation of `<relation>__<column>` names once (and theirs
    for `<relation>__<relation>__<column>`) and select those columns under those names (what
    values() does a join lookup per column for)."""
    by_path: dict[str, list[str]] = {}
    for name in sorted(joined):
        path, _, column = name.rpartition("__")
        by_path.setdefault(path, []).append(column)
    meta = model._meta
    # path -> (the joined table, its model); a path's parent is joined before it
    tables: dict[str, tuple[Table, type[Model]]] = {"": (meta.basetable, model)}
    for path in sorted(by_path, key=lambda p: p.count("__")):
        parent, _, relation = path.rpartition("__")
        owner_table, owner = tables[parent]
        field = owner._meta.fields_map[relation]
        related = field.related_model
        rmeta = related._meta
        table = Table(rmeta.db_table, alias=f"{meta.db_table}__{path}")
        source = owner._meta.fields_db_projection[field.source_field]
        on = table[rmeta.db_pk_column] == owner_table[source]
        # Appended as do_join would, without its validation of tables known to be there.
        query._joins.append(JoinOn(table, JoinType.left_outer, on))
        tables[path] = (table, related)
        for column in by_path[path]:
            name = f"{path}__{column}"
            query._select_field(table[rmeta.fields_db_projection[column]].as_(name))
            convert[name] = (
                _same
                if column in (x[1] for x in rmeta.db_native_fields)
                else rmeta.fields_map[column].to_python_value
            )


async def _functions(client: Any) -> None:
    """The functions a statement writing JSON calls, on a SQLite connection."""
    if client.capabilities.dialect == "sqlite":
        from deskql.readpath.compiled import sqljson  # it plans with plan.py, which needs us

        await sqljson.sqlite_functions(client)


def _same(value: Any) -> Any:
    return value


def faster(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A field's to_python_value, with the common cases answered the same way without its
    general steps: an enum member by its value from the enum's own table, an aware datetime
    moved to the default time zone (both as Tortoise does); anything else goes to it."""
    field = getattr(convert, "__self__", None)
    method = getattr(convert, "__func__", None)
    if (
        isinstance(field, CharEnumFieldInstance | IntEnumFieldInstance)
        and method is type(field).to_python_value
    ):
        members = field.enum_type._value2member_map_

        def enum_member(value: Any) -> Any:
            try:
                return members[value]
            except (KeyError, TypeError):
                return convert(value)

        return enum_member
    if isinstance(field, DatetimeField) and method is DatetimeField.to_python_value:
        if not timezone.get_use_tz():
            return convert
        zone = timezone.get_default_timezone()

        def aware(value: Any) -> Any:
            if type(value) is datetime and value.utcoffset() is not None:
                return value.astimezone(zone)
            return convert(value)

        return aware
    return convert


async def by_ids(plan: NodePlan, ids: list[int]) -> list[Row]:
    """The rows with these ids, their plan's columns only: one statement written here (the
    ORM's query building costs more than the statement for a list of ids)."""
    model = plan.spec.model
    meta = model._meta
    client = meta.db
    columns = sorted(plan.columns)
    marks = placeholders(client, len(ids))
    names = ",".join(f'"{meta.fields_db_projection[c]}"' for c in columns)
    key = meta.fields_db_projection["id"]
    sql = f'SELECT {names} FROM "{meta.db_table}" WHERE "{key}" IN ({marks})'
    _, records = await client.execute_query(sql, ids)
    convert = [faster(meta.fields_map[c].to_python_value) for c in columns]
    row = plan.spec.row
    return [
        row({c: f(v) for c, f, v in zip(columns, convert, tuple(r), strict=True)}) for r in records
    ]
