"""Following, mentions and notifications (TIC-13, COL-1, COL-2, COL-3)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from deskql.models.enums import NotificationReason


class Follow(Model):
    """An agent following exactly one record: a ticket, a contact or an account (by their
    columns), or a record of another type registered in services.records (an article) by
    `subject_type` + `subject_id`."""

    id = fields.IntField(primary_key=True)
    agent = fields.ForeignKeyField("models.Agent", related_name="follows", on_delete=fields.CASCADE)
    ticket = fields.ForeignKeyField(
        "models.Ticket", related_name="follows", null=True, on_delete=fields.CASCADE
    )
    contact = fields.ForeignKeyField(
        "models.Contact", related_name="follows", null=True, on_delete=fields.CASCADE
    )
    account = fields.ForeignKeyField(
        "models.Account", related_name="follows", null=True, on_delete=fields.CASCADE
    )
    subject_type = fields.CharField(max_length=30, null=True)
    subject_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "follow"
        unique_together = (
            ("agent", "ticket"),
            ("agent", "contact"),
            ("agent", "account"),
            ("agent", "subject_type", "subject_id"),
        )
        indexes = (("subject_type", "subject_id"),)


class Mention(Model):
    """An agent mentioned in a comment (COL-1)."""

    id = fields.IntField(primary_key=True)
    comment = fields.ForeignKeyField(
        "models.Comment", related_name="mentions", on_delete=fields.CASCADE
    )
    agent = fields.ForeignKeyField(
        "models.Agent", related_name="mentions", on_delete=fields.CASCADE
    )

    class Meta:
        table = "mention"
        unique_together = (("comment", "agent"),)


class Notification(Model):
    """One entry of an agent notification center: an activity that concerns them (COL-3)."""

    id = fields.BigIntField(primary_key=True)
    agent = fields.ForeignKeyField(
        "models.Agent", related_name="notifications", on_delete=fields.CASCADE
    )
    activity = fields.ForeignKeyField(
        "models.Activity", related_name="notifications", on_delete=fields.CASCADE
    )
    reason = fields.CharEnumField(NotificationReason, max_length=16)
    ticket_id = fields.IntField(null=True)
    contact_id = fields.IntField(null=True)
    account_id = fields.IntField(null=True)
    read_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "notification"
        unique_together = (("agent", "activity"),)
        indexes = (("agent_id", "id"), ("agent_id", "read_at"))
