"""Deleting posts: a local user's own (announced to peers as Delete), and a peer's (when it
tells us so). One path for both: the rows, their counts, caches, home timelines, a tombstone."""

from __future__ import annotations

from tortoise import connections
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models.accounts import Account
from models.federation import Tombstone
from models.ids import next_id
from models.posts import Mention, Post
from models.relationships import Follow, FollowState
from services import author_feeds, federate, post_delivery, streams, timelines, viewer_cache
from services.backends import Backends
from services.errors import NotFound
from services.postcache import Snapshot, forget_accounts, forget_posts, load_posts
from services.statuses import Hydrated, hydrate

_DELETE_BOOSTS_SQL = "DELETE FROM posts WHERE boost_of_id = $1 RETURNING id, author_id"
_TOMBSTONE_SQL = (
    "INSERT INTO tombstones (id, created_at, uri) VALUES ($1, now(), $2) "
    "ON CONFLICT (uri) DO NOTHING"
)


async def delete_post(backends: Backends, viewer_account_id: int, post_id: int) -> Hydrated:
    """Delete the viewer's own post (anyone else's is a 404, as in Mastodon) and answer it
    as it was, so the client can offer to redraft it."""
    post = await Post.filter(
        id=post_id, author_id=viewer_account_id, boost_of_id__isnull=True, deleted_at__isnull=True
    ).first()
    if post is None:
        raise NotFound("Record not found")
    before = await hydrate(backends.redis, viewer_account_id, [post_id])
    if not before.posts:
        raise NotFound("Record not found")
    author = await Account.get(id=viewer_account_id)
    await remove_post(backends, post, announce_as=author, snapshot=before.posts[0])
    return before


async def remove_post(
    backends: Backends,
    post: Post,
    *,
    announce_as: Account | None = None,
    snapshot: Snapshot | None = None,
) -> None:
    """Delete a post and its boosts. ``announce_as`` (the local author) queues the Delete for
    everyone who got the post; ``snapshot`` is the post as it was (needed for that)."""
    readers = await timeline_readers(post.author_id, post.id)  # type: ignore[attr-defined]
    before = snapshot or (await load_posts(backends.redis, [post.id])).get(post.id)
    replies = await Post.filter(in_reply_to_id=post.id).values_list("id", flat=True)
    boosts, deliveries = await _delete_rows(backends, post, announce_as, snapshot)
    changed_posts = [post.id, *boosts, *replies]
    if post.in_reply_to_id is not None:  # type: ignore[attr-defined]
        changed_posts.append(post.in_reply_to_id)  # type: ignore[attr-defined]
    await forget_posts(backends.redis, changed_posts)
    await forget_accounts(backends.redis, [post.author_id, *boosts.values()])  # type: ignore[attr-defined]
    await timelines.remove(backends.redis, readers, [post.id, *boosts])
    await author_feeds.remove(
        backends.redis,
        [
            (post.id, post.author_id, None),  # type: ignore[attr-defined]
            *((b, booster, post.id) for b, booster in boosts.items()),
        ],
    )
    channels = streams.broadcast_channels(before) if before else []
    await streams.publish(backends.redis, "delete", post.id, readers, channels)
    for boost_id in boosts:
        await streams.publish(backends.redis, "delete", boost_id, readers)
    await federate.send(backends.queue, deliveries)


async def timeline_readers(author_id: int, post_id: int) -> list[int]:
    """Whose home timelines may hold the post: the author, local followers, the mentioned."""
    followers = await Follow.filter(
        followee_id=author_id, state=FollowState.ACCEPTED, follower__domain__isnull=True
    ).values_list("follower_id", flat=True)
    mentioned = await Mention.filter(post_id=post_id).values_list("account_id", flat=True)
    return list(dict.fromkeys([author_id, *followers, *mentioned]))


async def _delete_rows(
    backends: Backends, post: Post, announce_as: Account | None, snapshot: Snapshot | None
) -> tuple[dict[int, int], list[int]]:
    """Delete the post and its boosts, and the counts they held; answers boost id -> booster
    and the deliveries queued. Likes, mentions and notifications go with the rows (ON DELETE
    CASCADE); the uri stays as a tombstone, so a late copy of the post is not stored again."""
    async with in_transaction():
        conn = connections.get("default")
        # execute_query drops RETURNING rows of a DELETE; execute_query_dict fetches them.
        rows = await conn.execute_query_dict(_DELETE_BOOSTS_SQL, [post.id])
        boosts = {row["id"]: row["author_id"] for row in rows}
        if not await Post.filter(id=post.id).delete():
            raise NotFound("Record not found")  # deleted by a concurrent request
        await conn.execute_query(_TOMBSTONE_SQL, [next_id(), post.uri])
        for author_id in [post.author_id, *boosts.values()]:  # type: ignore[attr-defined]
            await Account.filter(id=author_id, posts_count__gt=0).update(
                posts_count=F("posts_count") - 1
            )
        if post.in_reply_to_id is not None:  # type: ignore[attr-defined]
            await Post.filter(id=post.in_reply_to_id, replies_count__gt=0).update(  # type: ignore[attr-defined]
                replies_count=F("replies_count") - 1
            )
        deliveries: list[int] = []
        if announce_as is not None and snapshot is not None:
            deliveries = await post_delivery.queue_delete(
                snapshot, announce_as, backends.settings, list(boosts.values())
            )
    return boosts, deliveries


