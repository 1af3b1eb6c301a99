from tortoise import migrations
from tortoise.migrations import operations as ops
from models.ids import next_id
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_posting_defaults_and_public_index')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Tombstone',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=next_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('uri', fields.CharField(unique=True, max_length=1024)),
            ],
            options={'table': 'tombstones', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An object or activity id that is gone: a deleted post, an undone like or follow.'},
            bases=['SnowflakeModel'],
        ),
        ops.AddField(
            model_name='Account',
            name='actor_type',
            field=fields.CharField(default='Person', db_default='Person', max_length=32),
        ),
        ops.AddField(
            model_name='Account',
            name='featured_uri',
            field=fields.CharField(default='', db_default='', max_length=1024),
        ),
        ops.AddField(
            model_name='Account',
            name='moved_to_uri',
            field=fields.CharField(null=True, max_length=1024),
        ),
        ops.AddField(
            model_name='Delivery',
            name='domain',
            field=fields.CharField(default='', db_default='', max_length=255),
        ),
        ops.AddField(
            model_name='Delivery',
            name='last_status',
            field=fields.IntField(null=True),
        ),
        ops.AddIndex(
            model_name='Delivery',
            index=Index(fields=['domain', 'state']),
        ),
        ops.AddField(
            model_name='InboxItem',
            name='key_id',
            field=fields.CharField(default='', db_default='', max_length=1024),
        ),
    ]
