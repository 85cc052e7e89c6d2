"""The email channel: support addresses, inbound messages, settings, blocklist (EM-*, TIC-7)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from deskql.models.enums import InboundStatus


class SupportAddress(Model):
    """An address mail is sent to for support: the default one or an alias (EM-1, EM-3..EM-5)."""

    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    display_name = fields.CharField(max_length=120, default="")
    is_default = fields.BooleanField(default=False)
    # EM-4: while false, mail to this address is accepted and kept but makes no ticket.
    is_fetching = fields.BooleanField(default=True)
    # EM-9: the default support address as a From address can be disabled (hidden from the
    # reply editor's From choice) like any other From address.
    from_disabled = fields.BooleanField(default=False, db_default=False)
    department = fields.ForeignKeyField(
        "models.Department", related_name="support_addresses", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "support_address"
        ordering = ["id"]


class InboundMessage(Model):
    """A message as received over SMTP: stored before 250 is answered, processed after."""

    id = fields.BigIntField(primary_key=True)
    message_id = fields.CharField(max_length=998, null=True, db_index=True)
    mail_from = fields.CharField(max_length=998, default="")
    rcpt_to = fields.TextField(default="")
    subject = fields.CharField(max_length=998, default="")
    # The raw bytes live on disk by sha256 (like attachments); size in bytes.
    raw_sha256 = fields.CharField(max_length=64)
    size = fields.BigIntField()
    status = fields.CharEnumField(InboundStatus, max_length=16, default=InboundStatus.RECEIVED)
    reason = fields.TextField(default="")
    spam_score = fields.FloatField(default=0)
    support_address = fields.ForeignKeyField(
        "models.SupportAddress", related_name="messages", null=True, on_delete=fields.SET_NULL
    )
    ticket = fields.ForeignKeyField(
        "models.Ticket", related_name="inbound_messages", null=True, on_delete=fields.SET_NULL
    )
    thread = fields.ForeignKeyField(
        "models.Thread", related_name="inbound_messages", null=True, on_delete=fields.SET_NULL
    )
    attempts = fields.IntField(default=0)
    received_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    processed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "inbound_message"
        ordering = ["id"]


class EmailSettings(Model):
    """Email switches: the organisation row has department null, a department row overrides
    it where a value is not null (EM-13)."""

    id = fields.IntField(primary_key=True)
    department = fields.OneToOneField(
        "models.Department", related_name="email_settings", null=True, on_delete=fields.CASCADE
    )
    auto_cc = fields.BooleanField(null=True)  # EM-10
    contact_from_reply_to = fields.BooleanField(null=True)  # EM-11
    agent_name_in_replies = fields.BooleanField(null=True)  # EM-12
    forwarded_on_behalf = fields.BooleanField(null=True)  # EM-14
    private_replies = fields.BooleanField(null=True)  # EM-15

    class Meta:
        table = "email_settings"


class BlockedSender(Model):
    """A blocklisted sender: a full address or a whole domain written as @domain (TIC-7)."""

    id = fields.IntField(primary_key=True)
    pattern = fields.CharField(max_length=254, unique=True)
    created_by = fields.ForeignKeyField(
        "models.Agent", related_name="blocked_senders", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "blocked_sender"
