"""A freshly migrated database has every index and unique constraint the models declare
(Meta.indexes, unique_together, fields' db_index and unique), on SQLite and PostgreSQL: a
migration that loses one (tortoise's SQLite table rebuild did, migration 0020) fails here.
The unique (agent, activity) of notifications is enforced on both, and a SQLite table rebuild
(sqlite_rebuild) keeps the table's indexes."""

from __future__ import annotations

from typing import Any

import pytest
from tortoise import Tortoise
from tortoise.connection import get_connection
from tortoise.exceptions import IntegrityError
from tortoise.migrations.schema_editor.sqlite import SqliteSchemaEditor

from deskql import models
from deskql.models.enums import NotificationReason
from deskql.settings import Settings

Index = tuple[bool, tuple[str, ...]]  # (unique, columns in order)


def column(model: Any, name: str) -> str:
    """The column of a model field name (a foreign key's `agent` is `agent_id`)."""
    meta = model._meta
    if name in meta.fields_db_projection:
        return str(meta.fields_db_projection[name])
    field = meta.fields_map.get(name)
    if field is not None and getattr(field, "source_field", None):
        return str(field.source_field)
    return name


def declared(model: Any) -> set[Index]:
    """The indexes and unique constraints a model declares."""
    meta = model._meta
    out: set[Index] = set()
    for ix in meta.indexes:
        out.add((False, tuple(column(model, f) for f in getattr(ix, "fields", ix))))
    for together in meta.unique_together:
        out.add((True, tuple(column(model, f) for f in together)))
    for name, col in meta.fields_db_projection.items():
        field = meta.fields_map[name]
        if field.pk:
            continue
        if field.unique:
            out.add((True, (col,)))
        elif field.index:
            out.add((False, (col,)))
    return out


async def actual(settings: Settings, table: str) -> set[Index]:
    """The indexes of a table in the connected database (expressions' columns are None)."""
    conn = get_connection("default")
    if not settings.is_embedded_db:
        _, found = await conn.execute_query(
            """SELECT x.indisunique AS uq, array(
                 SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(n, o)
                 LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n
                 ORDER BY k.o) AS cols
               FROM pg_index x WHERE x.indrelid = $1::regclass AND NOT x.indisprimary""",
            [table],
        )
        return {(bool(r["uq"]), tuple(r["cols"])) for r in found}
    _, listed = await conn.execute_query(f'PRAGMA index_list("{table}")')
    out: set[Index] = set()
    for row in listed:
        if row[3] == "pk":
            continue
        _, cols = await conn.execute_query(f'PRAGMA index_info("{row[1]}")')
        out.add((bool(row[2]), tuple(c[2] for c in sorted(cols, key=lambda c: c[0]))))
    return out


def missing(wanted: set[Index], found: set[Index]) -> set[Index]:
    """Declared indexes the table lacks (a unique index on the same columns serves an index)."""
    return {ix for ix in wanted if ix not in found and (True, ix[1]) not in found}


async def test_every_declared_index_and_unique_constraint_exists(database: Settings) -> None:
    lacking = {}
    for model in Tortoise.apps["models"].values():
        table = model._meta.db_table
        gap = missing(declared(model), await actual(database, table))
        if gap:
            lacking[table] = sorted(gap)
    assert lacking == {}


def test_the_declared_sets_read_the_models() -> None:
    assert declared(models.Notification) == {
        (True, ("agent_id", "activity_id")),
        (False, ("agent_id", "id")),
        (False, ("agent_id", "read_at")),
    }
    assert (False, ("created_at",)) in declared(models.Contact)
    assert (True, ("email",)) in declared(models.Contact)
    assert (False, ("account_id",)) in declared(models.Task)


async def test_a_notification_twice_for_one_activity_is_refused(world: Any) -> None:
    activity = await models.Activity.create(
        kind="ticket.created", actor=world.admin, subject_type="ticket", subject_id=1
    )
    first = await models.Notification.create(
        agent=world.alice, activity=activity, reason=NotificationReason.FOLLOWING
    )
    with pytest.raises(IntegrityError):
        await models.Notification.create(
            agent=world.alice, activity=activity, reason=NotificationReason.MENTIONED
        )
    # Another agent, or another activity, is another notification.
    await models.Notification.create(
        agent=world.bob, activity=activity, reason=NotificationReason.FOLLOWING
    )
    assert [n.id for n in await models.Notification.filter(agent=world.alice)] == [first.id]


async def test_a_sqlite_table_rebuild_keeps_the_tables_indexes(clean_db: Settings) -> None:
    if not clean_db.is_embedded_db:
        pytest.skip("SQLite's table rebuild (PostgreSQL alters in place)")
    before = await actual(clean_db, "notification")
    reason = models.Notification._meta.fields_map["reason"]
    editor = SqliteSchemaEditor(get_connection("default"), atomic=False)
    await editor._remake_table(models.Notification, alter_fields=[(reason, reason)])
    assert await actual(clean_db, "notification") == before
    assert not missing(declared(models.Notification), before)
