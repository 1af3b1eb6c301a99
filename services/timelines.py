"""Home timelines with hybrid fan-out (DESIGN.md "Home timeline").

A Redis sorted set per local account holds post ids (member = id, score = the id's millisecond
part: scores are doubles and cannot hold 64 bits), capped at ``CAP`` entries, plus a sentinel
member "0" (score 0) that says "this timeline is built" even when it is empty. Posts from
authors with at most ``timeline.fanout_max_followers`` local followers are pushed on write, by a
Lua script, into the timelines that exist; bigger authors' posts are merged in from Postgres at
read time. A missing timeline (never read, expired, Redis flushed) is rebuilt from Postgres by
the same rule, so the push path, the merge path and the rebuild agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from tortoise import connections

from instance.config import Settings
from models.ids import id_millis
from models.posts import Visibility
from services.paging import Page, select_page
from services.statuses import Hydrated, hydrate

HOME_KEY = "tl:home:{}"
BIG_AUTHORS_KEY = "tl:big-authors"
SENTINEL = "0"
CAP = 800
KEYS_PER_CALL = 1000
BATCH_SLACK = 10

# Push one entry into every timeline that exists, then trim to CAP (the sentinel is rank 0).
_PUSH = """
local pushed = 0
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    redis.call('ZADD', key, ARGV[1], ARGV[2])
    redis.call('ZREMRANGEBYRANK', key, 1, -(tonumber(ARGV[3]) + 1))
    pushed = pushed + 1
  end
end
return pushed
"""

# $2: the post is a boost (followers who turned off the author's boosts do not get it).
_LOCAL_FOLLOWERS_SQL = """
SELECT f.follower_id FROM follows f JOIN accounts a ON a.id = f.follower_id
WHERE f.followee_id = $1 AND f.state = 'accepted' AND a.domain IS NULL
  AND (f.show_reblogs OR NOT $2::boolean)
