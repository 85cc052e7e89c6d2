"""Indexes for every filter and sort of the ticket, contact and account lists and for a
ticket's threads and comments (issue 18), chosen from EXPLAIN on PostgreSQL at 1M tickets: a
filter column then the default sort (created_at), each other sort column then id (the keyset
tiebreak). Written by `deskql makemigrations` from the models' Meta.indexes."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0016_search_speed')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Account',
            index=Index(fields=['created_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Comment',
            index=Index(fields=['ticket_id', 'id']),
        ),
        ops.AddIndex(
            model_name='Contact',
            index=Index(fields=['account_id', 'id']),
        ),
        ops.AddIndex(
            model_name='Contact',
            index=Index(fields=['updated_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Thread',
            index=Index(fields=['ticket_id', 'id']),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['contact_id', 'created_at']),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['account_id', 'created_at']),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['product_id', 'created_at']),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['assignee_agent_id', 'created_at']),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['assignee_team_id', 'created_at']),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['department_id', 'created_at']),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['status', 'created_at']),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['department_id', 'status', 'created_at']),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['channel', 'created_at']),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['updated_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['due_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['priority', 'id']),
        ),
    ]
