"""Home timelines with hybrid fan-out (DESIGN.md "Home timeline").

A Redis sorted set per local account holds post ids (member = id, score = the id's millisecond
part: scores are doubles and cannot hold 64 bits), capped at ``CAP`` entries, plus a sentinel
member "0" (score 0) that says "this timeline is built" even when it is empty. Posts from
authors with at most ``timeline.fanout_max_followers`` local followers are pushed on write, by a
Lua script, into the timelines that exist. Bigger authors' posts (Postgres's ``big_authors``
table names them) are merged in at read time from their feeds in Redis (services/author_feeds),
except their direct posts and replies to someone else, which are pushed to the followers they
reach; the viewer's cached state (services/viewer_cache) says which big authors it follows, so
a read asks Postgres nothing while Redis holds what it needs. Public posts also reach the
followers of their hashtags, whatever the author's size. A missing timeline (never read,
expired, Redis flushed) is rebuilt from Postgres by the same rules (``services.feed_rules``:
replies, hashtags, repeated boosts), so the push path, the merge path and the rebuild agree.

Beside each timeline, a Redis hash (``BOOSTS_KEY``) links its boosts to the boosted posts, for
the boost rule on write: ``b:<boost>`` -> the boosted post, ``o:<post>`` -> its newest boost in
the timeline. It only names entries the timeline holds: the push script, ``remove`` and the trim
keep it so, and ``rebuild`` writes both together.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import chain
from typing import Any

from redis.asyncio import Redis
from tortoise import connections

from instance.config import Settings
from models.ids import id_millis
from services import author_feeds, feed_rules, id_ranges, reads, rediscluster, streams, viewer_cache
from services.feed_rules import REBLOG_FALLOFF, Entry, Follower
from services.lua import Lua
from services.paging import Page, select_page
from services.postcache import Snapshot
from services.statuses import Hydrated, hydrate

# One viewer's two keys share a hash tag, {<account id>}, so a script that takes both stays on
# one slot of a Redis Cluster (services/rediscluster). The names changed with the tag: no
# timeline cached under the untagged names before is ever read.
HOME_KEY = "tl:home:{{{}}}"
BOOSTS_KEY = "tl:home-boosts:{{{}}}"
SENTINEL = "0"
CAP = 800
# A timeline nobody reads expires (each read renews it), as Mastodon drops the feeds of
# accounts inactive for a week: Redis holds the active readers' timelines, not everyone's
# (about 100 KB each at CAP, bench footprint), and the next read rebuilds it from Postgres.
IDLE_SECONDS = 7 * 24 * 3600
KEYS_PER_CALL = 1000  # timelines per push/remove script call (on a cluster: of one slot)
BATCH_SLACK = 10
# An author back under the fan-out limit: how many of their latest posts are pushed into the
# followers' timelines, as many as a new follow brings in (older ones need a rebuild).
BACKFILL = 40

# Drop a member of a timeline from its boosts hash (KEYS come in (timeline, hash) pairs).
_FORGET = """
local function forget(boosts, member)
  local post = redis.call('HGET', boosts, 'b:' .. member)
  if post then
    redis.call('HDEL', boosts, 'b:' .. member)
    if redis.call('HGET', boosts, 'o:' .. post) == member then
      redis.call('HDEL', boosts, 'o:' .. post)
    end
  end
end
"""

# Push one entry into every timeline that exists, apply the boost rule, then trim to CAP (the
# sentinel is rank 0). ARGV: score, id, CAP, the boosted post's id ('' if none), REBLOG_FALLOFF,
# the author's own timeline ('' if none), where their boosts always show and are not recorded.
# Distances are counted in entries from the new one's place, so a late older entry (a follow's
# merge, an author back under the limit) is judged as a rebuild, which reads in id order, would.
_PUSH = (
    _FORGET
    + """
local score, entry, cap = ARGV[1], ARGV[2], tonumber(ARGV[3])
local boosted, falloff, own = ARGV[4], tonumber(ARGV[5]), ARGV[6]
local post = boosted ~= '' and boosted or entry

-- How many entries `member` sits below rank `at` (negative: above it); false if absent.
local function gap(key, member, at)
  local rank = redis.call('ZREVRANK', key, member)
  return rank and rank - at
end

local function close_below(d) return d and d > 0 and d <= falloff end