"""

# What belongs in a home timeline, in SQL: posts by the authors of {authors} (the viewer $1
# and those it follows, each with whether the viewer wants their boosts), except direct posts
# that do not mention the viewer. One index scan on (author_id, id) per author (LATERAL), then
# a merge: never a scan of everyone's posts.
_HOME_SQL = """
SELECT x.id FROM ({authors}) AS a(author_id, show_boosts)
CROSS JOIN LATERAL (
  SELECT p.id FROM posts p
  WHERE p.author_id = a.author_id AND p.deleted_at IS NULL
    AND (a.show_boosts OR p.boost_of_id IS NULL)
    AND ($3::bigint IS NULL OR p.id < $3) AND ($4::bigint IS NULL OR p.id > $4)
    AND (p.visibility <> 'direct' OR p.author_id = $1
         OR EXISTS (SELECT 1 FROM mentions m WHERE m.post_id = p.id AND m.account_id = $1))
  ORDER BY p.id {order} LIMIT $5
) x
ORDER BY x.id {order} LIMIT $5
"""
# ... for the viewer and the followed authors not in $2 (the big ones: merged at read time),
_PUSHED_AUTHORS = (
    "SELECT $1::bigint, true UNION ALL "
    "SELECT followee_id, show_reblogs FROM follows WHERE follower_id = $1 "
    "AND state = 'accepted' AND NOT (followee_id = ANY($2::bigint[]))"
)
# ... or for the followed authors among those in $2.
_FOLLOWED_AUTHORS_IN = (
    "SELECT followee_id, show_reblogs FROM follows WHERE follower_id = $1 "
    "AND state = 'accepted' AND followee_id = ANY($2::bigint[])"
)

_BIG_AUTHORS_SQL = """
SELECT f.followee_id FROM follows f JOIN accounts a ON a.id = f.follower_id
WHERE f.state = 'accepted' AND a.domain IS NULL
GROUP BY f.followee_id HAVING count(*) > $1
"""


def home_key(account_id: int) -> str:
    return HOME_KEY.format(account_id)


async def _query(sql: str, *args: object) -> list[int]:
    _, rows = await connections.get("default").execute_query(sql, list(args))
    return [row[0] for row in rows]


# --- write side -------------------------------------------------------------------------


async def fan_out(redis: Redis, settings: Settings, post: dict[str, object]) -> int:
    """Push a new post into the home timelines it belongs in; returns how many got it.

    ``post`` needs ``id``, ``author_id``, ``visibility``, ``boost_of_id`` and ``mention_ids``.
    The author's own timeline always gets it; followers' only when the author is small enough.
    """
    post_id, author_id = int(post["id"]), int(post["author_id"])  # type: ignore[call-overload]
    followers = await _query(_LOCAL_FOLLOWERS_SQL, author_id, bool(post["boost_of_id"]))
    big = len(followers) > settings.timeline.fanout_max_followers
    await _mark_big(redis, settings, author_id, big)
    recipients = [author_id]
    if not big:
        if post["visibility"] == Visibility.DIRECT:
            mentioned = set(post["mention_ids"])  # type: ignore[call-overload]
            followers = [f for f in followers if f in mentioned]
        recipients.extend(followers)
    return await push(redis, recipients, [post_id])


async def push(redis: Redis, account_ids: Iterable[int], post_ids: Iterable[int]) -> int:
    """Add posts to the (existing) home timelines of ``account_ids``."""
    keys = [home_key(account) for account in dict.fromkeys(account_ids)]
    script = redis.register_script(_PUSH)
    pushed = 0
    for post_id in post_ids:
        for start in range(0, len(keys), KEYS_PER_CALL):
            chunk = keys[start : start + KEYS_PER_CALL]
            pushed += await script(keys=chunk, args=[id_millis(post_id), str(post_id), CAP])
    return pushed


async def remove(redis: Redis, account_ids: Iterable[int], post_ids: Sequence[int]) -> None:
    """Take posts out of these home timelines (a delete, or entries of an unfollowed author)."""
    if not post_ids:
        return
    members = [str(post_id) for post_id in post_ids]
    async with redis.pipeline(transaction=False) as pipe:
        for account in dict.fromkeys(account_ids):
            pipe.zrem(home_key(account), *members)
        await pipe.execute()


async def remove_author(redis: Redis, viewer_id: int, author_id: int) -> None:
    """After an unfollow, block or mute: drop the author's posts and boosts from the viewer's
    timeline. Boosts *of* the author's posts by others are filtered at read time instead."""
    members = [int(m) for m in await redis.zrange(home_key(viewer_id), 1, -1)]
    if not members:
        return
    _, rows = await connections.get("default").execute_query(
        "SELECT id FROM posts WHERE id = ANY($1::bigint[]) AND author_id = $2", [members, author_id]
    )
    await remove(redis, [viewer_id], [row["id"] for row in rows])


async def merge_author(redis: Redis, viewer_id: int, author_id: int, limit: int = 40) -> None:
    """After a follow: bring the author's recent posts into the viewer's (existing) timeline."""
    sql = _HOME_SQL.format(authors=_FOLLOWED_AUTHORS_IN, order="DESC")
    recent = await _query(sql, viewer_id, [author_id], None, None, limit)
    await push(redis, [viewer_id], recent)


async def _mark_big(redis: Redis, settings: Settings, author_id: int, big: bool) -> None:
    # The set must exist (rebuilt from Postgres if Redis lost it) before one member changes;
    # EXISTS rather than reading every member on each fan-out.
    if not await redis.exists(BIG_AUTHORS_KEY):
        await _big_authors(redis, settings)
    if big:
        await redis.sadd(BIG_AUTHORS_KEY, author_id)
    else:
        await redis.srem(BIG_AUTHORS_KEY, author_id)


