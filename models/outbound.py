"""The outbound email channel: From addresses, the outbox, templates and drafts
(EM-6..EM-9, TIC-8, TIC-10)."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class SmtpSecurity(StrEnum):
    """How a From address's own SMTP server is reached (EM-7)."""

    PLAIN = "PLAIN"
    SSL = "SSL"  # implicit TLS, usually port 465
    TLS = "TLS"  # STARTTLS, usually port 587


class OutboxStatus(StrEnum):
    """Where an outgoing email stands."""

    QUEUED = "QUEUED"
    SENDING = "SENDING"
    SENT = "SENT"
    FAILED = "FAILED"


class FromAddress(Model):
    """An address a department replies from (EM-6), optionally through its own SMTP (EM-7)."""

    id = fields.IntField(primary_key=True)
    department = fields.ForeignKeyField(
        "models.Department", related_name="from_addresses", on_delete=fields.CASCADE
    )
    email = fields.CharField(max_length=254)
    display_name = fields.CharField(max_length=120, default="")
    is_verified = fields.BooleanField(default=False)
    verified_at = fields.DatetimeField(null=True)
    # sha256 of the single-use verification token; null once used.
    token_hash = fields.CharField(max_length=64, null=True, db_index=True)
    token_expires_at = fields.DatetimeField(null=True)
    is_disabled = fields.BooleanField(default=False)
    # EM-7: own SMTP server; host empty means "send through the server's relay".
    smtp_host = fields.CharField(max_length=255, default="")
    smtp_port = fields.IntField(default=0)
    smtp_security = fields.CharEnumField(SmtpSecurity, max_length=8, default=SmtpSecurity.PLAIN)
    smtp_username = fields.CharField(max_length=254, default="")
    # Fernet token of the password (key from settings); never returned by the API.
    smtp_password_encrypted = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "from_address"
        unique_together = (("department", "email"),)
        ordering = ["id"]


class OutboxMessage(Model):
    """An email waiting to be sent, or sent: committed with its thread, sent by the worker."""

    id = fields.BigIntField(primary_key=True)
    thread = fields.ForeignKeyField(
        "models.Thread", related_name="outbox_messages", null=True, on_delete=fields.SET_NULL
    )
    from_address = fields.ForeignKeyField(
        "models.FromAddress", related_name="outbox_messages", null=True, on_delete=fields.SET_NULL
    )
    message_id = fields.CharField(max_length=998, db_index=True)
    mail_from = fields.CharField(max_length=254)
    to_addresses = fields.TextField(default="")
    cc_addresses = fields.TextField(default="")
    bcc_addresses = fields.TextField(default="")
    # The raw message, built once so that every attempt sends the same bytes.
    raw_bytes = fields.BinaryField(null=True)
    raw_path = fields.CharField(max_length=500, default="")
    status = fields.CharEnumField(OutboxStatus, max_length=16, default=OutboxStatus.QUEUED)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    last_error = fields.TextField(default="")
    # When a worker claimed it (SENDING); a stale claim is taken over after a crash.
    claimed_at = fields.DatetimeField(null=True)
    sent_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "outbox_message"
        ordering = ["id"]


class TemplateFolder(Model):
    """A folder of email templates: personal (owner set) or shared with a department."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    owner = fields.ForeignKeyField(
        "models.Agent", related_name="template_folders", null=True, on_delete=fields.CASCADE
    )
    department = fields.ForeignKeyField(
        "models.Department", related_name="template_folders", null=True, on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "template_folder"
        ordering = ["id"]


class EmailTemplate(Model):
    """An email template with {{placeholders}} (TIC-10): personal or shared, in a folder."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    folder = fields.ForeignKeyField(
        "models.TemplateFolder", related_name="templates", null=True, on_delete=fields.SET_NULL
    )
    owner = fields.ForeignKeyField(
        "models.Agent", related_name="email_templates", null=True, on_delete=fields.CASCADE
    )
    department = fields.ForeignKeyField(
        "models.Department", related_name="email_templates", null=True, on_delete=fields.CASCADE
    )
    from_address = fields.ForeignKeyField(
        "models.FromAddress", related_name="templates", null=True, on_delete=fields.SET_NULL
    )
    subject = fields.CharField(max_length=998, default="")
    body_text = fields.TextField(default="")
    body_html = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "email_template"
        ordering = ["id"]


class TicketTemplate(Model):
    """Values that prefill a new ticket (TIC-10)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    department = fields.ForeignKeyField(
        "models.Department", related_name="ticket_templates", on_delete=fields.CASCADE
    )
    subject = fields.CharField(max_length=255, default="")
    description = fields.TextField(default="")
    priority = fields.IntField(null=True)
    fields_json = fields.JSONField(default=dict)
    created_by = fields.ForeignKeyField(
        "models.Agent", related_name="ticket_templates", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ticket_template"
        ordering = ["id"]


class Draft(Model):
    """An unsent reply (TIC-8), autosaved by the client, shared ones are seen by the department."""

    id = fields.IntField(primary_key=True)
    ticket = fields.ForeignKeyField(
        "models.Ticket", related_name="drafts", on_delete=fields.CASCADE
    )
    author = fields.ForeignKeyField("models.Agent", related_name="drafts", on_delete=fields.CASCADE)
    # A client key makes autosave idempotent: the same key updates the same draft.
    client_key = fields.CharField(max_length=64, default="")
    is_shared = fields.BooleanField(default=False)
    from_address = fields.ForeignKeyField(
        "models.FromAddress", related_name="drafts", null=True, on_delete=fields.SET_NULL
    )
    to_addresses = fields.TextField(default="")
    cc_addresses = fields.TextField(default="")
    bcc_addresses = fields.TextField(default="")
    subject = fields.CharField(max_length=998, default="")
    body_text = fields.TextField(default="")
    body_html = fields.TextField(default="")
    attachment_ids = fields.JSONField(default=list)
    saved_at = fields.DatetimeField(auto_now=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "draft"
        ordering = ["-saved_at"]
