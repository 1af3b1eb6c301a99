from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

# Domain blocks as Mastodon keeps them (severity as blocked/silenced, media and report
# rejection, comments, when), and what moderators record on a report; admin.report
# notifications name their report.


class Migration(migrations.Migration):
    dependencies = [('models', '0007_moderation')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Domain',
            name='blocked_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Domain',
            name='reject_media',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Domain',
            name='reject_reports',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Domain',
            name='obfuscate',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Domain',
            name='public_comment',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
        ops.AddField(
            model_name='Report',
            name='rule_ids',
            field=fields.JSONField(default=list, db_default='[]'),
        ),
        ops.AddField(
            model_name='Report',
            name='assigned_account',
            field=fields.ForeignKeyField('models.Account', source_field='assigned_account_id', null=True, db_constraint=True, to_field='id', related_name='reports_assigned', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Report',
            name='action_taken_by',
            field=fields.ForeignKeyField('models.Account', source_field='action_taken_by_id', null=True, db_constraint=True, to_field='id', related_name='reports_resolved', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Report',
            name='resolution_note',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
        ops.AddField(
            model_name='Report',
            name='updated_at',
            field=fields.DatetimeField(null=True, auto_now=True, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='Report',
            index=Index(fields=['state', 'id']),
        ),
        ops.AddField(
            model_name='Notification',
            name='report',
            field=fields.ForeignKeyField('models.Report', source_field='report_id', null=True, db_index=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE),
        ),
    ]
