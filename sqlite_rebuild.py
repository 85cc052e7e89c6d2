"""SQLite table rebuilds that keep the table's indexes (migrations).

Tortoise 1.1.9's SQLite schema editor alters or removes a column by rebuilding the table
(CREATE new__t, copy the rows, DROP t, RENAME new__t TO t). The new table keeps column-level
UNIQUE only: every CREATE INDEX of the old table (Meta.indexes, unique_together, db_index,
raw-SQL indexes) is dropped with it and never made again. Migrations 0008-0014 lost the
notification and contact indexes that way (migration 0020 restores them).

This wraps `_remake_table`: the table's index statements are read from sqlite_master before
the rebuild and run again after it, except those on a column the rebuilt table no longer has
and a field's own db_index that the AlterField removes; an AlterField that adds db_index gets
its index (under tortoise's name). An expression index on a removed column makes the rebuild
fail: drop that index first. Applied on import (deskql.db imports it).
"""

from __future__ import annotations

from typing import Any

from tortoise.migrations.schema_editor.sqlite import SqliteSchemaEditor

_original_remake_table = SqliteSchemaEditor._remake_table


def _column(field: Any) -> str:
    return str(field.source_field or field.model_field_name)


async def _table_indexes(editor: SqliteSchemaEditor, table: str) -> list[tuple[str, str, set]]:
    """(name, CREATE statement, column names) of the table's explicitly created indexes; an
    expression's column is None."""
    _, rows = await editor.client.execute_query(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL",
        [table],
    )
    found = []
    for name, sql in ((r[0], r[1]) for r in rows):
        _, cols = await editor.client.execute_query(f'PRAGMA index_info("{name}")')
        found.append((name, sql, {c[2] for c in cols}))
    return found


async def remake_table_keeping_indexes(
    self: SqliteSchemaEditor,
    model: Any,
    create_field: Any = None,
    delete_field: Any = None,
    alter_fields: Any = None,
) -> None:
    """Tortoise's table rebuild, then the old table's indexes again (see the module)."""
    if self.collect_sql:  # sqlmigrate: nothing to read the indexes from
        await _original_remake_table(self, model, create_field, delete_field, alter_fields)
        return
    table = model._meta.db_table
    saved = await _table_indexes(self, table)
    await _original_remake_table(self, model, create_field, delete_field, alter_fields)
    _, cols = await self.client.execute_query(f'PRAGMA table_info("{table}")')
    present = {c[1] for c in cols}
    unindexed = set()
    for old_field, new_field in alter_fields or []:
        if old_field.index and not new_field.index:
            unindexed.add(self._generate_index_name("idx", model, [_column(old_field)]))
    for name, sql, used in saved:
        if name in unindexed or not (used - {None}) <= present:
            continue
        await self._run_sql(sql)
    for old_field, new_field in alter_fields or []:
        if new_field.index and not old_field.index and not new_field.unique:
            column = _column(new_field)
            name = self._generate_index_name("idx", model, [column])
            await self._run_sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")')


SqliteSchemaEditor._remake_table = remake_table_keeping_indexes  # type: ignore[method-assign]
