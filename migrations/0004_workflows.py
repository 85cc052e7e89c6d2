from tortoise import migrations
from tortoise.migrations import operations as ops
from deskql.models.workflows import TimeEntrySource, TimerState
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0003_outbound")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Macro",
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
                        related_name="macros",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("name", fields.CharField(max_length=120)),
                ("description", fields.TextField(default="", unique=False)),
                ("actions", fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                (
                    "created_by",
                    fields.ForeignKeyField(
                        "models.Agent",
                        source_field="created_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="macros",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "macro",
                "app": "models",
                "unique_together": (("department", "name"),),
                "pk_attr": "id",
                "table_description": "A named, ordered list of typed actions an agent applies to tickets of one department.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Task",
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
                        related_name="tasks",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "ticket",
                    fields.ForeignKeyField(
                        "models.Ticket",
                        source_field="ticket_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="tasks",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "contact",
                    fields.ForeignKeyField(
                        "models.Contact",
                        source_field="contact_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="tasks",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("title", fields.CharField(max_length=255)),
                ("description", fields.TextField(default="", unique=False)),
                ("due_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "assignee",
                    fields.ForeignKeyField(
                        "models.Agent",
                        source_field="assignee_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="assigned_tasks",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("is_completed", fields.BooleanField(default=False)),
                (
                    "completed_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                (
                    "created_by",
                    fields.ForeignKeyField(
                        "models.Agent",
                        source_field="created_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="created_tasks",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "task",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A to-do linked to a ticket (ACT-1), e.g. created by a macro.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="TicketView",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("name", fields.CharField(max_length=120)),
                (
                    "owner",
                    fields.ForeignKeyField(
                        "models.Agent",
                        source_field="owner_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="ticket_views",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("is_shared", fields.BooleanField(default=False)),
                ("criteria", fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ("sort_field", fields.CharField(default="CREATED_AT", max_length=32)),
                ("sort_direction", fields.CharField(default="DESC", max_length=4)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "ticket_view",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A custom ticket list view (SRC-5): saved criteria and sort, private or shared.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="TimeEntry",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "agent",
                    fields.ForeignKeyField(
                        "models.Agent",
                        source_field="agent_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="time_entries",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "ticket",
                    fields.ForeignKeyField(
                        "models.Ticket",
                        source_field="ticket_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="time_entries",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "task",
                    fields.ForeignKeyField(
                        "models.Task",
                        source_field="task_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="time_entries",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("seconds", fields.IntField()),
                ("started_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("note", fields.TextField(default="", unique=False)),
                ("is_billable", fields.BooleanField(default=True)),
                ("hourly_rate_cents", fields.IntField(default=0)),
                ("cost_cents", fields.IntField(default=0)),
                (
                    "source",
                    fields.CharEnumField(
                        default=TimeEntrySource.MANUAL,
                        description="TIMER: TIMER\nMANUAL: MANUAL",
                        enum_type=TimeEntrySource,
                        max_length=8,
                    ),
                ),
                (
                    "created_by",
                    fields.ForeignKeyField(
                        "models.Agent",
                        source_field="created_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="created_time_entries",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "time_entry",
                "app": "models",
                "pk_attr": "id",
                "table_description": "Time spent on a ticket or a task (TIM-2), billable or not, with its cost.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Timer",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "agent",
                    fields.ForeignKeyField(
                        "models.Agent",
                        source_field="agent_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="timers",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "ticket",
                    fields.ForeignKeyField(
                        "models.Ticket",
                        source_field="ticket_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="timers",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "task",
                    fields.ForeignKeyField(
                        "models.Task",
                        source_field="task_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="timers",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "state",
                    fields.CharEnumField(
                        default=TimerState.RUNNING,
                        description="RUNNING: RUNNING\nPAUSED: PAUSED",
                        enum_type=TimerState,
                        max_length=8,
                    ),
                ),
                ("accumulated_seconds", fields.IntField(default=0)),
                (
                    "running_since",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("started_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "timer",
                "app": "models",
                "unique_together": (("agent", "ticket"), ("agent", "task")),
                "pk_attr": "id",
                "table_description": "An agent's timer on a ticket or a task (TIM-1). Elapsed time is computed from stored",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Agent",
            name="can_manage_macros",
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name="Agent",
            name="hourly_rate_cents",
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name="Organisation",
            name="default_hourly_rate_cents",
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name="SupportAddress",
            name="from_disabled",
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name="Thread",
            name="inbound_key",
            field=fields.CharField(null=True, unique=True, max_length=64),
        ),
        ops.AddField(
            model_name="Ticket",
            name="merged_into",
            field=fields.ForeignKeyField(
                "models.Ticket",
                source_field="merged_into_id",
                null=True,
                db_constraint=True,
                to_field="id",
                related_name="merged_tickets",
                on_delete=OnDelete.SET_NULL,
            ),
        ),
        ops.AddField(
            model_name="Ticket",
            name="split_from",
            field=fields.ForeignKeyField(
                "models.Ticket",
                source_field="split_from_id",
                null=True,
                db_constraint=True,
                to_field="id",
                related_name="split_tickets",
                on_delete=OnDelete.SET_NULL,
            ),
        ),
    ]
