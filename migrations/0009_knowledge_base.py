"""The knowledge base (KB-1, KB-2): article categories, articles, their permalinks (current
and old), tags and votes. New tables only."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from deskql.models.kb import ArticleStatus, ArticleVisibility
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [("models", "0009_comments_on_records")]

    initial = False

    operations = [
        ops.CreateModel(
            name='ArticleCategory',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=120)),
                ('description', fields.TextField(default='', unique=False)),
                ('parent', fields.ForeignKeyField('models.ArticleCategory', source_field='parent_id', null=True, db_constraint=True, to_field='id', related_name='children', on_delete=OnDelete.RESTRICT)),
                ('position', fields.IntField(default=0)),
                ('department', fields.ForeignKeyField('models.Department', source_field='department_id', null=True, db_constraint=True, to_field='id', related_name='article_categories', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'article_category', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A category of articles, in a tree of at most a few levels. A category of a department'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Article',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=255)),
                ('body', fields.TextField(default='', unique=False)),
                ('summary', fields.CharField(default='', max_length=500)),
                ('category', fields.ForeignKeyField('models.ArticleCategory', source_field='category_id', null=True, db_constraint=True, to_field='id', related_name='articles', on_delete=OnDelete.RESTRICT)),
                ('department', fields.ForeignKeyField('models.Department', source_field='department_id', db_constraint=True, to_field='id', related_name='articles', on_delete=OnDelete.RESTRICT)),
                ('author', fields.ForeignKeyField('models.Agent', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name='articles', on_delete=OnDelete.SET_NULL)),
                ('status', fields.CharEnumField(default=ArticleStatus.DRAFT, description='DRAFT: DRAFT\nPUBLISHED: PUBLISHED\nARCHIVED: ARCHIVED', enum_type=ArticleStatus, max_length=16)),
                ('visibility', fields.CharEnumField(default=ArticleVisibility.AGENTS, description='PUBLIC: PUBLIC\nCONTACTS: CONTACTS\nAGENTS: AGENTS', enum_type=ArticleVisibility, max_length=16)),
                ('permalink', fields.CharField(unique=True, max_length=150)),
                ('view_count', fields.IntField(default=0)),
                ('helpful_count', fields.IntField(default=0)),
                ('not_helpful_count', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(db_index=True, auto_now=True, auto_now_add=False)),
                ('published_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'article', 'app': 'models', 'indexes': [Index(fields=['status', 'visibility'])], 'pk_attr': 'id', 'table_description': 'A knowledge-base article of a department: Markdown body, status, visibility and one'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ArticlePermalink',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('permalink', fields.CharField(unique=True, max_length=150)),
                ('article', fields.ForeignKeyField('models.Article', source_field='article_id', null=True, db_constraint=True, to_field='id', related_name='permalinks', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'article_permalink', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Every permalink an article ever had, the current one included (KB-2). A permalink is'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ArticleTag',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('article', fields.ForeignKeyField('models.Article', source_field='article_id', db_constraint=True, to_field='id', related_name='tag_links', on_delete=OnDelete.CASCADE)),
                ('tag', fields.ForeignKeyField('models.Tag', source_field='tag_id', db_constraint=True, to_field='id', related_name='article_links', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'article_tag', 'app': 'models', 'unique_together': (('article', 'tag'),), 'pk_attr': 'id', 'table_description': "A tag (the tickets' Tag names, TIC-6 rules) on an article."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ArticleVote',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('article', fields.ForeignKeyField('models.Article', source_field='article_id', db_constraint=True, to_field='id', related_name='votes', on_delete=OnDelete.CASCADE)),
                ('agent', fields.ForeignKeyField('models.Agent', source_field='agent_id', null=True, db_constraint=True, to_field='id', related_name='article_votes', on_delete=OnDelete.CASCADE)),
                ('contact', fields.ForeignKeyField('models.Contact', source_field='contact_id', null=True, db_constraint=True, to_field='id', related_name='article_votes', on_delete=OnDelete.CASCADE)),
                ('helpful', fields.BooleanField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'article_vote', 'app': 'models', 'unique_together': (('article', 'agent'), ('article', 'contact')), 'pk_attr': 'id', 'table_description': "One agent's (or one contact's) vote on an article: helpful or not."},
            bases=['Model'],
        ),
    ]