local function add(key, boosts)
  if redis.call('ZADD', key, score, entry) == 0 or key == own then return 1 end
  local newest = redis.call('HGET', boosts, 'o:' .. post)
  if boosted == '' and not newest then return 1 end  -- the common case: a new original
  local at = redis.call('ZREVRANK', key, entry)
  local d = newest and gap(key, newest, at)
  if boosted ~= '' and (close_below(gap(key, boosted, at)) or close_below(d)) then
    redis.call('ZREM', key, entry)  -- the post, or a boost of it, was just shown
    return 0
  end
  if d and d < 0 and -d <= falloff then
    -- a newer boost of the same post close above: in id order that one is the repeat
    redis.call('ZREM', key, newest)
    forget(boosts, newest)
    d = false
  end
  if boosted ~= '' then
    redis.call('HSET', boosts, 'b:' .. entry, boosted)
    if not d or d > 0 then redis.call('HSET', boosts, 'o:' .. boosted, entry) end
    local ttl = redis.call('PTTL', key)  -- the hash expires with its timeline
    if ttl > 0 then redis.call('PEXPIRE', boosts, ttl) end
  end
  return 1
end

local function trim(key, boosts)
  local excess = redis.call('ZCARD', key) - cap - 1
  if excess > 0 then
    for _, member in ipairs(redis.call('ZRANGE', key, 1, excess)) do forget(boosts, member) end
    redis.call('ZREMRANGEBYRANK', key, 1, excess)
  end
end

local pushed = 0
for i = 1, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    pushed = pushed + add(KEYS[i], KEYS[i + 1])
    trim(KEYS[i], KEYS[i + 1])
  end
end
return pushed
"""
)

# Take members (ARGV) out of timelines and their boosts hashes.
_REMOVE = (
    _FORGET
    + """
for i = 1, #KEYS, 2 do
  for _, member in ipairs(ARGV) do
    redis.call('ZREM', KEYS[i], member)
    forget(KEYS[i + 1], member)
  end
end
return 0
"""
)

# Who a post by $1 may reach: its local followers (each with whether it wants the author's
# boosts, and which of the replied-to accounts $2 it follows), then the local followers of the
# hashtags $3 (empty unless the post is public and original). One round trip per post.
_AUDIENCE_SQL = """
SELECT f.follower_id AS account_id, f.show_reblogs, false AS by_tag,
       CASE WHEN cardinality($2::bigint[]) = 0 THEN ARRAY[]::bigint[]
            ELSE ARRAY(SELECT g.followee_id FROM follows g
                       WHERE g.follower_id = f.follower_id AND g.state = 'accepted'
                         AND g.followee_id = ANY($2::bigint[])) END AS follows
FROM follows f JOIN accounts a ON a.id = f.follower_id
WHERE f.followee_id = $1 AND f.state = 'accepted' AND a.domain IS NULL
UNION ALL
SELECT DISTINCT tf.account_id, true, true, ARRAY[]::bigint[]
FROM tags t JOIN tag_follows tf ON tf.tag_id = t.id JOIN accounts a ON a.id = tf.account_id
WHERE t.name = ANY($3::text[]) AND a.domain IS NULL
"""

# An author's latest posts before $2, with what the per-follower rules read.
_RECENT_SQL = """
SELECT p.id, p.author_id, p.visibility, p.boost_of_id, p.in_reply_to_id,
       p.in_reply_to_account_id, p.in_reply_to_uri,
       ARRAY(SELECT m.account_id FROM mentions m WHERE m.post_id = p.id) AS mention_ids
FROM posts p
WHERE p.author_id = $1 AND p.deleted_at IS NULL AND p.id < $2
ORDER BY p.id DESC LIMIT $3
"""

# What belongs in a home timeline, in SQL (the rules of services.feed_rules): posts by the
# authors of {authors} (the viewer $1 and those it follows, each with whether the viewer wants
# their boosts, and whether only the posts that depend on the follower count: so for a big
# author, whose others are merged at read time from services/author_feeds), except direct
# posts that do not mention the viewer, and replies to someone the viewer does not follow
# unless they answer or mention the viewer; for a rebuild, {tagged} adds the followed
# hashtags' posts. One index scan on (author_id, id) per author (LATERAL), then a merge: never
# a scan of everyone's posts. Rows: id, boosted post's id, author (boost rule).
_HOME_SQL = """
SELECT id, boost_of_id, author_id FROM (
  SELECT x.id, x.boost_of_id, x.author_id
  FROM ({authors}) AS a(author_id, show_boosts, depending_only)
  CROSS JOIN LATERAL (
    SELECT p.id, p.boost_of_id, p.author_id FROM posts p
    WHERE p.author_id = a.author_id AND p.deleted_at IS NULL
      AND (a.show_boosts OR p.boost_of_id IS NULL)
      AND (NOT a.depending_only OR p.visibility = 'direct' OR {replies_to_another})
      AND p.id < COALESCE({max_id}::bigint, {no_max})
      AND p.id > COALESCE({lower}::bigint, 0)
      AND (p.visibility <> 'direct' OR p.author_id = $1 OR {mentioned})
      AND (p.author_id = $1 OR NOT {replies_to_another} OR p.in_reply_to_account_id = $1
           OR {mentioned}
           OR EXISTS (SELECT 1 FROM follows g WHERE g.follower_id = $1
                      AND g.followee_id = p.in_reply_to_account_id AND g.state = 'accepted'))
    ORDER BY p.id {order} LIMIT {limit}
  ) x
  {tagged}
) home
ORDER BY id {order} LIMIT {limit}
"""
_MENTIONED = "EXISTS (SELECT 1 FROM mentions m WHERE m.post_id = p.id AND m.account_id = $1)"
# ... plus the public original posts carrying a hashtag the viewer follows: one index scan on
# post_tags (tag_id, posts_id) per followed tag. No reply rule (feed_rules.reaches_tag_followers).
_FOLLOWED_TAGS = """
  UNION
  SELECT y.id, NULL::bigint, y.author_id FROM tag_follows tf
  CROSS JOIN LATERAL (
    SELECT pt.posts_id AS id, p.author_id FROM post_tags pt JOIN posts p ON p.id = pt.posts_id
    WHERE pt.tag_id = tf.tag_id AND p.visibility = 'public' AND p.boost_of_id IS NULL
      AND p.deleted_at IS NULL
      AND pt.posts_id < COALESCE({max_id}::bigint, {no_max})
      AND pt.posts_id > COALESCE({lower}::bigint, 0)
    ORDER BY pt.posts_id {order} LIMIT {limit}
  ) y
  WHERE tf.account_id = $1
