"""Indexes for the ticket list's STATUS and SUBJECT sorts (each sort column then id, the keyset
tiebreak) and for every sort within one department (the ORG-5 scope of an agent whose department
is a small part of the table; createdAt's is 0017's (department_id, created_at)), chosen from
EXPLAIN ANALYZE on PostgreSQL at 1M tickets (issue 18). Written from the models' Meta.indexes."""

from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0017_indexes")]

    initial = False

    operations = [
        ops.AddIndex(
            model_name="Ticket",
            index=Index(fields=["status", "id"]),
        ),
        ops.AddIndex(
            model_name="Ticket",
            index=Index(fields=["subject", "id"]),
        ),
        ops.AddIndex(
            model_name="Ticket",
            index=Index(fields=["department_id", "updated_at", "id"]),
        ),
        ops.AddIndex(
            model_name="Ticket",
            index=Index(fields=["department_id", "due_at", "id"]),
        ),
        ops.AddIndex(
            model_name="Ticket",
            index=Index(fields=["department_id", "priority", "id"]),
        ),
        ops.AddIndex(
            model_name="Ticket",
            index=Index(fields=["department_id", "subject", "id"]),
        ),
        ops.AddIndex(
            model_name="Ticket",
            index=Index(fields=["department_id", "number"]),
        ),
    ]
