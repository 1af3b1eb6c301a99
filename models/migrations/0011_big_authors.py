from tortoise import migrations
from tortoise.migrations import operations as ops

# The authors above the fan-out limit (services/timelines): their posts are merged into their
# followers' home timelines at read time instead of pushed. Kept in Postgres so a home read
# asks only for the big authors its viewer follows (a join on the viewer's follows) instead of
# carrying the whole set from Redis on every read. Filled here by the default limit (1,000 local
# followers); each author's next post re-decides by the configured one. Analysed at once: with
# no statistics the planner takes the small table for thousands of rows and hash-joins it with
# all the viewer's follows, read from the heap, instead of merging the two along the follows
# index (autovacuum analyses it only after 50 changes).
_TABLE = """
CREATE TABLE big_authors (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE
);
INSERT INTO big_authors (account_id)
SELECT f.followee_id FROM follows f JOIN accounts a ON a.id = f.follower_id
WHERE f.state = 'accepted' AND a.domain IS NULL
GROUP BY f.followee_id HAVING count(*) > 1000;
ANALYZE big_authors;
"""
_DROP = "DROP TABLE IF EXISTS big_authors;"


class Migration(migrations.Migration):
    dependencies = [('models', '0010_silenced_accounts_index')]

    initial = False

    operations = [
        ops.RunSQL(_TABLE, _DROP),
    ]