"""
# ... for the viewer and the followed authors (of big ones, the posts that depend on the
# follower, which fan-out pushes to the followers they reach),
_PUSHED_AUTHORS = (
    "SELECT $1::bigint, true, false UNION ALL "
    "SELECT f.followee_id, f.show_reblogs, "
    "EXISTS (SELECT 1 FROM big_authors b WHERE b.account_id = f.followee_id) "
    "FROM follows f WHERE f.follower_id = $1 AND f.state = 'accepted'"
)
# ... or for the followed authors among those in $2.
_FOLLOWED_AUTHORS_IN = (
    "SELECT followee_id, show_reblogs, false FROM follows WHERE follower_id = $1 "
    "AND state = 'accepted' AND followee_id = ANY($2::bigint[])"
)

WINDOW = ("$3", "$4", "$5")  # the window's parameters in the queries above
# A window's absent bound is COALESCEd to the widest, not tested with "$n IS NULL OR": the
# generic plan Postgres keeps for a prepared statement (asyncpg prepares each query once per
# connection) then uses both bounds in the index scan, and no read pays for planning (the
# home read's query: 0.70 -> 0.44 ms in Postgres, most of the old time was re-planning).
NO_MAX = 2**63 - 1

# Every author above a limit of local followers, recounted: for data written around the
# fan-out (bulk loads, tests that change the limit). Fan-out keeps the table by itself.
RECOUNT_BIG_AUTHORS_SQL = """
WITH big AS (
  SELECT f.followee_id AS account_id FROM follows f JOIN accounts a ON a.id = f.follower_id
  WHERE f.state = 'accepted' AND a.domain IS NULL
  GROUP BY f.followee_id HAVING count(*) > $1
), gone AS (
  DELETE FROM big_authors WHERE account_id NOT IN (SELECT account_id FROM big)
)
INSERT INTO big_authors (account_id) SELECT account_id FROM big ON CONFLICT DO NOTHING
"""
_BIG_AUTHORS_SQL = "SELECT account_id FROM big_authors"
_LOCAL_FOLLOWERS_SQL = (
    "SELECT DISTINCT f.follower_id FROM follows f JOIN accounts a ON a.id = f.follower_id "
    "WHERE f.followee_id = ANY($1::bigint[]) AND f.state = 'accepted' AND a.domain IS NULL"
)
_IS_BIG_SQL = "SELECT EXISTS (SELECT 1 FROM big_authors WHERE account_id = $1)"
_MARK_BIG_SQL = "INSERT INTO big_authors (account_id) VALUES ($1) ON CONFLICT DO NOTHING"
_MARK_SMALL_SQL = "DELETE FROM big_authors WHERE account_id = $1"


def home_key(account_id: int) -> str:
    return HOME_KEY.format(account_id)


def boosts_key(account_id: int) -> str:
    return BOOSTS_KEY.format(account_id)


def _home_sql(
    authors: str, order: str, *, tagged: bool = False, window: tuple[str, str, str] = WINDOW
) -> str:
    """The home rules' query; ``window`` names its (max_id, lower bound, limit) parameters."""
    max_id, lower, limit = window
    bounds = {"order": order, "max_id": max_id, "lower": lower, "limit": limit, "no_max": NO_MAX}
    return _HOME_SQL.format(
        authors=authors,
        mentioned=_MENTIONED,
        replies_to_another=feed_rules.REPLIES_TO_ANOTHER_SQL,
        tagged=_FOLLOWED_TAGS.format(**bounds) if tagged else "",
        **bounds,
    )


