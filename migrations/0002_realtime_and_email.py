from tortoise import migrations
from tortoise.migrations import operations as ops
from deskql.models.enums import InboundStatus, NotificationReason
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    initial = False

    operations = [
        ops.CreateModel(
            name='BlockedSender',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('pattern', fields.CharField(unique=True, max_length=254)),
                ('created_by', fields.ForeignKeyField('models.Agent', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='blocked_senders', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'blocked_sender', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A blocklisted sender: a full address or a whole domain written as @domain (TIC-7).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EmailSettings',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('department', fields.OneToOneField('models.Department', source_field='department_id', null=True, db_constraint=True, to_field='id', related_name='email_settings', on_delete=OnDelete.CASCADE)),
                ('auto_cc', fields.BooleanField(null=True)),
                ('contact_from_reply_to', fields.BooleanField(null=True)),
                ('agent_name_in_replies', fields.BooleanField(null=True)),
                ('forwarded_on_behalf', fields.BooleanField(null=True)),
                ('private_replies', fields.BooleanField(null=True)),
            ],
            options={'table': 'email_settings', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Email switches: the organisation row has department null, a department row overrides'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Follow',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('agent', fields.ForeignKeyField('models.Agent', source_field='agent_id', db_constraint=True, to_field='id', related_name='follows', on_delete=OnDelete.CASCADE)),
                ('ticket', fields.ForeignKeyField('models.Ticket', source_field='ticket_id', null=True, db_constraint=True, to_field='id', related_name='follows', on_delete=OnDelete.CASCADE)),
                ('contact', fields.ForeignKeyField('models.Contact', source_field='contact_id', null=True, db_constraint=True, to_field='id', related_name='follows', on_delete=OnDelete.CASCADE)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', null=True, db_constraint=True, to_field='id', related_name='follows', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'follow', 'app': 'models', 'unique_together': (('agent', 'ticket'), ('agent', 'contact'), ('agent', 'account')), 'pk_attr': 'id', 'table_description': 'An agent following exactly one of a ticket, a contact or an account.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Mention',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('comment', fields.ForeignKeyField('models.Comment', source_field='comment_id', db_constraint=True, to_field='id', related_name='mentions', on_delete=OnDelete.CASCADE)),
                ('agent', fields.ForeignKeyField('models.Agent', source_field='agent_id', db_constraint=True, to_field='id', related_name='mentions', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'mention', 'app': 'models', 'unique_together': (('comment', 'agent'),), 'pk_attr': 'id', 'table_description': 'An agent mentioned in a comment (COL-1).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('agent', fields.ForeignKeyField('models.Agent', source_field='agent_id', db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('activity', fields.ForeignKeyField('models.Activity', source_field='activity_id', db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('reason', fields.CharEnumField(description='FOLLOWING: FOLLOWING\nMENTIONED: MENTIONED\nASSIGNED: ASSIGNED', enum_type=NotificationReason, max_length=16)),
                ('ticket_id', fields.IntField(null=True)),
                ('contact_id', fields.IntField(null=True)),
                ('account_id', fields.IntField(null=True)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'notification', 'app': 'models', 'unique_together': (('agent', 'activity'),), 'indexes': [Index(fields=['agent_id', 'id']), Index(fields=['agent_id', 'read_at'])], 'pk_attr': 'id', 'table_description': 'One entry of an agent notification center: an activity that concerns them (COL-3).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SupportAddress',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('email', fields.CharField(unique=True, max_length=254)),
                ('display_name', fields.CharField(default='', max_length=120)),
                ('is_default', fields.BooleanField(default=False)),
                ('is_fetching', fields.BooleanField(default=True)),
                ('department', fields.ForeignKeyField('models.Department', source_field='department_id', null=True, db_constraint=True, to_field='id', related_name='support_addresses', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'support_address', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An address mail is sent to for support: the default one or an alias (EM-1, EM-3..EM-5).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InboundMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('message_id', fields.CharField(null=True, db_index=True, max_length=998)),
                ('mail_from', fields.CharField(default='', max_length=998)),
                ('rcpt_to', fields.TextField(default='', unique=False)),
                ('subject', fields.CharField(default='', max_length=998)),
                ('raw_sha256', fields.CharField(max_length=64)),
                ('size', fields.BigIntField()),
                ('status', fields.CharEnumField(default=InboundStatus.RECEIVED, description='RECEIVED: RECEIVED\nPROCESSED: PROCESSED\nIGNORED: IGNORED\nFAILED: FAILED', enum_type=InboundStatus, max_length=16)),
                ('reason', fields.TextField(default='', unique=False)),
                ('spam_score', fields.FloatField(default=0)),
                ('support_address', fields.ForeignKeyField('models.SupportAddress', source_field='support_address_id', null=True, db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.SET_NULL)),
                ('ticket', fields.ForeignKeyField('models.Ticket', source_field='ticket_id', null=True, db_constraint=True, to_field='id', related_name='inbound_messages', on_delete=OnDelete.SET_NULL)),
                ('thread', fields.ForeignKeyField('models.Thread', source_field='thread_id', null=True, db_constraint=True, to_field='id', related_name='inbound_messages', on_delete=OnDelete.SET_NULL)),
                ('attempts', fields.IntField(default=0)),
                ('received_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('processed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'inbound_message', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A message as received over SMTP: stored before 250 is answered, processed after.'},
            bases=['Model'],
        ),
    ]