async def _big_authors(redis: Redis, settings: Settings) -> set[int]:
    """Authors above the fan-out limit: cached in Redis, recomputed from Postgres if lost."""
    members = await redis.smembers(BIG_AUTHORS_KEY)
    if not members:
        big = await _query(_BIG_AUTHORS_SQL, settings.timeline.fanout_max_followers)
        await redis.sadd(BIG_AUTHORS_KEY, SENTINEL, *big)
        return set(big)
    return {int(m) for m in members} - {0}


# --- read side --------------------------------------------------------------------------


async def rebuild(redis: Redis, settings: Settings, viewer_id: int) -> None:
    """Fill a missing timeline from Postgres, by the same rule as the push path."""
    big = await _big_authors(redis, settings)
    sql = _HOME_SQL.format(authors=_PUSHED_AUTHORS, order="DESC")
    ids = await _query(sql, viewer_id, list(big), None, None, CAP)
    key = home_key(viewer_id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(key)
        pipe.zadd(key, {SENTINEL: 0, **{str(i): id_millis(i) for i in ids}})
        await pipe.execute()


def _queue_range(pipe: Pipeline, key: str, page: Page, count: int) -> None:
    """Queue the read of up to ``count`` entries in the page's window (scores are milliseconds:
    the window is widened to whole milliseconds here and cut exactly on the ids afterwards)."""
    lower = page.lower
    low = id_millis(lower) if lower is not None else "(0"
    if page.ascending:
        pipe.zrangebyscore(key, low, "+inf", start=0, num=count + BATCH_SLACK)
    else:
        high = id_millis(page.max_id) if page.max_id is not None else "+inf"
        pipe.zrevrangebyscore(key, high, low, start=0, num=count + BATCH_SLACK)


def _cut(raw: list[bytes], page: Page, count: int) -> list[int]:
    ids = sorted((int(m) for m in raw if m != b"0"), reverse=True)
    return select_page(ids, Page(page.max_id, page.since_id, page.min_id, count))


async def _from_big_authors(big: set[int], viewer_id: int, page: Page, count: int) -> list[int]:
    """The viewer's followed big authors' posts in the page's window, from Postgres."""
    if not big:
        return []
    order = "ASC" if page.ascending else "DESC"
    sql = _HOME_SQL.format(authors=_FOLLOWED_AUTHORS_IN, order=order)
    ids = await _query(sql, viewer_id, list(big), page.max_id, page.lower, count)
    return sorted(ids, reverse=True)


async def home_ids(redis: Redis, settings: Settings, viewer_id: int, page: Page) -> list[int]:
    """Candidate ids for a page of the viewer's home timeline, newest first.

    May return more than ``page.limit`` ids: hydration drops what the viewer may not see
    (muted, blocked, deleted), so the caller takes the first ``limit`` that survive.
    """
    key = home_key(viewer_id)
    count = page.limit + BATCH_SLACK
    # One round trip for the common case: the timeline exists and the big set is cached.
    async with redis.pipeline(transaction=False) as pipe:
        pipe.exists(key)
        _queue_range(pipe, key, page, count)
        pipe.smembers(BIG_AUTHORS_KEY)
        exists, raw, big_members = await pipe.execute()
    if not exists:
        await rebuild(redis, settings, viewer_id)
        async with redis.pipeline(transaction=False) as pipe:
            _queue_range(pipe, key, page, count)
            (raw,) = await pipe.execute()
    pushed = _cut(raw, page, count)
    big = {int(m) for m in big_members} - {0} if big_members else None
    if big is None:  # the cached set is gone (Redis flushed): recompute it
        big = await _big_authors(redis, settings)
    merged = await _from_big_authors(big, viewer_id, page, count)
    ids = sorted(set(pushed) | set(merged), reverse=True)
    return select_page(ids, Page(page.max_id, page.since_id, page.min_id, count))


async def read_home(redis: Redis, settings: Settings, viewer_id: int, page: Page) -> Hydrated:
    """A page of the home timeline, hydrated, without muted or blocked accounts' posts."""
    ids = await home_ids(redis, settings, viewer_id, page)
    hydrated = await hydrate(redis, viewer_id, ids, hide_muted=True)
    return trim(hydrated, page)


def trim(hydrated: Hydrated, page: Page) -> Hydrated:
    """Keep ``page.limit`` posts: the newest, or for min_id the ones just above it."""
    posts = hydrated.posts
    hydrated.posts = posts[-page.limit :] if page.ascending else posts[: page.limit]
    return hydrated


# --- lists read straight from Postgres: the public timelines and an account's posts -------

_PUBLIC_SQL = """
SELECT p.id FROM posts p
WHERE p.visibility = 'public' AND p.boost_of_id IS NULL AND p.in_reply_to_id IS NULL
  AND p.in_reply_to_uri IS NULL AND p.deleted_at IS NULL {local}
  AND ($1::bigint IS NULL OR p.id < $1) AND ($2::bigint IS NULL OR p.id > $2)
ORDER BY p.id {order} LIMIT $3
"""

_ACCOUNT_SQL = """
SELECT p.id FROM posts p
WHERE p.author_id = $1 AND p.deleted_at IS NULL
  AND ($2::bigint IS NULL OR p.id < $2) AND ($3::bigint IS NULL OR p.id > $3)
  AND (p.visibility IN ('public', 'unlisted') OR p.author_id = $5
       OR (p.visibility = 'followers' AND $6::boolean)
       OR EXISTS (SELECT 1 FROM mentions m WHERE m.post_id = p.id AND m.account_id = $5))
  -- exclude_replies keeps self-replies (threads), as Mastodon does
  AND (NOT $7::boolean OR p.in_reply_to_id IS NULL OR p.in_reply_to_account_id = p.author_id)
  AND (NOT $8::boolean OR p.boost_of_id IS NULL)
  AND ($9::text IS NULL OR EXISTS (SELECT 1 FROM post_tags pt JOIN tags t ON t.id = pt.tag_id
                                  WHERE pt.posts_id = p.id AND t.name = $9))
ORDER BY p.id {order} LIMIT $4
"""


async def read_public(
    redis: Redis, viewer_id: int | None, page: Page, *, local_only: bool = False
) -> Hydrated:
    """Public, top-level, original posts (Mastodon's public timeline leaves out replies and
    boosts), newest first; ``local_only`` for this instance's alone."""
    sql = _PUBLIC_SQL.format(
        local="AND p.local" if local_only else "",
        order="ASC" if page.ascending else "DESC",
    )
    ids = await _query(sql, page.max_id, page.lower, page.limit + BATCH_SLACK)
    hydrated = await hydrate(redis, viewer_id, sorted(ids, reverse=True), hide_muted=True)
    return trim(hydrated, page)


async def read_account(
    redis: Redis,
    viewer_id: int | None,
    author_id: int,
    page: Page,
    *,
    exclude_replies: bool = False,
    exclude_boosts: bool = False,
    tagged: str | None = None,
) -> Hydrated:
    """An account's posts (and boosts) that the viewer may see, newest first."""
    follows = viewer_id is not None and bool(
        await _query(
            "SELECT 1 FROM follows WHERE follower_id = $1 AND followee_id = $2 "
            "AND state = 'accepted'",
            viewer_id,
            author_id,
        )
    )
    sql = _ACCOUNT_SQL.format(order="ASC" if page.ascending else "DESC")
    tag = tagged.lower().lstrip("#") if tagged else None
    args = [author_id, page.max_id, page.lower, page.limit + BATCH_SLACK, viewer_id, follows]
    args += [exclude_replies, exclude_boosts, tag]
    ids = await _query(sql, *args)
    hydrated = await hydrate(redis, viewer_id, sorted(ids, reverse=True))
    return trim(hydrated, page)