async def _rows(sql: str, *args: object) -> list[Any]:
    _, rows = await connections.get("default").execute_query(sql, list(args))
    return list(rows)


async def _query(sql: str, *args: object) -> list[int]:
    return [row[0] for row in await _rows(sql, *args)]


async def _read_ids(sql: str, *args: object) -> list[int]:
    """A list's ids for a reader: on a replica inside a read request (services/reads)."""
    _, rows = await reads.query(sql, list(args))
    return [row[0] for row in rows]


def _entries(rows: Iterable[Any]) -> list[Entry]:
    """(id, boost_of_id, ...) rows as entries, oldest first: the order the boost rule reads."""
    return sorted(((row[0], row[1]) for row in rows), key=lambda entry: entry[0])


def _keys(account_ids: Sequence[int]) -> list[str]:
    return list(chain.from_iterable((home_key(a), boosts_key(a)) for a in account_ids))


# --- write side -------------------------------------------------------------------------


async def fan_out(redis: Redis, settings: Settings, post: Snapshot) -> int:
    """Push a new post into the home timelines it belongs in; returns how many got it.

    ``post`` is a snapshot (``services.postcache``). The author's own timeline always gets it;
    followers' by the rules of ``reaches_follower`` when the author is small enough, or when
    the post is not one every follower gets (a big author's others go to its feed,
    services/author_feeds); the followers of its hashtags when it is public and original,
    whatever the author's size.
    """
    post_id, author_id = int(post["id"]), int(post["author_id"])
    tags = post["tags"] if feed_rules.reaches_tag_followers(post) else []
    followers, tag_followers = await _audience(author_id, [post], tags)
    # Size counts every local follower, whoever gets this post (not only those who want boosts).
    big = len(followers) > settings.timeline.fanout_max_followers
    was_big = await mark_big(author_id, big)
    if was_big != big:  # its followers' reads merge it now, or stop merging it
        await viewer_cache.changed(redis, [f.account_id for f in followers])
    readers = [f.account_id for f in followers if feed_rules.reaches_follower(post, f)]
    # A big author's posts that every follower gets are merged at read time, from its feed;
    # the others (direct, replies to someone else) are pushed to the followers they reach.
    for_all = feed_rules.for_every_follower(post)
    if for_all:
        await author_feeds.push(redis, post_id, author_id, post["boost_of_id"])
    recipients = [author_id, *tag_followers, *([] if big and for_all else readers)]
    pushed = await push(redis, recipients, [(post_id, post["boost_of_id"])], author_id=author_id)
    if was_big and not big:
        pushed += await _backfill(redis, author_id, post_id)
    # Live streams get it whatever the author's size: a big author's followers merge on read.
    await streams.publish(
        redis, "update", post_id, [*recipients, *readers], await streams.broadcast_for(redis, post)
    )
    if post["visibility"] == "direct" and post["boost_of_id"] is None:
        # The `direct` streams of its participants, followers or not (mentioned remote
        # accounts are never online here, so they cost nothing).
        participants = [author_id, *post["mention_ids"]]
        await streams.publish(redis, "conversation", post_id, participants)
    return pushed


async def _audience(
    author_id: int, posts: Iterable[feed_rules.PostFields], tags: Sequence[str]
) -> tuple[list[Follower], list[int]]:
    """The author's local followers, with what the rules need to know of them for ``posts``,
    and the local followers of ``tags``."""
    targets = {t for t in map(feed_rules.reply_target, posts) if t is not None}
    rows = await _rows(_AUDIENCE_SQL, author_id, list(targets), list(tags))
    followers = [
        Follower(row["account_id"], row["show_reblogs"], frozenset(row["follows"]))
        for row in rows
        if not row["by_tag"]
    ]
    return followers, [row["account_id"] for row in rows if row["by_tag"]]


async def _backfill(redis: Redis, author_id: int, before_id: int) -> int:
    """An author back under the fan-out limit: their posts were merged on read while they were
    big, and are not any more. Push their BACKFILL latest posts (before the one being fanned
    out) into the followers' timelines, by the same per-follower rules, oldest first so the
    boost rule reads them in id order. Three queries, whatever the number of followers."""
    posts = [dict(row) for row in await _rows(_RECENT_SQL, author_id, before_id, BACKFILL)]
    if not posts:
        return 0
    followers, _ = await _audience(author_id, posts, [])
    pushed = 0
    for post in reversed(posts):
        recipients = [f.account_id for f in followers if feed_rules.reaches_follower(post, f)]
        pushed += await push(redis, recipients, [(post["id"], post["boost_of_id"])])
    return pushed


