"""Search speed (issue 14's benchmark aims): the index rows rebuilt in a faster layout.

- `search_doc.tag_ids`: the ids of a ticket's tags on its row (PostgreSQL `INT[]`, SQLite a
  JSON array), so the tag facet counts and narrows without joining ticket_tag;
- PostgreSQL: `toast_tuple_target = 128`, so texts and tsvectors leave the heap row and a
  match's filters and facet columns are read from ~120-byte rows; SQLite: the FTS row is
  rewritten only when the text changes;
- an index on (sort_at DESC, id DESC): the newest matches first (suggestions, candidates);
- the rows are rebuilt from the records (TRUNCATE, then batches of BATCH ids per module, as
  migration 0011 does), since a row keeps the layout it was written with.

Reverse: drops the column and the index, resets the storage (rows stay as they are).
"""

from __future__ import annotations

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

from deskql.services.search import engine
from deskql.services.search.index import Source, build_all

BATCH = 1000


async def forwards(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    """Add the column, storage and index; rebuild every index row."""
    client = schema_editor.client
    await engine.create_speed_structures(client)
    await engine.clear(client)
    await build_all(Source(client, apps), batch=BATCH)
    if engine.is_postgres(client):
        await client.execute_script("ANALYZE search_doc")


async def backwards(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    """Drop what forwards added."""
    await engine.drop_speed_structures(schema_editor.client)


class Migration(migrations.Migration):
    dependencies = [("models", "0014_integration")]

    initial = False

    operations = [ops.RunPython(forwards, reverse_code=backwards)]
