"""Big authors' recent posts in Redis, which home reads merge without asking Postgres.

An author above the fan-out limit is not pushed into its followers' timelines: each read merges
its posts (services/timelines). What every follower gets of them — their posts except direct
ones and replies to someone else (``feed_rules.for_every_follower``), and their boosts — is kept
here, newest ``CAP``, in two sorted sets per author (scores: the ids' milliseconds, as in home
timelines): ``tl:author:{<id>}`` with posts and boosts (members ``<id>`` and
``<id>:<boosted post's id>``) for followers who want the author's boosts, ``tl:author-orig``
with posts alone for those who do not. The rest, direct posts and replies to another, goes to
the followers it reaches at write time, as for small authors (``timelines.fan_out``).

A sentinel member "0" (score 0) says a set is built. A read that finds one missing builds it
from Postgres; every write to an author's entries bumps the author's version first, and a
build writes only if the version is still the one it read before its query (as
services/viewer_cache fills), so no post written meanwhile is lost. Sets nobody reads expire.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from redis.asyncio import Redis
from tortoise import connections

from models.ids import id_millis
from services import feed_rules, id_ranges
from services.lua import Lua
from services.paging import Page

ALL_KEY = "tl:author:{{{}}}"
ORIGINALS_KEY = "tl:author-orig:{{{}}}"
VERSION_KEY = "tl:author-ver:{{{}}}"
KEY_TEMPLATES = (ALL_KEY.format("%s"), ORIGINALS_KEY.format("%s"))  # for Lua's string.format
SENTINEL = "0"
CAP = 800  # as a home timeline: a page deeper than this ends the merge, as it ends the home
# A feed lives a day after its build or its author's last post, then the next read builds it
# again (one query): reads do not renew it, so a read costs one command per big author.
IDLE_SECONDS = 24 * 3600
VERSION_TTL_SECONDS = 2 * IDLE_SECONDS

# KEYS: version, all, originals. ARGV: score, member, 1 if an original (else a boost), CAP,
# the version's TTL, the sets' TTL. Bumps the version, then adds the entry to the sets that
# exist (trimmed), renewing them: an author who posts keeps its feed, reads do not renew it.
_PUSH = Lua("""
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
local function add(key)
  if redis.call('EXISTS', key) == 1 then
    redis.call('ZADD', key, ARGV[1], ARGV[2])
    redis.call('EXPIRE', key, ARGV[6])
    local excess = redis.call('ZCARD', key) - tonumber(ARGV[4]) - 1
    if excess > 0 then redis.call('ZREMRANGEBYRANK', key, 1, excess) end
  end
end
add(KEYS[2])
if ARGV[3] == '1' then add(KEYS[3]) end
return 0
""")

# KEYS: version, all, originals. ARGV: the version's TTL, then members to take out of both.
_REMOVE = Lua("""
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
for i = 2, #ARGV do
  redis.call('ZREM', KEYS[2], ARGV[i])
  redis.call('ZREM', KEYS[3], ARGV[i])
end
return 0
""")

# KEYS: version, all, originals. ARGV: the version read before the query ('' for none), TTL,
# how many (score, member) pairs of the all set follow, then those pairs, then the originals'.
_BUILD = Lua("""
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2], KEYS[3])
local split = 4 + 2 * tonumber(ARGV[3])
local function fill(key, from, to)
  redis.call('ZADD', key, 0, '0')
  for i = from, to, 1000 do
    redis.call('ZADD', key, unpack(ARGV, i, math.min(i + 999, to)))
  end
  redis.call('EXPIRE', key, ARGV[2])
