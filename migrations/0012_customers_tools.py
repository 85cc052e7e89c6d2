"""Customers' tools (issue 15): comparison keys of contacts and accounts for duplicates
(CUS-5), addresses of merged contacts, CRM links (CUS-6), saved contact/account views (CUS-7),
used signed URLs (exports and print views), and indexes on ticket(contact_id, status) and
ticket(account_id, status) for the overview counts (CUS-4), thread(ticket_id, id) and
attachment(ticket_id) for a ticket's conversation (there were none on these foreign keys),
and expression indexes for the default name sorts of contact and account lists.

The key columns are filled for existing rows by `fill_keys` (services.customer_keys, the
functions the app writes them with), in batches of BATCH rows by id. Reverse of the fill: a
no-op (the columns are dropped by reversing AddField).
"""

from __future__ import annotations

from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

BATCH = 1000
KEY_COLUMNS = [
    *(
        ("contact", f"{name}_key")
        for name in (
            "first_name",
            "last_name",
            "full_name",
            "email",
            "secondary_email",
            "phone",
            "mobile",
        )
    ),
    *(("account", f"{name}_key") for name in ("name", "email", "phone")),
]


async def fill_keys(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    """Compute the comparison keys of every existing contact and account."""
    from deskql.services import customer_keys
    from deskql.settings import Settings

    customer_keys.configure(Settings.from_env().phone_region)
    client = schema_editor.client
    for name, sources, keys in (
        ("Contact", customer_keys.CONTACT_KEY_SOURCES, customer_keys.contact_keys),
        ("Account", customer_keys.ACCOUNT_KEY_SOURCES, None),
    ):
        model = apps.get_model("models", name)
        last_id = 0
        while True:
            rows = (
                await model.filter(id__gt=last_id)
                .using_db(client)
                .order_by("id")
                .limit(BATCH)
                .values("id", *sources)
            )
            if not rows:
                break
            last_id = rows[-1]["id"]
            fills = []
            for row in rows:
                values = {k: row[k] for k in sources}
                computed = (
                    keys(**values) if keys is not None else customer_keys.account_keys(**values)
                )
                fills.append(model(id=row["id"], **computed))
            await model.bulk_update(fills, fields=list(computed), using_db=client)


class Migration(migrations.Migration):
    dependencies = [("models", "0011_search")]

    initial = False

    operations = [
        ops.CreateModel(
            name='ContactEmailAlias',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('email', fields.CharField(unique=True, max_length=254)),
                ('contact', fields.ForeignKeyField('models.Contact', source_field='contact_id', db_constraint=True, to_field='id', related_name='email_aliases', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'contact_email_alias', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An address of a contact merged into another (CUS-5): mail from it lands on the'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CrmLink',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('contact', fields.OneToOneField('models.Contact', source_field='contact_id', null=True, db_constraint=True, to_field='id', related_name='crm_link', on_delete=OnDelete.CASCADE)),
                ('account', fields.OneToOneField('models.Account', source_field='account_id', null=True, db_constraint=True, to_field='id', related_name='crm_link', on_delete=OnDelete.CASCADE)),
                ('external_id', fields.CharField(max_length=100)),
                ('url', fields.CharField(default='', max_length=1000)),
                ('fields_json', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('remote_updated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('fetched_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'crm_link', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The external CRM record a contact or an account is mapped to, and its last fetched'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CustomerView',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=16)),
                ('name', fields.CharField(max_length=120)),
                ('owner', fields.ForeignKeyField('models.Agent', source_field='owner_id', null=True, db_constraint=True, to_field='id', related_name='customer_views', on_delete=OnDelete.CASCADE)),
                ('is_shared', fields.BooleanField(default=False)),
                ('criteria', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('sort_field', fields.CharField(default='NAME', max_length=32)),
                ('sort_direction', fields.CharField(default='ASC', max_length=4)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'customer_view', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A saved contact or account list view (CUS-7): criteria and sort, private to its owner'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SignedUrlUse',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('nonce', fields.CharField(unique=True, max_length=64)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'signed_url_use', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A signed URL that was used once (services.signed_urls): a second GET is a replay.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Account',
            name='email_key',
            field=fields.CharField(default='', db_index=True, db_default='', max_length=254),
        ),
        ops.AddField(
            model_name='Account',
            name='name_key',
            field=fields.CharField(default='', db_index=True, db_default='', max_length=200),
        ),
        ops.AddField(
            model_name='Account',
            name='phone_key',
            field=fields.CharField(default='', db_index=True, db_default='', max_length=40),
        ),
        ops.AlterField(
            model_name='Contact',
            name='created_at',
            field=fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True),
        ),
        ops.AddField(
            model_name='Contact',
            name='email_key',
            field=fields.CharField(default='', db_index=True, db_default='', max_length=254),
        ),
        ops.AddField(
            model_name='Contact',
            name='first_name_key',
            field=fields.CharField(default='', db_index=True, db_default='', max_length=100),
        ),
        ops.AddField(
            model_name='Contact',
            name='full_name_key',
            field=fields.CharField(default='', db_index=True, db_default='', max_length=201),
        ),
        ops.AddField(
            model_name='Contact',
            name='last_name_key',
            field=fields.CharField(default='', db_index=True, db_default='', max_length=100),
        ),
        ops.AddField(
            model_name='Contact',
            name='mobile_key',
            field=fields.CharField(default='', db_index=True, db_default='', max_length=40),
        ),
        ops.AddField(
            model_name='Contact',
            name='phone_key',
            field=fields.CharField(default='', db_index=True, db_default='', max_length=40),
        ),
        ops.AddField(
            model_name='Contact',
            name='secondary_email_key',
            field=fields.CharField(default='', db_index=True, db_default='', max_length=254),
        ),
        ops.RunSQL(
            [
                "CREATE INDEX ticket_contact_status_idx ON ticket (contact_id, status)",
                "CREATE INDEX ticket_account_status_idx ON ticket (account_id, status)",
                # A ticket's conversation (overview's last message, print view, merges).
                "CREATE INDEX thread_ticket_id_id_idx ON thread (ticket_id, id)",
                "CREATE INDEX attachment_ticket_id_idx ON attachment (ticket_id)",
                # The default sorts of contact and account lists (services.customers: by
                # LOWER(last name), LOWER(first name), id; by LOWER(name), id): a page of
                # 100 of 100,000 contacts read from the index instead of sorting them all.
                "CREATE INDEX contact_name_sort_idx ON contact (lower(last_name), "
                "lower(first_name), id)",
                "CREATE INDEX account_name_sort_idx ON account (lower(name), id)",
                # The comparison keys (AddField's db_index creates no index: made here).
                *(
                    f"CREATE INDEX {table}_{column}_idx ON {table} ({column})"
                    for table, column in KEY_COLUMNS
                ),
            ],
            reverse_sql=[
                "DROP INDEX ticket_contact_status_idx",
                "DROP INDEX ticket_account_status_idx",
                "DROP INDEX thread_ticket_id_id_idx",
                "DROP INDEX attachment_ticket_id_idx",
                "DROP INDEX contact_name_sort_idx",
                "DROP INDEX account_name_sort_idx",
                *(f"DROP INDEX {table}_{column}_idx" for table, column in KEY_COLUMNS),
            ],
        ),
        ops.RunPython(fill_keys, reverse_code=ops.RunPython.noop),
    ]
