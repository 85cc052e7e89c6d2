"""Outbound webhooks (issue 11, point 8): the webhook table and its delivery queue."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from deskql.models.enums import NotificationReason
from deskql.models.webhooks import DeliveryStatus
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [("models", "0006_login_throttle")]

    initial = False

    operations = [
        ops.CreateModel(
            name='Webhook',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('url', fields.CharField(max_length=2000)),
                ('events', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('secret_encrypted', fields.TextField(unique=False)),
                ('description', fields.CharField(default='', max_length=200)),
                ('is_active', fields.BooleanField(default=True)),
                ('disabled_reason', fields.TextField(default='', unique=False)),
                ('consecutive_failures', fields.IntField(default=0)),
                ('retry_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_failure_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by', fields.ForeignKeyField('models.Agent', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='webhooks', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'webhook', 'app': 'models', 'pk_attr': 'id', 'table_description': "An integrator's endpoint and the events it subscribes to (administrators manage them)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('webhook', fields.ForeignKeyField('models.Webhook', source_field='webhook_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('event', fields.CharField(max_length=64)),
                ('event_id', fields.CharField(max_length=64)),
                ('activity', fields.ForeignKeyField('models.Activity', source_field='activity_id', null=True, db_constraint=True, to_field='id', related_name='webhook_deliveries', on_delete=OnDelete.SET_NULL)),
                ('body', fields.TextField(unique=False)),
                ('status', fields.CharEnumField(default=DeliveryStatus.QUEUED, description='QUEUED: QUEUED\nSENDING: SENDING\nDELIVERED: DELIVERED\nFAILED: FAILED', enum_type=DeliveryStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('claimed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('response_code', fields.IntField(null=True)),
                ('response_body', fields.TextField(default='', unique=False)),
                ('last_error', fields.TextField(default='', unique=False)),
                ('duration_ms', fields.IntField(null=True)),
                ('redelivery_of', fields.ForeignKeyField('models.WebhookDelivery', source_field='redelivery_of_id', null=True, db_constraint=True, to_field='id', related_name='redeliveries', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_delivery', 'app': 'models', 'indexes': [Index(fields=['webhook_id', 'status', 'next_attempt_at'])], 'pk_attr': 'id', 'table_description': 'One event for one webhook: queued in the transaction of the change, sent by a worker,'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='Notification',
            name='reason',
            field=fields.CharEnumField(description='FOLLOWING: FOLLOWING\nMENTIONED: MENTIONED\nASSIGNED: ASSIGNED\nADMINISTRATOR: ADMINISTRATOR', enum_type=NotificationReason, max_length=16),
        ),
    ]
