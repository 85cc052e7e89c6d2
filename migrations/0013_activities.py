"""Activities and telephony (issue 16): events and their attendees, calls, reminders; tasks
get an account, priority, status, reminder and updated_at (completed tasks become COMPLETED);
agents get an extension and a phone number."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from deskql.models.activities import CallDirection, CallOutcome, CallStatus, ReminderStatus, TaskStatus
from deskql.models.enums import NotificationReason, TicketPriority
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [("models", "0012_customers_tools")]

    initial = False

    operations = [
        ops.CreateModel(
            name='Call',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('department', fields.ForeignKeyField('models.Department', source_field='department_id', db_constraint=True, to_field='id', related_name='calls', on_delete=OnDelete.CASCADE)),
                ('direction', fields.CharEnumField(description='INBOUND: INBOUND\nOUTBOUND: OUTBOUND', enum_type=CallDirection, max_length=8)),
                ('number', fields.CharField(default='', db_index=True, max_length=32)),
                ('status', fields.CharEnumField(default=CallStatus.ENDED, description='RINGING: RINGING\nANSWERED: ANSWERED\nENDED: ENDED', enum_type=CallStatus, max_length=8)),
                ('outcome', fields.CharEnumField(null=True, description='COMPLETED: COMPLETED\nMISSED: MISSED\nVOICEMAIL: VOICEMAIL\nBUSY: BUSY\nNO_ANSWER: NO_ANSWER\nFAILED: FAILED', enum_type=CallOutcome, max_length=10)),
                ('started_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('duration_seconds', fields.IntField(default=0)),
                ('agent', fields.ForeignKeyField('models.Agent', source_field='agent_id', null=True, db_constraint=True, to_field='id', related_name='calls', on_delete=OnDelete.SET_NULL)),
                ('recording_url', fields.CharField(default='', max_length=500)),
                ('notes', fields.TextField(default='', unique=False)),
                ('ticket', fields.ForeignKeyField('models.Ticket', source_field='ticket_id', null=True, db_constraint=True, to_field='id', related_name='calls', on_delete=OnDelete.SET_NULL)),
                ('contact', fields.ForeignKeyField('models.Contact', source_field='contact_id', null=True, db_constraint=True, to_field='id', related_name='calls', on_delete=OnDelete.SET_NULL)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', null=True, db_constraint=True, to_field='id', related_name='calls', on_delete=OnDelete.SET_NULL)),
                ('provider_call_id', fields.CharField(null=True, unique=True, max_length=128)),
                ('provider_events', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('created_by', fields.ForeignKeyField('models.Agent', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='created_calls', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'call', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A phone call, logged by hand or by the telephony bridge (ACT-2).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Event',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('department', fields.ForeignKeyField('models.Department', source_field='department_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('title', fields.CharField(max_length=255)),
                ('description', fields.TextField(default='', unique=False)),
                ('starts_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('location', fields.CharField(default='', max_length=255)),
                ('owner', fields.ForeignKeyField('models.Agent', source_field='owner_id', null=True, db_constraint=True, to_field='id', related_name='owned_events', on_delete=OnDelete.SET_NULL)),
                ('ticket', fields.ForeignKeyField('models.Ticket', source_field='ticket_id', null=True, db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('contact', fields.ForeignKeyField('models.Contact', source_field='contact_id', null=True, db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.SET_NULL)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', null=True, db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.SET_NULL)),
                ('reminder_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by', fields.ForeignKeyField('models.Agent', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='created_events', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'event', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A meeting or appointment (ACT-1) with agents attending.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EventAttendee',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('event', fields.ForeignKeyField('models.Event', source_field='event_id', db_constraint=True, to_field='id', related_name='attendees', on_delete=OnDelete.CASCADE)),
                ('agent', fields.ForeignKeyField('models.Agent', source_field='agent_id', db_constraint=True, to_field='id', related_name='attending', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'event_attendee', 'app': 'models', 'unique_together': (('event', 'agent'),), 'pk_attr': 'id', 'table_description': 'An agent attending an event.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Reminder',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('task', fields.ForeignKeyField('models.Task', source_field='task_id', null=True, db_constraint=True, to_field='id', related_name='reminders', on_delete=OnDelete.CASCADE)),
                ('event', fields.ForeignKeyField('models.Event', source_field='event_id', null=True, db_constraint=True, to_field='id', related_name='reminders', on_delete=OnDelete.CASCADE)),
                ('remind_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('status', fields.CharEnumField(default=ReminderStatus.PENDING, description='PENDING: PENDING\nSENT: SENT\nCANCELLED: CANCELLED', enum_type=ReminderStatus, max_length=10)),
                ('attempts', fields.IntField(default=0)),
                ('last_error', fields.TextField(default='', unique=False)),
                ('fired_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('fired_by', fields.CharField(default='', max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'reminder', 'app': 'models', 'indexes': [Index(fields=['status', 'remind_at'])], 'pk_attr': 'id', 'table_description': 'A reminder of a task or an event due at `remind_at`: an outbox row claimed by one'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Agent',
            name='extension',
            field=fields.CharField(default='', db_default='', max_length=20),
        ),
        ops.AddField(
            model_name='Agent',
            name='phone_number',
            field=fields.CharField(default='', db_default='', max_length=32),
        ),
        ops.AlterModelOptions(
            name='Task',
            options={'table': 'task', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A to-do (ACT-1) linked to a ticket, a contact or an account, created by hand or by a'},
        ),
        ops.AddField(
            model_name='Task',
            name='account_id',
            field=fields.IntField(null=True, db_index=True),
        ),
        ops.AddField(
            model_name='Task',
            name='priority',
            field=fields.IntEnumField(default=TicketPriority.MEDIUM, description='LOW: 1\nMEDIUM: 2\nHIGH: 3\nURGENT: 4', db_default=2, enum_type=TicketPriority, generated=False),
        ),
        ops.AddField(
            model_name='Task',
            name='reminder_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Task',
            name='status',
            field=fields.CharEnumField(default=TaskStatus.NOT_STARTED, description='NOT_STARTED: NOT_STARTED\nIN_PROGRESS: IN_PROGRESS\nWAITING: WAITING\nDEFERRED: DEFERRED\nCOMPLETED: COMPLETED', db_default='NOT_STARTED', enum_type=TaskStatus, max_length=12),
        ),
        ops.AddField(
            model_name='Task',
            name='updated_at',
            field=fields.DatetimeField(null=True, auto_now=True, auto_now_add=False),
        ),
        ops.AlterField(
            model_name='Notification',
            name='reason',
            field=fields.CharEnumField(description='FOLLOWING: FOLLOWING\nOWNER: OWNER\nMENTIONED: MENTIONED\nASSIGNED: ASSIGNED\nREMINDER: REMINDER\nINCOMING_CALL: INCOMING_CALL', enum_type=NotificationReason, max_length=16),
        ),
        ops.RunSQL(
            "UPDATE task SET status = 'COMPLETED' WHERE is_completed",
            reverse_sql="SELECT 1",
        ),
    ]
