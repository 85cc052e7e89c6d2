"""Tickets and what hangs off them: threads, comments, tags, attachments (TIC-1, TIC-3, TIC-6)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from deskql.models.enums import Channel, ThreadDirection, TicketPriority, TicketStatus


class Ticket(Model):
    """A support request (TIC-1). `version` guards updates against lost writes."""

    id = fields.IntField(primary_key=True)
    number = fields.IntField(unique=True)
    subject = fields.CharField(max_length=255)
    description = fields.TextField(default="")
    status = fields.CharEnumField(TicketStatus, max_length=16, default=TicketStatus.OPEN)
    priority = fields.IntEnumField(TicketPriority, default=TicketPriority.MEDIUM)
    channel = fields.CharEnumField(Channel, max_length=16, default=Channel.WEB)
    department = fields.ForeignKeyField(
        "models.Department", related_name="tickets", on_delete=fields.RESTRICT
    )
    contact = fields.ForeignKeyField(
        "models.Contact", related_name="tickets", null=True, on_delete=fields.RESTRICT
    )
    account = fields.ForeignKeyField(
        "models.Account", related_name="tickets", null=True, on_delete=fields.SET_NULL
    )
    product = fields.ForeignKeyField(
        "models.Product", related_name="tickets", null=True, on_delete=fields.SET_NULL
    )
    assignee_agent = fields.ForeignKeyField(
        "models.Agent", related_name="assigned_tickets", null=True, on_delete=fields.SET_NULL
    )
    assignee_team = fields.ForeignKeyField(
        "models.Team", related_name="assigned_tickets", null=True, on_delete=fields.SET_NULL
    )
    due_at = fields.DatetimeField(null=True)
    is_spam = fields.BooleanField(default=False)
    # TIC-5: a merged ticket is closed and points at the ticket it was merged into.
    merged_into = fields.ForeignKeyField(
        "models.Ticket", related_name="merged_tickets", null=True, on_delete=fields.SET_NULL
    )
    # TIC-9: a ticket split off another one points back at it.
    split_from = fields.ForeignKeyField(
        "models.Ticket", related_name="split_tickets", null=True, on_delete=fields.SET_NULL
    )
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "ticket"
        ordering = ["-id"]
        # Every filter and sort the ticket lists offer (issue 18, chosen from EXPLAIN on
        # PostgreSQL at 1M tickets): a filter column then the default sort, and each sort
        # column then id (the keyset tiebreak).
        indexes = (
            ("contact_id", "created_at"),
            ("account_id", "created_at"),
            ("product_id", "created_at"),
            ("assignee_agent_id", "created_at"),
            ("assignee_team_id", "created_at"),
            ("department_id", "created_at"),
            ("status", "created_at"),
            ("department_id", "status", "created_at"),
            ("channel", "created_at"),
            ("updated_at", "id"),
            ("due_at", "id"),
            ("priority", "id"),
            # 0019: the STATUS and SUBJECT sorts (without them a sort of every visible ticket:
            # 150 and 365 ms at 1M), and every other sort within one department (ORG-5: an
            # agent of a small, quiet department scanned the whole sort index, 371 ms at 1M).
            ("status", "id"),
            ("subject", "id"),
            ("department_id", "updated_at", "id"),
            ("department_id", "due_at", "id"),
            ("department_id", "priority", "id"),
            ("department_id", "subject", "id"),
            ("department_id", "number"),
        )


class Thread(Model):
    """One message of a ticket conversation, incoming or outgoing (TIC-3)."""

    id = fields.IntField(primary_key=True)
    ticket = fields.ForeignKeyField(
        "models.Ticket", related_name="threads", on_delete=fields.CASCADE
    )
    direction = fields.CharEnumField(ThreadDirection, max_length=16)
    channel = fields.CharEnumField(Channel, max_length=16, default=Channel.EMAIL)
    is_public = fields.BooleanField(default=True)
    from_address = fields.CharField(max_length=500, default="")
    to_addresses = fields.TextField(default="")
    cc_addresses = fields.TextField(default="")
    subject = fields.CharField(max_length=998, default="")
    body_text = fields.TextField(default="")
    body_html = fields.TextField(default="")
    message_id = fields.CharField(max_length=998, null=True, db_index=True)
    # sha256 of an incoming message's Message-ID: a unique key, so the same message delivered
    # twice (even to two `deskql smtp` processes at once) makes one thread.
    inbound_key = fields.CharField(max_length=64, null=True, unique=True)
    in_reply_to = fields.CharField(max_length=998, default="")
    references = fields.TextField(default="")
    author_agent = fields.ForeignKeyField(
        "models.Agent", related_name="threads", null=True, on_delete=fields.SET_NULL
    )
    author_contact = fields.ForeignKeyField(
        "models.Contact", related_name="threads", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "thread"
        ordering = ["id"]
        indexes = (("ticket_id", "id"),)


class Comment(Model):
    """An agent note on a record (COL-1): a ticket (public or private, TIC-3), an article, or
    another type registered in services.records.

    A ticket's comments name it by `ticket` (so they move with it on merge and split, and go
    with it on delete); other records by `subject_type` + `subject_id` (`subject_id` is null
    for ticket comments). The service that deletes such a record deletes its comments.
    """

    id = fields.IntField(primary_key=True)
    ticket = fields.ForeignKeyField(
        "models.Ticket", related_name="comments", null=True, on_delete=fields.CASCADE
    )
    subject_type = fields.CharField(max_length=30, default="Ticket", db_default="Ticket")
    subject_id = fields.IntField(null=True)
    author = fields.ForeignKeyField(
        "models.Agent", related_name="comments", null=True, on_delete=fields.SET_NULL
    )
    body = fields.TextField()
    is_public = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "comment"
        ordering = ["id"]
        indexes = (("subject_type", "subject_id", "id"), ("ticket_id", "id"))


class Tag(Model):
    """A tag name (TIC-6): a-z0-9 only, at most 50 characters, never renamed."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=50, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "tag"


class TicketTag(Model):
    """A tag on a ticket, at most 10 per ticket."""

    id = fields.IntField(primary_key=True)
    ticket = fields.ForeignKeyField(
        "models.Ticket", related_name="tag_links", on_delete=fields.CASCADE
    )
    tag = fields.ForeignKeyField(
        "models.Tag", related_name="ticket_links", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ticket_tag"
        unique_together = (("ticket", "tag"),)


class Attachment(Model):
    """A file attached to a ticket, a thread or a comment, its body lives on disk by sha256."""

    id = fields.IntField(primary_key=True)
    ticket = fields.ForeignKeyField(
        "models.Ticket", related_name="attachments", on_delete=fields.CASCADE
    )
    thread = fields.ForeignKeyField(
        "models.Thread", related_name="attachments", null=True, on_delete=fields.SET_NULL
    )
    comment = fields.ForeignKeyField(
        "models.Comment", related_name="attachments", null=True, on_delete=fields.SET_NULL
    )
    filename = fields.CharField(max_length=255)
    content_type = fields.CharField(max_length=255)
    size = fields.BigIntField()
    sha256 = fields.CharField(max_length=64, db_index=True)
    uploaded_by = fields.ForeignKeyField(
        "models.Agent", related_name="attachments", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "attachment"
        ordering = ["id"]
