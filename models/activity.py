"""The Activity table: one row for every state change, the history behind timelines,
audit and notifications (DESIGN rule 5)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Activity(Model):
    """A state change: who did what to which record, with previous and new values."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=50)
    actor = fields.ForeignKeyField(
        "models.Agent", related_name="activities", null=True, on_delete=fields.SET_NULL
    )
    # The record the activity is about, named by type and id (it may be gone later).
    subject_type = fields.CharField(max_length=30)
    subject_id = fields.IntField()
    # Denormalised links so the timelines of tickets, contacts, accounts and departments
    # are single indexed queries. Not foreign keys: history outlives a deleted record.
    ticket_id = fields.IntField(null=True, db_index=True)
    contact_id = fields.IntField(null=True, db_index=True)
    account_id = fields.IntField(null=True, db_index=True)
    department_id = fields.IntField(null=True, db_index=True)
    # {"field": {"old": ..., "new": ...}} for updates; a summary for other kinds.
    changes = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "activity"
        ordering = ["id"]
