"""The search index (SRC-1..4): one row per searchable record, kept in step with the data.

The engine structures live beside this table and are made by migration 0011: on SQLite an
FTS5 table over `title_terms`/`body_terms` (external content, kept in step by triggers); on
PostgreSQL generated tsvector columns with GIN indexes and a pg_trgm index on `title_terms`.
`services.search` writes the rows in the transaction of every change.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class SearchDocument(Model):
    """One searchable record: its text (original and folded) and the fields facets count."""

    id = fields.IntField(primary_key=True)
    module = fields.CharField(max_length=16)
    object_id = fields.IntField()
    # ORG-5: the department whose agents may see it (null: organisation-wide).
    department_id = fields.IntField(null=True)
    is_spam = fields.BooleanField(default=False)
    # SRC-4: the first letter of the name (contacts, accounts), `#` when not a letter.
    letter = fields.CharField(max_length=4, default="")
    # Facet fields (SRC-2), copied from the record.
    status = fields.CharField(max_length=16, null=True)
    priority = fields.IntField(null=True)
    channel = fields.CharField(max_length=16, null=True)
    assignee_id = fields.IntField(null=True)
    account_id = fields.IntField(null=True)
    owner_id = fields.IntField(null=True)
    sort_at = fields.DatetimeField()
    # The texts come last: SQLite reads the columns above without touching overflow pages.
    title = fields.CharField(max_length=500, default="")
    body = fields.TextField(default="")
    title_terms = fields.TextField(default="")
    body_terms = fields.TextField(default="")

    class Meta:
        table = "search_doc"
        unique_together = (("module", "object_id"),)
        indexes = (("module", "letter"),)
        ordering = ["id"]
