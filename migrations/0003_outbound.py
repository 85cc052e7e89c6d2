from tortoise import migrations
from tortoise.migrations import operations as ops
from deskql.models.outbound import OutboxStatus, SmtpSecurity
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0002_realtime_and_email")]

    initial = False

    operations = [
        ops.CreateModel(
            name="FromAddress",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "department",
                    fields.ForeignKeyField(
                        "models.Department",
                        source_field="department_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="from_addresses",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("email", fields.CharField(max_length=254)),
                ("display_name", fields.CharField(default="", max_length=120)),
                ("is_verified", fields.BooleanField(default=False)),
                (
                    "verified_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("token_hash", fields.CharField(null=True, db_index=True, max_length=64)),
                (
                    "token_expires_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("is_disabled", fields.BooleanField(default=False)),
                ("smtp_host", fields.CharField(default="", max_length=255)),
                ("smtp_port", fields.IntField(default=0)),
                (
                    "smtp_security",
                    fields.CharEnumField(
                        default=SmtpSecurity.PLAIN,
                        description="PLAIN: PLAIN\nSSL: SSL\nTLS: TLS",
                        enum_type=SmtpSecurity,
                        max_length=8,
                    ),
                ),
                ("smtp_username", fields.CharField(default="", max_length=254)),
                ("smtp_password_encrypted", fields.TextField(default="", unique=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "from_address",
                "app": "models",
                "unique_together": (("department", "email"),),
                "pk_attr": "id",
                "table_description": "An address a department replies from (EM-6), optionally through its own SMTP (EM-7).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Draft",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "ticket",
                    fields.ForeignKeyField(
                        "models.Ticket",
                        source_field="ticket_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="drafts",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "author",
                    fields.ForeignKeyField(
                        "models.Agent",
                        source_field="author_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="drafts",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("client_key", fields.CharField(default="", max_length=64)),
                ("is_shared", fields.BooleanField(default=False)),
                (
                    "from_address",
                    fields.ForeignKeyField(
                        "models.FromAddress",
                        source_field="from_address_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="drafts",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("to_addresses", fields.TextField(default="", unique=False)),
                ("cc_addresses", fields.TextField(default="", unique=False)),
                ("bcc_addresses", fields.TextField(default="", unique=False)),
                ("subject", fields.CharField(default="", max_length=998)),
                ("body_text", fields.TextField(default="", unique=False)),
                ("body_html", fields.TextField(default="", unique=False)),
                (
                    "attachment_ids",
                    fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads),
                ),
                ("saved_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "draft",
                "app": "models",
                "pk_attr": "id",
                "table_description": "An unsent reply (TIC-8), autosaved by the client, shared ones are seen by the department.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="OutboxMessage",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "thread",
                    fields.ForeignKeyField(
                        "models.Thread",
                        source_field="thread_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="outbox_messages",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "from_address",
                    fields.ForeignKeyField(
                        "models.FromAddress",
                        source_field="from_address_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="outbox_messages",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("message_id", fields.CharField(db_index=True, max_length=998)),
                ("mail_from", fields.CharField(max_length=254)),
                ("to_addresses", fields.TextField(default="", unique=False)),
                ("cc_addresses", fields.TextField(default="", unique=False)),
                ("bcc_addresses", fields.TextField(default="", unique=False)),
                ("raw_bytes", fields.BinaryField(null=True)),
                ("raw_path", fields.CharField(default="", max_length=500)),
                (
                    "status",
                    fields.CharEnumField(
                        default=OutboxStatus.QUEUED,
                        description="QUEUED: QUEUED\nSENDING: SENDING\nSENT: SENT\nFAILED: FAILED",
                        enum_type=OutboxStatus,
                        max_length=16,
                    ),
                ),
                ("attempts", fields.IntField(default=0)),
                (
                    "next_attempt_at",
                    fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False),
                ),
                ("last_error", fields.TextField(default="", unique=False)),
                ("claimed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("sent_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "outbox_message",
                "app": "models",
                "pk_attr": "id",
                "table_description": "An email waiting to be sent, or sent: committed with its thread, sent by the worker.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="TemplateFolder",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("name", fields.CharField(max_length=100)),
                (
                    "owner",
                    fields.ForeignKeyField(
                        "models.Agent",
                        source_field="owner_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="template_folders",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "department",
                    fields.ForeignKeyField(
                        "models.Department",
                        source_field="department_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="template_folders",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "template_folder",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A folder of email templates: personal (owner set) or shared with a department.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="EmailTemplate",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("name", fields.CharField(max_length=100)),
                (
                    "folder",
                    fields.ForeignKeyField(
                        "models.TemplateFolder",
                        source_field="folder_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="templates",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "owner",
                    fields.ForeignKeyField(
                        "models.Agent",
                        source_field="owner_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="email_templates",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "department",
                    fields.ForeignKeyField(
                        "models.Department",
                        source_field="department_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="email_templates",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "from_address",
                    fields.ForeignKeyField(
                        "models.FromAddress",
                        source_field="from_address_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="templates",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("subject", fields.CharField(default="", max_length=998)),
                ("body_text", fields.TextField(default="", unique=False)),
                ("body_html", fields.TextField(default="", unique=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "email_template",
                "app": "models",
                "pk_attr": "id",
                "table_description": "An email template with {{placeholders}} (TIC-10): personal or shared, in a folder.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="TicketTemplate",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("name", fields.CharField(max_length=100)),
                (
                    "department",
                    fields.ForeignKeyField(
                        "models.Department",
                        source_field="department_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="ticket_templates",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("subject", fields.CharField(default="", max_length=255)),
                ("description", fields.TextField(default="", unique=False)),
                ("priority", fields.IntField(null=True)),
                ("fields_json", fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                (
                    "created_by",
                    fields.ForeignKeyField(
                        "models.Agent",
                        source_field="created_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="ticket_templates",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "ticket_template",
                "app": "models",
                "pk_attr": "id",
                "table_description": "Values that prefill a new ticket (TIC-10).",
            },
            bases=["Model"],
        ),
    ]
