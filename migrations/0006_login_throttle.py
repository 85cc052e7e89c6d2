from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0005_backfill_inbound_key")]

    initial = False

    operations = [
        ops.CreateModel(
            name="ThrottleBucket",
            fields=[
                (
                    "id",
                    fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("key", fields.CharField(unique=True, max_length=200)),
                ("failures", fields.IntField(default=0)),
                ("blocked_until", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("last_failure_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("version", fields.IntField(default=0)),
            ],
            options={
                "table": "throttle_bucket",
                "app": "models",
                "pk_attr": "id",
                "table_description": "Recent failures of one throttled key (an account or a client address of one policy).",
            },
            bases=["Model"],
        ),
    ]
