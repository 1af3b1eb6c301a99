from tortoise import migrations
from tortoise.migrations import operations as ops

# A new notification wakes the streaming API at commit (NOTIFY is delivered then, and not at
# all on rollback), whichever code path made it: each web process LISTENs and sends it to the
# recipient's open streams. The payload is "recipient_id notification_id".
_TRIGGER = """
CREATE FUNCTION stream_notification() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('stream_notifications', NEW.recipient_id || ' ' || NEW.id);
  RETURN NULL;
END $$;

CREATE TRIGGER notifications_streamed AFTER INSERT ON notifications
FOR EACH ROW EXECUTE FUNCTION stream_notification();
"""

_DROP_TRIGGER = """
DROP TRIGGER IF EXISTS notifications_streamed ON notifications;
DROP FUNCTION IF EXISTS stream_notification();
"""


class Migration(migrations.Migration):
    dependencies = [('models', '0008_domain_blocks_and_reports')]

    initial = False

    operations = [
        ops.RunSQL(_TRIGGER, _DROP_TRIGGER),
    ]