async def push(
    redis: Redis,
    account_ids: Iterable[int],
    entries: Iterable[Entry],
    *,
    author_id: int | None = None,
) -> int:
    """Add entries (post id, boosted post's id or None) to the (existing) home timelines of
    ``account_ids``, in the order given (oldest first for the boost rule to read them in id
    order); a boost of a post shown in the REBLOG_FALLOFF entries before it is left out, except
    in the timeline of ``author_id``, the entries' author: one's own boosts always show."""
    accounts = list(dict.fromkeys(account_ids))
    script = redis.register_script(_PUSH)
    own = home_key(author_id) if author_id is not None else ""
    pushed = 0
    groups = [_keys([account]) for account in accounts]
    for post_id, boosted in entries:
        args = [id_millis(post_id), str(post_id), CAP, str(boosted or ""), REBLOG_FALLOFF, own]
        replies = await rediscluster.run_grouped(redis, script, groups, args, KEYS_PER_CALL)
        pushed += sum(replies)
    return pushed


async def remove(redis: Redis, account_ids: Iterable[int], post_ids: Sequence[int]) -> None:
    """Take posts out of these home timelines (a delete, or entries of an unfollowed author),
    and out of their boosts hashes. A boost left out as a repeat of the removed one does not
    come back (Mastodon re-inserts it); a rebuild shows it."""
    if not post_ids:
        return
    accounts = list(dict.fromkeys(account_ids))
    script = redis.register_script(_REMOVE)
    members = [str(post_id) for post_id in post_ids]
    groups = [_keys([account]) for account in accounts]
    await rediscluster.run_grouped(redis, script, groups, members, KEYS_PER_CALL)


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
    sql = _home_sql(_FOLLOWED_AUTHORS_IN, "DESC")
    recent = await _rows(sql, viewer_id, [author_id], None, None, limit)
    await push(redis, [viewer_id], _entries(recent))


async def mark_big(author_id: int, big: bool) -> bool:
    """Record whether the author is above the fan-out limit; answers whether they were. Read
    first: the answer changes rarely, and a fan-out then writes nothing."""
    was_big = await is_big(author_id)
    if was_big != big:
        await _rows(_MARK_BIG_SQL if big else _MARK_SMALL_SQL, author_id)
    return was_big


async def is_big(author_id: int) -> bool:
    """Whether the author's posts are merged on read (above the fan-out limit)."""
    [big] = await _query(_IS_BIG_SQL, author_id)
    return bool(big)


async def recount_big_authors(redis: Redis, settings: Settings) -> None:
    """Recount the big authors; the local followers of those that changed side forget their
    cached state (services/viewer_cache names the followed big authors)."""
    before = set(await _query(_BIG_AUTHORS_SQL))
    await _rows(RECOUNT_BIG_AUTHORS_SQL, settings.timeline.fanout_max_followers)
    flipped = list(before.symmetric_difference(await _query(_BIG_AUTHORS_SQL)))
    if flipped:
        await viewer_cache.changed(redis, await _query(_LOCAL_FOLLOWERS_SQL, flipped))


# --- read side --------------------------------------------------------------------------


async def rebuild(redis: Redis, settings: Settings, viewer_id: int) -> None:
    """Fill a missing timeline (and its boosts hash) from Postgres, by the push path's rules."""
    sql = _home_sql(_PUSHED_AUTHORS, "DESC", tagged=True, window=("$2", "$3", "$4"))
    # REBLOG_FALLOFF more than fit, so the oldest kept entries' boosts are judged as on write.
    rows = await _rows(sql, viewer_id, None, None, CAP + REBLOG_FALLOFF)
    own = {row[0] for row in rows if row[2] == viewer_id}
    kept = feed_rules.without_repeated_boosts(_entries(rows), own)[-CAP:]
    key, boosts = home_key(viewer_id), boosts_key(viewer_id)
    links = feed_rules.boost_links(kept, own)
    # Not atomic on a cluster: a reader between the two sees no timeline and rebuilds it too.
    async with rediscluster.pipeline(redis, atomic=True) as pipe:
        pipe.delete(key, boosts)
        pipe.zadd(key, {SENTINEL: 0, **{str(i): id_millis(i) for i, _ in kept}})
        if links:
            pipe.hset(boosts, mapping=links)
        pipe.expire(key, IDLE_SECONDS)
        pipe.expire(boosts, IDLE_SECONDS)
        await pipe.execute()


