"""Comments and follows on any record (COL-1, COL-2): a comment names a ticket by `ticket_id`
(now nullable) or another record by `subject_type` + `subject_id` (existing rows are ticket
comments: `subject_type` 'Ticket', `subject_id` NULL); a follow may name a record by
`subject_type` + `subject_id` too (unique per agent). NotificationReason gains OWNER (no
column change: the reason is a CHAR column)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from deskql.models.enums import NotificationReason
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import UniqueConstraint

class Migration(migrations.Migration):
    dependencies = [("models", "0008_webhooks")]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='Comment',
            options={'table': 'comment', 'app': 'models', 'indexes': [Index(fields=['subject_type', 'subject_id', 'id'])], 'pk_attr': 'id', 'table_description': 'An agent note on a record (COL-1): a ticket (public or private, TIC-3), an article, or'},
        ),
        ops.AlterField(
            model_name='Comment',
            name='ticket',
            field=fields.ForeignKeyField('models.Ticket', source_field='ticket_id', null=True, db_constraint=True, to_field='id', related_name='comments', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='Comment',
            name='subject_id',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Comment',
            name='subject_type',
            field=fields.CharField(default='Ticket', db_default='Ticket', max_length=30),
        ),
        ops.AddIndex(
            model_name='Comment',
            index=Index(fields=['subject_type', 'subject_id', 'id']),
        ),
        ops.AlterModelOptions(
            name='Follow',
            options={'table': 'follow', 'app': 'models', 'unique_together': (('agent', 'ticket'), ('agent', 'contact'), ('agent', 'account'), ('agent', 'subject_type', 'subject_id')), 'indexes': [Index(fields=['subject_type', 'subject_id'])], 'pk_attr': 'id', 'table_description': 'An agent following exactly one record: a ticket, a contact or an account (by their'},
        ),
        ops.AddField(
            model_name='Follow',
            name='subject_id',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Follow',
            name='subject_type',
            field=fields.CharField(null=True, max_length=30),
        ),
        ops.AddIndex(
            model_name='Follow',
            index=Index(fields=['subject_type', 'subject_id']),
        ),
        ops.AddConstraint(
            model_name='Follow',
            constraint=UniqueConstraint(fields=('agent', 'subject_type', 'subject_id'), name=None),
        ),
        ops.AlterField(
            model_name='Notification',
            name='reason',
            field=fields.CharEnumField(description='FOLLOWING: FOLLOWING\nOWNER: OWNER\nMENTIONED: MENTIONED\nASSIGNED: ASSIGNED', enum_type=NotificationReason, max_length=16),
        ),
    ]
