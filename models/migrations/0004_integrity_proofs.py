from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_federation')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Account',
            name='proof_keys',
            field=fields.JSONField(default=dict, db_default='{}', encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='InboxItem',
            name='proof',
            field=fields.CharField(default='', db_default='', max_length=16),
        ),
    ]
