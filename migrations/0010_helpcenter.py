from tortoise import migrations
from tortoise.migrations import operations as ops
from deskql.models.helpcenter import ContactLinkKind, RatingValue
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [("models", "0009_knowledge_base")]

    initial = False

    operations = [
        ops.CreateModel(
            name='ContactLink',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='INVITE: INVITE\nSIGNUP: SIGNUP\nRESET: RESET', enum_type=ContactLinkKind, max_length=16)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('email', fields.CharField(max_length=254)),
                ('contact', fields.ForeignKeyField('models.Contact', source_field='contact_id', null=True, db_constraint=True, to_field='id', related_name='help_links', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(default='', max_length=200)),
                ('password_hash', fields.CharField(null=True, max_length=255)),
                ('created_by', fields.ForeignKeyField('models.Agent', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='contact_invites', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'contact_link', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A single-use, expiring link emailed to a contact: an invite, a sign-up or a reset.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ContactLogin',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contact', fields.OneToOneField('models.Contact', source_field='contact_id', db_constraint=True, to_field='id', related_name='login', on_delete=OnDelete.CASCADE)),
                ('password_hash', fields.CharField(null=True, max_length=255)),
                ('is_active', fields.BooleanField(default=True)),
                ('is_account_manager', fields.BooleanField(default=False)),
                ('last_login_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'contact_login', 'app': 'models', 'pk_attr': 'id', 'table_description': "A contact's help-center sign-in: the password and whether they may sign in at all."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ContactToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contact', fields.ForeignKeyField('models.Contact', source_field='contact_id', db_constraint=True, to_field='id', related_name='help_tokens', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('prefix', fields.CharField(max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'contact_token', 'app': 'models', 'pk_attr': 'id', 'table_description': "A contact's bearer token (a kind of its own: never valid on the agents' API)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='HelpCenterSettings',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('self_signup', fields.BooleanField(default=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'help_center_settings', 'app': 'models', 'pk_attr': 'id', 'table_description': "The help center's switches (one row): whether contacts may sign up by themselves."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TicketRating',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ticket', fields.OneToOneField('models.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='rating', on_delete=OnDelete.CASCADE)),
                ('contact', fields.ForeignKeyField('models.Contact', source_field='contact_id', null=True, db_constraint=True, to_field='id', related_name='ratings', on_delete=OnDelete.SET_NULL)),
                ('value', fields.CharEnumField(description='GOOD: GOOD\nOKAY: OKAY\nBAD: BAD', enum_type=RatingValue, max_length=8)),
                ('comment', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'ticket_rating', 'app': 'models', 'pk_attr': 'id', 'table_description': "A contact's rating of a closed ticket (TIC-5): one per ticket, changeable for 7 days."},
            bases=['Model'],
        ),
    ]