def _windows(page: Page, count: int) -> list[tuple[Page, int]]:
    """What to read for a page: its window, and the REBLOG_FALLOFF entries under it that the
    boost rule looks back on (newest-first pages: a longer read; min_id pages: a second read
    below min_id)."""
    if not page.ascending:
        return [(page, count + REBLOG_FALLOFF)]
    return [(page, count), (Page(max_id=(page.lower or 0) + 1), REBLOG_FALLOFF)]


@dataclass
class _Pushed:
    ids: list[int]  # the timeline's entries in the windows
    # The boosts among them and the posts they boost, from the timeline's boosts hash (it
    # leaves out the viewer's own boosts: taken for originals, which the boost rule keeps and
    # judges nothing against, exactly as it treats one's own boosts).
    boosts: dict[int, int]
    big: list[tuple[int, bool]] | None  # the viewer's followed big authors (viewer_cache)
    # Their feeds' range reads in the windows, ``big``'s order (None: not read yet), from
    # ``feeds_floor`` (a score; None: the windows' own lower bounds).
    feeds: list[list[bytes]] | None = None
    feeds_floor: int | None = None


# KEYS: the viewer's timeline, its boosts hash, its viewer_cache hash. ARGV: the lease (TTL),
# the big authors' two feed key templates ('%s' for the id), how many windows, the first
# window's count when the merge floor applies (else 0), then each window's range_args. One call
# for what ``_read_pushed``'s pipeline reads (the ranges, the boosts hash, the lease renewed,
# whether the timeline exists, the viewer's big authors), and then those authors' feeds in the
# same windows, down to the merge floor's score (``_merge`` checks it; author_feeds cuts them
# exactly). Not on a cluster: the feeds are on other slots.
_READ_HOME = Lua(
    id_ranges.LUA_RANGE
    + """
local windows = tonumber(ARGV[4])
local function ranges(key, into, low)
  for i = 0, windows - 1 do
    local at = 6 + 4 * i
    into[#into + 1] = range(key, ARGV[at], ARGV[at + 1], low or ARGV[at + 2], ARGV[at + 3])
  end
  return into
end
local out = ranges(KEYS[1], {})
out[#out + 1] = redis.call('HGETALL', KEYS[2])
local exists = redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[1])
local state = redis.call('HMGET', KEYS[3], 'h', 'big')
-- The merge floor (timelines._merge_floor), as a score: the oldest of the window's first
-- ARGV[5] entries, when it has that many.
local floor, seen = false, 0
if tonumber(ARGV[5]) > 0 then
  for _, member in ipairs(out[1]) do
    if member ~= '0' then seen = seen + 1 end
    if seen == tonumber(ARGV[5]) then floor = redis.call('ZSCORE', KEYS[1], member); break end
  end
end
local feeds = {}
if exists == 1 and state[1] and state[2] then
  for author, boosts in string.gmatch(state[2], '(%d+):(%d)') do
    ranges(string.format(boosts == '1' and ARGV[2] or ARGV[3], author), feeds, floor)
  end
end
out[#out + 1] = exists
out[#out + 1] = state
out[#out + 1] = feeds
out[#out + 1] = floor
return out
"""
)


async def _read_pushed(
    redis: Redis, settings: Settings, viewer_id: int, windows: list[tuple[Page, int]]
) -> _Pushed:
    """The pushed entries in the windows (rebuilding a missing timeline)."""
    key, boosts = home_key(viewer_id), boosts_key(viewer_id)
    feeds: list[list[bytes]] | None = None
    feeds_floor: int | None = None
    if not rediscluster.is_cluster(redis):
        # One call: the script also reads the big authors' feeds (else a second round trip).
        # The merge floor applies to a newest-first page's one window (``_merge``).
        floor_count = windows[0][1] if len(windows) == 1 else 0
        args: list[Any] = [IDLE_SECONDS, *author_feeds.KEY_TEMPLATES, len(windows), floor_count]
        for window, count in windows:
            ascending, high, low, num = id_ranges.range_args(window, count)
            args += [int(ascending), high, low, num]
        keys = [key, boosts, viewer_cache.state_key(viewer_id)]
        *raws, flat_links, exists, big, feeds, floor = await _READ_HOME(redis, keys, args)
        links = dict(zip(flat_links[::2], flat_links[1::2], strict=True))
        feeds_floor = None if floor is None else int(float(floor))
    else:
        # One round trip for the common case, the timeline exists: renewing its lease answers
        # whether it does (EXPIRE is 0 on a missing key).
        async with redis.pipeline(transaction=False) as pipe:
            for window, count in windows:
                id_ranges.queue_range(pipe, key, window, count)
            pipe.hgetall(boosts)
            pipe.expire(key, IDLE_SECONDS)
            pipe.expire(boosts, IDLE_SECONDS)
            viewer_cache.queue_big(pipe, viewer_id)
            *raws, links, exists, _, big = await pipe.execute()
    if not exists:
        await rebuild(redis, settings, viewer_id)
        feeds = None
        async with redis.pipeline(transaction=False) as pipe:
            for window, count in windows:
                id_ranges.queue_range(pipe, key, window, count)
            pipe.hgetall(boosts)
            *raws, links = await pipe.execute()
    pushed = [
        i
        for (window, count), raw in zip(windows, raws, strict=True)
        for i in id_ranges.cut([int(m) for m in raw], window, count)
    ]
    authors = viewer_cache.big_from(big)
    if not authors:
        feeds = None
    return _Pushed(pushed, _boosts_among(pushed, links), authors, feeds, feeds_floor)


