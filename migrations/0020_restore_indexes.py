"""Indexes and unique constraints the models declare that migrated databases lack.

- SQLite: tortoise 1.1.9 rebuilds a table for an AlterField (CREATE new__t, copy, DROP t,
  RENAME) and the rebuilt table keeps only column-level UNIQUE: every index and composite
  unique of the table is gone. 0008, 0009, 0013 and 0014 altered Notification.reason, so
  `notification` lost its unique (agent_id, activity_id) and its (agent_id, id) and
  (agent_id, read_at) indexes (a notification could be stored twice for one activity);
  0012's AlterField of Contact.created_at (db_index) rebuilt `contact` without that index.
- Both dialects: AddField's db_index creates no index, so 0013's Task.account_id has none.

Each index is created under the name tortoise gives it (PostgreSQL has those of
notification and contact already: there this is a no-op for them). Before the unique index,
rows that would violate it are deleted, the lowest id of each (agent_id, activity_id) kept:
the same notification twice is one notification. The migration is one transaction; if it
fails nothing of it stays and it is not recorded.

Reverse: a no-op, on purpose: the models of 0019 declare the same indexes (deleted duplicate
notifications do not come back).
"""

from __future__ import annotations

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

# (name, table, columns, unique): tortoise's names (uid_/idx_ + table + first column + hash).
INDEXES = [
    ("uid_notificatio_agent_i_937090", "notification", ("agent_id", "activity_id"), True),
    ("idx_notificatio_agent_i_e41a9b", "notification", ("agent_id", "id"), False),
    ("idx_notificatio_agent_i_29a86c", "notification", ("agent_id", "read_at"), False),
    ("idx_contact_created_edee29", "contact", ("created_at",), False),
    ("idx_task_account_74d46a", "task", ("account_id",), False),
]


async def index_exists(client: Any, name: str) -> bool:
    """Whether the connected database has an index of this name."""
    if client.capabilities.dialect == "postgres":
        _, found = await client.execute_query(
            "SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1",
            [name],
        )
    else:
        _, found = await client.execute_query(
            "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", [name]
        )
    return bool(found)


async def forwards(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    """Create each missing index; first delete the rows a missing unique one refuses.
    execute_query, not execute_script: SQLite's executescript commits first (the migration's
    transaction would end there)."""
    client = schema_editor.client
    for name, table, columns, unique in INDEXES:
        if await index_exists(client, name):
            continue
        cols = ", ".join(f'"{c}"' for c in columns)
        if unique:
            await client.execute_query(
                f'DELETE FROM "{table}" WHERE id NOT IN '
                f'(SELECT MIN(id) FROM "{table}" GROUP BY {cols})'
            )
        kind = "UNIQUE INDEX" if unique else "INDEX"
        await client.execute_query(f'CREATE {kind} IF NOT EXISTS "{name}" ON "{table}" ({cols})')


class Migration(migrations.Migration):
    dependencies = [("models", "0019_list_indexes")]

    initial = False

    operations = [ops.RunPython(forwards, reverse_code=ops.RunPython.noop)]
