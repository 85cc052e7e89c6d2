"""The search index (SRC-1..4): the search_doc table, its engine, and the existing records.

- search_doc: one row per ticket, contact, account, product and task (services/search);
- the engine: on SQLite an FTS5 table over search_doc kept in step by triggers; on
  PostgreSQL pg_trgm, generated tsvector columns with GIN indexes and a trigram index;
- the backfill: every existing record, in batches of BATCH ids per module (keyset on id),
  read through the historical models on the migration's connection, so a large database is
  never loaded whole. Idempotent (an upsert per record).

Reverse: drops the engine structures and the table.
"""

from __future__ import annotations

from tortoise import fields, migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

from deskql.services.search import engine
from deskql.services.search.index import Source, build_all

BATCH = 1000


async def forwards(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    """Create the engine structures and index the existing records."""
    client = schema_editor.client
    await engine.create_structures(client)
    await build_all(Source(client, apps, columns=engine.COLUMNS_0011), batch=BATCH)


async def backwards(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    """Drop the engine structures (the table goes with DeleteModel)."""
    await engine.drop_structures(schema_editor.client)


class Migration(migrations.Migration):
    dependencies = [("models", "0010_helpcenter")]

    initial = False

    operations = [
        ops.CreateModel(
            name="SearchDocument",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("module", fields.CharField(max_length=16)),
                ("object_id", fields.IntField()),
                ("department_id", fields.IntField(null=True)),
                ("is_spam", fields.BooleanField(default=False)),
                ("letter", fields.CharField(max_length=4, default="")),
                ("status", fields.CharField(max_length=16, null=True)),
                ("priority", fields.IntField(null=True)),
                ("channel", fields.CharField(max_length=16, null=True)),
                ("assignee_id", fields.IntField(null=True)),
                ("account_id", fields.IntField(null=True)),
                ("owner_id", fields.IntField(null=True)),
                ("sort_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("title", fields.CharField(max_length=500, default="")),
                ("body", fields.TextField(default="", unique=False)),
                ("title_terms", fields.TextField(default="", unique=False)),
                ("body_terms", fields.TextField(default="", unique=False)),
            ],
            options={
                "table": "search_doc",
                "app": "models",
                "unique_together": (("module", "object_id"),),
                "indexes": (("module", "letter"),),
                "pk_attr": "id",
                "table_description": "One searchable record: its text (original and folded) "
                "and the fields facets count.",
            },
            bases=["Model"],
        ),
        ops.RunPython(forwards, reverse_code=backwards),
    ]
