"""A local viewer's state in Redis, so a timeline read asks Postgres nothing about its viewer.

What hydration needs of a viewer (services.statuses ``ViewerState``): whom it follows, mutes
and blocks (or is blocked by), which posts it liked and boosted; and what a home read needs,
the followed authors above the fan-out limit whose posts it merges. One Redis hash per viewer,
``vs:{<id>}``, filled from the primary by one query when a read finds it missing, holds:
``f:<account>`` (follows), ``m:<account>`` (mutes: expiry in ms, 0 for never), ``b:<account>``
(blocks either way), ``l:<post>`` and ``r:<post>`` (likes, boosts) of posts newer than
``h``, the horizon, and ``big``, the followed big authors. A read takes only the fields of the
posts and authors it shows (HMGET; off a cluster, in the call that loads the page's snapshots,
services/postcache), and asks Postgres for likes and boosts older than the
horizon (a boost of an old post: rare in a timeline).

Every write that changes one of these (services/follows, relationships, interactions,
inbound blocks, severed follows, an author crossing the fan-out limit) calls ``changed`` after
its commit: the viewer's version goes up, then its hash is dropped. A read that fills the hash
read the version before its query and writes only if the version is the same (one Lua call):
a write that commits after the fill's snapshot always bumps the version after it, so a stale
fill is never kept, and one that lands first is dropped by the DEL that follows the bump.
The hash shares its viewer's hash tag with the home timeline: one slot of a Redis Cluster.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from redis.asyncio import Redis
from tortoise import connections

from models.ids import SEQUENCE_BITS
from services import streams
from services.lua import Lua
from services.postcache import FieldsRead, HashFields, load_page_with
from services.statuses import (
    Hydrated,
    ViewerState,
    judged,
    loaded_page,
    viewer_state,
    visible,
)

STATE_KEY = "vs:{{{}}}"
VERSION_KEY = "vs-ver:{{{}}}"
# A filled hash lives this long, then the next read fills it again (mutes that expired, and a
# write this code missed, heal by then); reads do not renew it.
TTL_SECONDS = 6 * 3600
VERSION_TTL_SECONDS = 2 * TTL_SECONDS  # outlives any hash filled under it
# Likes and boosts kept: of posts from the last HORIZON_DAYS before the fill.
HORIZON_DAYS = 30
_FIELDS_PER_HSET = 1000  # field-value items per HSET in the fill script (Lua's unpack limit)

# KEYS: version, hash. ARGV: the version read before the fill's query ('' for none), TTL,
# then field, value pairs. Writes only if no write came since (see the module docstring).
_FILL = Lua(f"""
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
for i = 3, #ARGV, {_FIELDS_PER_HSET} do
  redis.call('HSET', KEYS[2], unpack(ARGV, i, math.min(i + {_FIELDS_PER_HSET - 1}, #ARGV)))
end
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1
""")

# The viewer's state from the primary (the fill runs after a write's commit, and a replica may
# not have it yet). Likes and boosts: of posts at or above the horizon $2 (a boost's own id is
# above its post's, so the author's (author_id, id) index bounds the scan).
_FILL_SQL = """
SELECT
  ARRAY(SELECT followee_id FROM follows WHERE follower_id = $1 AND state = 'accepted') AS following,
  ARRAY(SELECT ARRAY[f.followee_id, f.show_reblogs::int] FROM follows f
        JOIN big_authors b ON b.account_id = f.followee_id
        WHERE f.follower_id = $1 AND f.state = 'accepted') AS big,
  ARRAY(SELECT ARRAY[target_id,
                     COALESCE((extract(epoch FROM expires_at) * 1000)::bigint, 0)]
        FROM mutes WHERE account_id = $1 AND (expires_at IS NULL OR expires_at > now())) AS muted,
  ARRAY(SELECT target_id FROM blocks WHERE account_id = $1
        UNION SELECT account_id FROM blocks WHERE target_id = $1) AS blocked,
  ARRAY(SELECT post_id FROM likes WHERE account_id = $1 AND post_id >= $2) AS liked,
  ARRAY(SELECT boost_of_id FROM posts
        WHERE author_id = $1 AND id >= $2 AND boost_of_id >= $2) AS boosted
"""


def state_key(account_id: int) -> str:
    return STATE_KEY.format(account_id)


def version_key(account_id: int) -> str:
    return VERSION_KEY.format(account_id)


@dataclass
class Cached:
    """What the hash holds (all of it after a fill; after a read, the fields asked for)."""

    horizon: int
    big: list[tuple[int, bool]] = field(default_factory=list)  # (author, wants its boosts)
    following: set[int] = field(default_factory=set)
    muted: dict[int, int] = field(default_factory=dict)  # account -> expiry in ms, 0: never
    blocked: set[int] = field(default_factory=set)
    liked: set[int] = field(default_factory=set)
    boosted: set[int] = field(default_factory=set)

    def fields(self) -> list[str | int]:
        """The hash's field, value pairs, flat."""
        big = ",".join(f"{author}:{int(boosts)}" for author, boosts in self.big)
        items: list[str | int] = ["h", self.horizon, "big", big]
        for prefix, ids in (("f", self.following), ("b", self.blocked)):
            for i in ids:
                items += [f"{prefix}:{i}", 1]
        for prefix, ids in (("l", self.liked), ("r", self.boosted)):
            for i in ids:
                items += [f"{prefix}:{i}", 1]
        for account, expiry in self.muted.items():
            items += [f"m:{account}", expiry]
        return items

    def viewer(
        self, viewer_id: int, post_ids: Iterable[int], author_ids: Iterable[int]
    ) -> ViewerState:
        """The state over these posts and authors (likes and boosts above the horizon only)."""
        now_ms = int(time.time() * 1000)
        authors = set(author_ids)
        posts = set(post_ids)
        return ViewerState(
            viewer_id=viewer_id,
            liked=frozenset(posts & self.liked),
            boosted=frozenset(posts & self.boosted),
            following=frozenset(authors & self.following),
            muted=frozenset(
                a
                for a in authors
                if (e := self.muted.get(a)) is not None and (e == 0 or e > now_ms)
            ),
            blocked=frozenset(authors & self.blocked),
        )


def queue_big(pipe: object, viewer_id: int) -> None:
    """Queue on ``pipe`` (a pipeline on the viewer's slot) the read ``big_from`` parses."""
    pipe.hmget(state_key(viewer_id), ["h", "big"])  # type: ignore[attr-defined]


def big_from(hmget: list[bytes | None]) -> list[tuple[int, bool]] | None:
    """The followed big authors (id, wants its boosts); None when there is no hash (``refill``)."""
    horizon, big = hmget
    if horizon is None:
        return None
    pairs = (item.partition(b":") for item in big.split(b",")) if big else ()
    return [(int(author), boosts == b"1") for author, _, boosts in pairs]


async def refill(redis: Redis, viewer_id: int) -> Cached:
    """A read found no hash: take the version, then fill (the version must precede the query)."""
    return await fill(redis, viewer_id, await redis.get(version_key(viewer_id)))


async def fill(redis: Redis, viewer_id: int, version: bytes | None) -> Cached:
    """Read the viewer's state from the primary and cache it unless a write came since
    ``version`` (read before this call)."""
    horizon_ms = int(time.time() * 1000) - HORIZON_DAYS * 86400 * 1000
    horizon = horizon_ms << SEQUENCE_BITS
    _, rows = await connections.get("default").execute_query(_FILL_SQL, [viewer_id, horizon])
    row = rows[0]
    cached = Cached(
        horizon=horizon,
        big=sorted((author, bool(boosts)) for author, boosts in row["big"]),
        following=set(row["following"]),
        muted={m[0]: m[1] for m in row["muted"]},
        blocked=set(row["blocked"]),
        liked=set(row["liked"]),
        boosted=set(row["boosted"]),
    )
    keys = [version_key(viewer_id), state_key(viewer_id)]
    await _FILL(redis, keys, [(version or b"").decode(), TTL_SECONDS, *cached.fields()])
    return cached


_BY_AUTHOR = ("f:", "m:", "b:")
_BY_POST = ("l:", "r:")


async def hydrate(
    redis: Redis, viewer_id: int, ids: Sequence[int], *, hide_muted: bool = False
) -> Hydrated:
    """``services.statuses.hydrate`` for a local viewer, its state from its hash: read in the
    same Redis call as the page's snapshots (services/postcache), or on its own after it."""
    fields = HashFields(state_key(viewer_id), _BY_AUTHOR, _BY_POST)
    page, read = await load_page_with(redis, list(ids), fields)
    loaded = loaded_page(ids, page)
    viewer = await _state(redis, viewer_id, *judged(loaded), read)
    return visible(loaded, viewer, hide_muted=hide_muted)


async def _state(
    redis: Redis,
    viewer_id: int,
    post_ids: Iterable[int],
    author_ids: Iterable[int],
    read: FieldsRead | None,
) -> ViewerState:
    """What ``services.statuses.viewer_state`` answers over these posts and authors, from the
    viewer's hash (``read``, when the page script took what they need; else read, and filled
    on a miss), except that mutes and blocks are only those of ``author_ids``: what hydration
    checks."""
    posts, authors = list(set(post_ids)), list(set(author_ids))
    if read is not None and read.values[0] is not None and _covers(read, posts, authors):
        cached = _parsed(read.values, read.posts, read.authors)
    else:  # a cluster, a snapshot that missed the cache, or no hash yet
        cached = await _read(redis, viewer_id, posts, authors)
    viewer = cached.viewer(viewer_id, posts, authors)
    old = [p for p in posts if p < cached.horizon]
    if not old:
        return viewer
    before = await viewer_state(viewer_id, old, [])  # Postgres: past the horizon
    return replace(
        viewer, liked=viewer.liked | before.liked, boosted=viewer.boosted | before.boosted
    )


def _covers(read: FieldsRead, posts: Sequence[int], authors: Sequence[int]) -> bool:
    return set(posts) <= set(read.posts) and set(authors) <= set(read.authors)


async def _read(
    redis: Redis, viewer_id: int, posts: Sequence[int], authors: Sequence[int]
) -> Cached:
    """The hash's fields for these posts and authors; the whole state when it had to be filled."""
    names = ["h"]
    for prefix in _BY_AUTHOR:
        names += [f"{prefix}{a}" for a in authors]
    for prefix in _BY_POST:
        names += [f"{prefix}{p}" for p in posts]
    values = await redis.hmget(state_key(viewer_id), names)
    if values[0] is None:
        return await refill(redis, viewer_id)
    return _parsed(values, posts, authors)


def _parsed(values: list[bytes | None], posts: Sequence[int], authors: Sequence[int]) -> Cached:
    """The hash's values named as ``_read`` names them: 'h', then ``_BY_AUTHOR``'s fields of
    ``authors``, then ``_BY_POST``'s of ``posts``."""
    cached = Cached(horizon=int(values[0]))  # type: ignore[arg-type]
    found = iter(values[1:])
    cached.following = {a for a in authors if next(found) is not None}
    cached.muted = {a: int(v) for a in authors if (v := next(found)) is not None}
    cached.blocked = {a for a in authors if next(found) is not None}
    cached.liked = {p for p in posts if next(found) is not None}
    cached.boosted = {p for p in posts if next(found) is not None}
    return cached


async def changed(redis: Redis, account_ids: Iterable[int]) -> None:
    """After a commit that changed what these accounts follow, mute, block, like or boost (or
    which of their followees are big): bump each one's version, then drop its hash."""
    ids = list(dict.fromkeys(account_ids))
    if not ids:
        return
    async with redis.pipeline(transaction=False) as pipe:
        for account_id in ids:
            pipe.incr(version_key(account_id))
            pipe.expire(version_key(account_id), VERSION_TTL_SECONDS)
            pipe.delete(state_key(account_id))
        await pipe.execute()


async def relations_changed(redis: Redis, *account_ids: int) -> None:
    """After a commit that changed whom these accounts follow, mute or block (or are blocked
    by): their cached state goes, and their open streams reload what they filter by."""
    await changed(redis, account_ids)
    await streams.relations_changed(redis, *account_ids)
