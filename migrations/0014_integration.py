"""After the merges of 0006-0013: the enum and table descriptions as the merged models have them."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.enums import NotificationReason
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [("models", "0013_activities")]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='ContactLink',
            options={'table': 'contact_link', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A single-use, expiring link emailed to a contact (invite, sign-up, password reset);'},
        ),
        ops.AlterField(
            model_name='Notification',
            name='reason',
            field=fields.CharEnumField(description='FOLLOWING: FOLLOWING\nOWNER: OWNER\nMENTIONED: MENTIONED\nASSIGNED: ASSIGNED\nADMINISTRATOR: ADMINISTRATOR\nREMINDER: REMINDER\nINCOMING_CALL: INCOMING_CALL', enum_type=NotificationReason, max_length=16),
        ),
    ]