def _boosts_among(ids: list[int], links: dict[bytes, bytes]) -> dict[int, int]:
    """The boosts hash's ``b:<boost>`` -> boosted post links of the entries ``ids``."""
    if not links:
        return {}
    return {i: int(boosted) for i in ids if (boosted := links.get(b"b:%d" % i)) is not None}


async def _merge(
    redis: Redis, big: list[tuple[int, bool]], pushed: _Pushed, windows: list[tuple[Page, int]]
) -> author_feeds.Merged:
    """The followed big authors' entries in the windows (services/author_feeds), read down to
    ``_merge_floor`` for a newest-first page."""
    ranges = pushed.feeds
    if len(windows) == 1:
        [(window, limit)] = windows
        floor = _merge_floor(window, limit, pushed.ids)
        windows = [(Page(window.max_id, since_id=floor, limit=window.limit), limit)]
        # The script's floor came from the widened range read: read again if it is above this
        # one (a window bounded inside a millisecond), which would miss some of the feeds.
        if pushed.feeds_floor is not None and (
            floor is None or id_millis(floor) < pushed.feeds_floor
        ):
            ranges = None
    return await author_feeds.read(redis, big, windows, ranges)


def _merge_floor(window: Page, limit: int, pushed: list[int]) -> int | None:
    """The lower bound for merging a newest-first page's one window (``pushed``: what the
    timeline held in it). When the timeline filled the window, an older merged post could be
    neither in the page nor among the entries the boost rule looks back on, so big authors'
    posts are read only down to the oldest pushed one (else each followed big author costs a
    range read of ``limit`` members)."""
    lower = window.lower
    if window.ascending or len(pushed) < limit:
        return lower
    oldest = min(pushed)
    return oldest if lower is None else max(lower, oldest)


def _without_repeated_boosts(
    viewer_id: int, ids: list[int], boosts: Sequence[tuple[int, int, int | None]]
) -> list[int]:
    """The boost rule over candidates (newest first) that include merged ones, which the push
    path never saw; ``boosts``: (id, boosted post's id, author if known) of the candidates
    that are."""
    targets = {post_id: boosted for post_id, boosted, _ in boosts}
    if not targets:
        return ids  # the rule only ever drops a boost
    own = {post_id for post_id, _, author in boosts if author == viewer_id}
    # An id the query did not find (deleted, or pushed before a replica has it) stays in as
    # an original: hydration drops what does not exist.
    kept = feed_rules.without_repeated_boosts(
        ((post_id, targets.get(post_id)) for post_id in reversed(ids)), own
    )
    return [post_id for post_id, _ in reversed(kept)]


def _first(page: Page, count: int) -> Page:
    """The page's bounds, ``count`` candidates (more than it shows: hydration drops what the
    viewer may not see, and the first ``limit`` that survive make the page)."""
    return Page(page.max_id, page.since_id, page.min_id, count)


async def read_home(redis: Redis, settings: Settings, viewer_id: int, page: Page) -> Hydrated:
    """A page of the home timeline, hydrated, without muted or blocked accounts' posts.

    Two Redis calls: the timeline's range with the viewer's followed big authors and their
    latest posts (services/author_feeds; ``_READ_HOME``), then the snapshots of the page's posts
    and accounts with the viewer's state over them (services/viewer_cache). On a cluster each
    is two round trips. Postgres only fills what Redis misses.
    """
    count = page.limit + BATCH_SLACK
    windows = _windows(page, count)
    pushed = await _read_pushed(redis, settings, viewer_id, windows)
    big = pushed.big
    if big is None:
        big = (await viewer_cache.refill(redis, viewer_id)).big
    ids = sorted(pushed.ids, reverse=True)
    if big:
        merged = await _merge(redis, big, pushed, windows)
        ids = sorted(set(pushed.ids) | set(merged.ids), reverse=True)
        if merged.ids:
            pushed_boosts = ((post, boosted, None) for post, boosted in pushed.boosts.items())
            ids = _without_repeated_boosts(viewer_id, ids, [*merged.boosts, *pushed_boosts])
    ids = select_page(ids, _first(page, count))
    return await hydrate_page(redis, viewer_id, ids, page, hide_muted=True)