async def tombstone(uri: str | None) -> None:
    """Remember that an id is gone (its Undo or Delete came before it): a late copy is dropped."""
    if uri:
        await connections.get("default").execute_query(_TOMBSTONE_SQL, [next_id(), uri])


async def is_tombstoned(uri: str | None) -> bool:
    return bool(uri) and await Tombstone.filter(uri=uri).exists()


# --- a remote account that is gone ---------------------------------------------------------

_PURGE_SQL = [
    # Counts its follows and likes, boosts and replies held on other rows.
    """UPDATE accounts SET following_count = GREATEST(following_count - 1, 0) WHERE id IN
       (SELECT follower_id FROM follows WHERE followee_id = $1 AND state = 'accepted')""",
    """UPDATE accounts SET followers_count = GREATEST(followers_count - 1, 0) WHERE id IN
       (SELECT followee_id FROM follows WHERE follower_id = $1 AND state = 'accepted')""",
    """UPDATE posts SET likes_count = GREATEST(likes_count - 1, 0) WHERE id IN
       (SELECT post_id FROM likes WHERE account_id = $1)""",
    """UPDATE posts p SET boosts_count = GREATEST(p.boosts_count - c.n, 0)
       FROM (SELECT boost_of_id, count(*) AS n FROM posts WHERE author_id = $1
             AND boost_of_id IS NOT NULL AND visibility IN ('public', 'unlisted')
             GROUP BY boost_of_id) c WHERE p.id = c.boost_of_id""",
    """UPDATE posts p SET replies_count = GREATEST(p.replies_count - c.n, 0)
       FROM (SELECT in_reply_to_id, count(*) AS n FROM posts WHERE author_id = $1
             AND in_reply_to_id IS NOT NULL GROUP BY in_reply_to_id) c
       WHERE p.id = c.in_reply_to_id""",
    # Its posts stay gone: a late copy meets a tombstone.
    """INSERT INTO tombstones (id, created_at, uri)
       SELECT id, now(), uri FROM posts WHERE author_id = $1 AND boost_of_id IS NULL
       ON CONFLICT (uri) DO NOTHING""",
    "DELETE FROM follows WHERE follower_id = $1 OR followee_id = $1",
    "DELETE FROM likes WHERE account_id = $1",
    "DELETE FROM notifications WHERE actor_id = $1",
    "DELETE FROM posts WHERE author_id = $1",
    """UPDATE accounts SET suspended_at = now(), followers_count = 0, following_count = 0,
       posts_count = 0, public_key = '' WHERE id = $1""",
]

_AFFECTED_SQL = """
SELECT follower_id AS id FROM follows WHERE followee_id = $1
UNION SELECT followee_id FROM follows WHERE follower_id = $1
"""


async def purge_account(backends: Backends, account: Account) -> None:
    """A remote actor deleted itself: its posts, boosts, likes and follows go, with the counts
    they held on our accounts and posts. The row stays, suspended and without its key, so
    nothing signed by it is accepted again and a late copy of its posts is dropped."""
    if account.is_local:
        raise NotFound("Record not found")
    await purge_rows(backends, account)


async def purge_rows(backends: Backends, account: Account) -> None:
    """What ``purge_account`` deletes, for any account (services/moderation purges local
    ones an admin suspended, after their peers heard the Delete)."""
    conn = connections.get("default")
    _, affected_rows = await conn.execute_query(_AFFECTED_SQL, [account.id])
    affected = [row["id"] for row in affected_rows]
    posts = await Post.filter(author_id=account.id).values_list("id", flat=True)
    async with in_transaction():
        conn = connections.get("default")
        for sql in _PURGE_SQL:
            await conn.execute_query(sql, [account.id])
    await forget_accounts(backends.redis, [account.id, *affected])
    await forget_posts(backends.redis, posts)
    await timelines.remove(backends.redis, affected, list(posts))
    await author_feeds.drop(backends.redis, [account.id])
    await viewer_cache.changed(backends.redis, affected)  # their follows of it, or its of them
    for post_id in posts:
        await streams.publish(backends.redis, "delete", post_id, affected)
