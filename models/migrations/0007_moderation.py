from tortoise import migrations
from tortoise.migrations import operations as ops
from models.notifications import NotificationType
from tortoise import fields

# Moderation: the address each sign-up came from, and the notification types for staff.


class Migration(migrations.Migration):
    dependencies = [('models', '0006_search')]

    initial = False

    operations = [
        ops.AddField(
            model_name='User',
            name='sign_up_ip',
            field=fields.CharField(null=True, max_length=45),
        ),
        ops.AlterField(
            model_name='Notification',
            name='type',
            field=fields.CharEnumField(description='MENTION: mention\nFAVOURITE: favourite\nREBLOG: reblog\nFOLLOW: follow\nFOLLOW_REQUEST: follow_request\nADMIN_SIGN_UP: admin.sign_up\nADMIN_REPORT: admin.report', enum_type=NotificationType, max_length=32),
        ),
    ]