end
fill(KEYS[2], 4, split - 1)
fill(KEYS[3], split, #ARGV)
return 1
""")

# The authors' ($1) latest CAP entries that every follower gets (feed_rules.for_every_follower
# in SQL: no direct posts, no replies to someone else), one index scan each.
_BUILD_SQL = """
SELECT a.author_id, x.id, x.boost_of_id FROM unnest($1::bigint[]) AS a(author_id)
CROSS JOIN LATERAL (
  SELECT p.id, p.boost_of_id FROM posts p
  WHERE p.author_id = a.author_id AND p.deleted_at IS NULL AND p.visibility <> 'direct'
    AND NOT {replies_to_another}
  ORDER BY p.id DESC LIMIT $2
) x
"""


def _keys(author_id: int) -> list[str]:
    return [
        VERSION_KEY.format(author_id),
        ALL_KEY.format(author_id),
        ORIGINALS_KEY.format(author_id),
    ]


def member(post_id: int, boost_of_id: int | None) -> str:
    return f"{post_id}:{boost_of_id}" if boost_of_id else str(post_id)


async def push(redis: Redis, post_id: int, author_id: int, boost_of_id: int | None) -> None:
    """After a post (or boost) every follower gets committed: into its author's sets."""
    args = [id_millis(post_id), member(post_id, boost_of_id), 0 if boost_of_id else 1, CAP]
    await _PUSH(redis, _keys(author_id), [*args, VERSION_TTL_SECONDS, IDLE_SECONDS])


async def remove(redis: Redis, entries: Iterable[tuple[int, int, int | None]]) -> None:
    """After deletes: take (post id, author, boosted post's id) entries out of their sets."""
    by_author: dict[int, list[str]] = {}
    for post_id, author_id, boost_of_id in entries:
        by_author.setdefault(author_id, []).append(member(post_id, boost_of_id))
    for author_id, members in by_author.items():
        await _REMOVE(redis, _keys(author_id), [VERSION_TTL_SECONDS, *members])


async def drop(redis: Redis, author_ids: Iterable[int]) -> None:
    """An author's entries all went (the account was deleted): the sets go; the version goes
    up first, so no build in flight writes them back."""
    async with redis.pipeline(transaction=False) as pipe:
        for author_id in author_ids:
            version, *sets = _keys(author_id)
            pipe.incr(version)
            pipe.expire(version, VERSION_TTL_SECONDS)
            pipe.delete(*sets)
        await pipe.execute()


@dataclass
class Merged:
    ids: list[int] = field(default_factory=list)  # newest first
    boosts: list[tuple[int, int, int]] = field(default_factory=list)  # id, boosted, author


def _entries(raw: Iterable[bytes]) -> dict[int, int | None]:
    """A range read's members as post id -> boosted post's id (None: an original)."""
    entries: dict[int, int | None] = {}
    for value in raw:
        post, _, boosted = value.partition(b":")
        entries[int(post)] = int(boosted) if boosted else None
    return entries


async def read(
    redis: Redis,
    authors: Sequence[tuple[int, bool]],
    windows: Sequence[tuple[Page, int]],
    ranges: Sequence[Sequence[bytes]] | None = None,
) -> Merged:
    """The entries of ``authors`` (id, wants their boosts) in each window (a page's bounds, and
    how many), at most that many in all per window, as a query with a LIMIT would give them;
    sets found missing are built first (from Postgres). ``ranges``: the sets' range reads,
    already made (``authors``' order, each author's windows in turn), in windows that reach at
    least as low as these (the cut here applies their bounds)."""
    keys = {a: ALL_KEY.format(a) if boosts else ORIGINALS_KEY.format(a) for a, boosts in authors}
    if ranges is None:
        found = await _ranges(redis, keys, windows)
    else:
        found = _found(keys, windows, iter(ranges))
    # Nothing in the windows: a set that is missing, or has nothing there (a deep page).
    missing = await _missing(redis, {a: key for a, key in keys.items() if not found[a]})
    if missing:
        async with redis.pipeline(transaction=False) as pipe:
            for author_id in missing:
                pipe.get(VERSION_KEY.format(author_id))
            versions = await pipe.execute()
        built = await build(redis, dict(zip(missing, versions, strict=True)))
        for author_id, boosts in authors:
            if author_id in built:
                found[author_id] = {p: b for p, b in built[author_id] if boosts or b is None}
    return _merged(found, windows)


async def _ranges(
    redis: Redis, keys: dict[int, str], windows: Sequence[tuple[Page, int]]
) -> dict[int, dict[int, int | None]]:
    """Each author's entries in the windows, one range read each (one pipeline)."""
    async with redis.pipeline(transaction=False) as pipe:
        for key in keys.values():
            for window, count in windows:
                id_ranges.queue_range(pipe, key, window, count)
        replies = iter(await pipe.execute())
    return _found(keys, windows, replies)


def _found(
    keys: dict[int, str], windows: Sequence[tuple[Page, int]], replies: Iterator[Sequence[bytes]]
) -> dict[int, dict[int, int | None]]:
    return {
        author_id: {k: v for _ in windows for k, v in _entries(next(replies)).items()}
        for author_id in keys
    }


async def _missing(redis: Redis, keys: dict[int, str]) -> list[int]:
    """The authors whose set does not exist."""
    if not keys:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for key in keys.values():
            pipe.exists(key)
        there = await pipe.execute()
    return [author_id for author_id, exists in zip(keys, there, strict=True) if not exists]


def _merged(found: dict[int, dict[int, int | None]], windows: Sequence[tuple[Page, int]]) -> Merged:
    """The first ``count`` of all authors' entries in each window."""
    boosted = {p: (b, a) for a, entries in found.items() for p, b in entries.items() if b}
    ids = [p for entries in found.values() for p in entries]
    merged = Merged()
    for window, count in windows:
        for post in id_ranges.cut(ids, window, count):
            merged.ids.append(post)
            if post in boosted:
                merged.boosts.append((post, *boosted[post]))
    return merged


async def build(
    redis: Redis, versions: dict[int, bytes | None]
) -> dict[int, list[tuple[int, int | None]]]:
    """Build the authors' sets from Postgres, each unless a write came since its version (read
    before this call); returns each one's entries, newest first, cached or not."""
    author_ids = list(versions)
    sql = _BUILD_SQL.format(replies_to_another=feed_rules.REPLIES_TO_ANOTHER_SQL)
    _, rows = await connections.get("default").execute_query(sql, [author_ids, CAP])
    entries: dict[int, list[tuple[int, int | None]]] = {a: [] for a in author_ids}
    for row in rows:
        entries[row["author_id"]].append((row["id"], row["boost_of_id"]))
    for author_id, version in versions.items():
        listed = entries[author_id]
        every = [x for post, boosted in listed for x in (id_millis(post), member(post, boosted))]
        originals = [x for post, b in listed if b is None for x in (id_millis(post), str(post))]
        args = [(version or b"").decode(), IDLE_SECONDS, len(every) // 2, *every, *originals]
        await _BUILD(redis, _keys(author_id), args)
    return entries