async def hydrate_page(
    redis: Redis,
    viewer_id: int | None,
    ids: Sequence[int],
    page: Page,
    *,
    hide_muted: bool = False,
) -> Hydrated:
    """The page's ``page.limit`` posts among ``ids`` (newest first) that the viewer may see:
    the newest, or for min_id the ones just above it. ``ids`` carry slack (BATCH_SLACK) for
    posts the viewer may not see, but most pages hide none: the posts the page needs are
    hydrated first, and more of ``ids``, outwards from there, only to fill what was hidden."""
    # Hydrated in slices nearest the page's end first: the newest, or the oldest for min_id.
    ordered = list(ids) if not page.ascending else list(reversed(ids))
    taken = min(page.limit, len(ordered))
    # Timelines' viewers are local accounts: their state is cached in Redis (viewer_cache).
    if viewer_id is None:
        hydrate_some = partial(hydrate, redis, None, hide_muted=hide_muted)
    else:
        hydrate_some = partial(viewer_cache.hydrate, redis, viewer_id, hide_muted=hide_muted)
    hydrated = await hydrate_some(_newest_first(ordered[:taken], page))
    while len(hydrated.posts) < page.limit and taken < len(ordered):
        size = max(page.limit - len(hydrated.posts), BATCH_SLACK)
        more = await hydrate_some(_newest_first(ordered[taken : taken + size], page))
        taken += size
        hydrated = _joined(hydrated, more, older=not page.ascending)
    return trim(hydrated, page)


def _newest_first(ids: list[int], page: Page) -> list[int]:
    return ids[::-1] if page.ascending else ids


def _joined(first: Hydrated, more: Hydrated, *, older: bool) -> Hydrated:
    """Two hydrated slices of one page as one; ``older``: ``more``'s posts come after."""
    posts = [*first.posts, *more.posts] if older else [*more.posts, *first.posts]
    viewer = first.viewer if first.viewer is more.viewer else first.viewer.union(more.viewer)
    return Hydrated(
        posts=posts,
        originals=first.originals | more.originals,
        accounts=first.accounts | more.accounts,
        viewer=viewer,
    )


def trim(hydrated: Hydrated, page: Page) -> Hydrated:
    """Keep ``page.limit`` posts: the newest, or for min_id the ones just above it."""
    posts = hydrated.posts
    hydrated.posts = posts[-page.limit :] if page.ascending else posts[: page.limit]
    return hydrated


# --- lists read straight from Postgres: the public timelines and an account's posts -------

# Silenced accounts (one by one, or by a domain block) stay out, as in Mastodon's PublicFeed.
_PUBLIC_SQL = """
SELECT p.id FROM posts p
WHERE p.visibility = 'public' AND p.boost_of_id IS NULL AND p.in_reply_to_id IS NULL
  AND p.in_reply_to_uri IS NULL AND p.deleted_at IS NULL {local}
  AND NOT EXISTS (SELECT 1 FROM accounts s WHERE s.id = p.author_id AND s.silenced_at IS NOT NULL)
  AND p.id < COALESCE($1::bigint, {no_max}) AND p.id > COALESCE($2::bigint, 0)
ORDER BY p.id {order} LIMIT $3
"""

_ACCOUNT_SQL = """
SELECT p.id FROM posts p
WHERE p.author_id = $1 AND p.deleted_at IS NULL
  AND p.id < COALESCE($2::bigint, {no_max}) AND p.id > COALESCE($3::bigint, 0)
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
        no_max=NO_MAX,
    )
    ids = await _read_ids(sql, page.max_id, page.lower, page.limit + BATCH_SLACK)
    return await hydrate_page(redis, viewer_id, sorted(ids, reverse=True), page, hide_muted=True)


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
        await _read_ids(
            "SELECT 1 FROM follows WHERE follower_id = $1 AND followee_id = $2 "
            "AND state = 'accepted'",
            viewer_id,
            author_id,
        )
    )
    sql = _ACCOUNT_SQL.format(order="ASC" if page.ascending else "DESC", no_max=NO_MAX)
    tag = tagged.lower().lstrip("#") if tagged else None
    args = [author_id, page.max_id, page.lower, page.limit + BATCH_SLACK, viewer_id, follows]
    args += [exclude_replies, exclude_boosts, tag]
    ids = await _read_ids(sql, *args)
    return await hydrate_page(redis, viewer_id, sorted(ids, reverse=True), page)
