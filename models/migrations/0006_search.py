from tortoise import migrations
from tortoise.migrations import operations as ops
from models.ids import next_id
from tortoise.fields.base import OnDelete
from tortoise import fields

# Every write that changes what search should find leaves a search_changes row in its own
# transaction, whatever code path made it (posting, edits and deletes from peers, suspensions,
# profile updates), and wakes the indexer with NOTIFY (delivered at commit). Boosts carry no
# text of their own and are not indexed.
_TRIGGERS = """
CREATE FUNCTION search_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  row_id bigint;
BEGIN
  IF TG_TABLE_NAME = 'posts' THEN
    IF (TG_OP = 'DELETE' AND OLD.boost_of_id IS NOT NULL)
       OR (TG_OP <> 'DELETE' AND NEW.boost_of_id IS NOT NULL) THEN
      RETURN NULL;
    END IF;
  END IF;
  IF TG_OP = 'DELETE' THEN row_id := OLD.id; ELSE row_id := NEW.id; END IF;
  INSERT INTO search_changes (kind, target_id, created_at)
  VALUES (CASE TG_TABLE_NAME WHEN 'posts' THEN 'post' ELSE 'account' END, row_id, now());
  PERFORM pg_notify('search_changes', '');
  RETURN NULL;
END $$;

CREATE TRIGGER posts_search_written AFTER INSERT OR DELETE ON posts
FOR EACH ROW EXECUTE FUNCTION search_changed();
CREATE TRIGGER posts_search_edited AFTER UPDATE ON posts FOR EACH ROW
WHEN (OLD.html IS DISTINCT FROM NEW.html OR OLD.text IS DISTINCT FROM NEW.text
      OR OLD.spoiler_text IS DISTINCT FROM NEW.spoiler_text
      OR OLD.visibility IS DISTINCT FROM NEW.visibility
      OR OLD.language IS DISTINCT FROM NEW.language
      OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
EXECUTE FUNCTION search_changed();

CREATE TRIGGER accounts_search_written AFTER INSERT OR DELETE ON accounts
FOR EACH ROW EXECUTE FUNCTION search_changed();
CREATE TRIGGER accounts_search_edited AFTER UPDATE ON accounts FOR EACH ROW
WHEN (OLD.username IS DISTINCT FROM NEW.username
      OR OLD.display_name IS DISTINCT FROM NEW.display_name
      OR OLD.note IS DISTINCT FROM NEW.note
      OR OLD.discoverable IS DISTINCT FROM NEW.discoverable
      OR OLD.indexable IS DISTINCT FROM NEW.indexable
      OR OLD.suspended_at IS DISTINCT FROM NEW.suspended_at
      OR OLD.silenced_at IS DISTINCT FROM NEW.silenced_at)
EXECUTE FUNCTION search_changed();

-- Hashtag timelines: a tag's posts newest first (the M2M's own index leads with the post).
CREATE INDEX post_tags_tag_post ON post_tags (tag_id, posts_id);
"""

_DROP_TRIGGERS = """
DROP INDEX IF EXISTS post_tags_tag_post;
DROP TRIGGER IF EXISTS accounts_search_edited ON accounts;
DROP TRIGGER IF EXISTS accounts_search_written ON accounts;
DROP TRIGGER IF EXISTS posts_search_edited ON posts;
DROP TRIGGER IF EXISTS posts_search_written ON posts;
DROP FUNCTION IF EXISTS search_changed();
"""


class Migration(migrations.Migration):
    dependencies = [('models', '0005_delivery_leases')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SearchChange',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=16)),
                ('target_id', fields.BigIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'search_changes', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A post or account whose search document is stale.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TagFollow',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=next_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='followed_tags', on_delete=OnDelete.CASCADE)),
                ('tag', fields.ForeignKeyField('models.Tag', source_field='tag_id', db_index=True, db_constraint=True, to_field='id', related_name='followers', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'tag_follows', 'app': 'models', 'unique_together': (('account_id', 'tag_id'),), 'pk_attr': 'id', 'table_description': "A local account following a hashtag: public posts with it reach the account's home."},
            bases=['SnowflakeModel'],
        ),
        ops.AddField(
            model_name='Account',
            name='indexable',
            field=fields.BooleanField(default=True, db_default=True),
        ),
        ops.RunSQL(_TRIGGERS, _DROP_TRIGGERS),
    ]
