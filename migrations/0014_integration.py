"""After the merges of 0006-0013: Notification.reason as the merged enum has it (each branch altered
it with its own values)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from deskql.models.enums import NotificationReason
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [("models", "0013_activities")]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Notification',
            name='reason',
            field=fields.CharEnumField(description='FOLLOWING: FOLLOWING\nOWNER: OWNER\nMENTIONED: MENTIONED\nASSIGNED: ASSIGNED\nADMINISTRATOR: ADMINISTRATOR\nREMINDER: REMINDER\nINCOMING_CALL: INCOMING_CALL', enum_type=NotificationReason, max_length=16),
        ),
    ]
