from tortoise import migrations
from tortoise.migrations import operations as ops
from models.posts import Visibility
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Post',
            index=Index(fields=['visibility', 'id']),
        ),
        ops.AddField(
            model_name='User',
            name='default_language',
            field=fields.CharField(null=True, max_length=16),
        ),
        ops.AddField(
            model_name='User',
            name='default_sensitive',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='User',
            name='default_visibility',
            field=fields.CharEnumField(default=Visibility.PUBLIC, description='PUBLIC: public\nUNLISTED: unlisted\nFOLLOWERS: followers\nDIRECT: direct', db_default='public', enum_type=Visibility, max_length=16),
        ),
    ]
