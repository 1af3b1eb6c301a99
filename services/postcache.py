"""Snapshots of posts and accounts for hot reads: Redis first, one raw SQL query for the misses.

A snapshot is a plain dict of the columns a client needs (plus a post's mention ids and tag
names), the same for every viewer. Anything that changes a row — an edit, a delete, a count —
calls ``forget_posts`` / ``forget_accounts`` so the next read sees it. Timelines never hydrate
through the ORM: PERF.md measured that at about half the throughput.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
from redis.asyncio import Redis

from services import reads, rediscluster
from services.lua import Lua

# The version in a key is the snapshot's shape: a new column gets a new key, so a running
# instance never reads a snapshot cached before an upgrade without it.
POST_KEY = "post:3:{}"
ACCOUNT_KEY = "account:2:{}"
# Bounds how long a snapshot can stay stale if a reader re-caches a row while a writer
# changes it (the writer forgets it after its commit; a slow reader may put the old one back).
TTL_SECONDS = 3600
# A snapshot read from a replica may predate a write the replica has not replayed yet (the
# writer forgot the key already): it is kept only briefly, so such a staleness heals soon.
REPLICA_TTL_SECONDS = 30

Snapshot = dict[str, Any]

# Cached snapshots parsed once per process: the pages of different viewers share most of their
# posts and authors, and the same bytes always parse to the same snapshot (a changed row is
# cached as new bytes). The parsed dicts are shared, so nobody changes a snapshot in place; a
# renderer may keep what it derives from one by identity (web/api/status_json).
PARSED_CACHE_SIZE = 4096
parse_snapshot = lru_cache(maxsize=PARSED_CACHE_SIZE)(orjson.loads)

# A post snapshot's keys, in this order: the page script below reads the first four with one
# match anchored at the start of the JSON text (an unanchored search scans the whole text
# whenever a field is absent or late: 0.5 ms of Redis for a page of 30, against 0.17 ms).
POST_SNAPSHOT_COLUMNS = (
    "id", "author_id", "boost_of_id", "mention_ids", "uri", "url", "local", "text", "html",
    "spoiler_text", "sensitive", "language", "visibility", "in_reply_to_id",
    "in_reply_to_account_id", "in_reply_to_uri", "replies_count", "boosts_count", "likes_count",
    "created_at", "edited_at", "tags",
)  # fmt: skip
_POST_EXPRESSIONS = {
    "mention_ids": "ARRAY(SELECT m.account_id FROM mentions m WHERE m.post_id = p.id "
    "ORDER BY m.id)",
    "tags": "ARRAY(SELECT t.name FROM post_tags pt JOIN tags t ON t.id = pt.tag_id "
    'WHERE pt.posts_id = p.id ORDER BY t.name COLLATE "C")',
}
_POSTS_SQL = (
    "SELECT "  # noqa: S608 - constants
    + ", ".join(
        f"{_POST_EXPRESSIONS[c]} AS {c}" if c in _POST_EXPRESSIONS else f"p.{c}"
        for c in POST_SNAPSHOT_COLUMNS
    )
    + " FROM posts p WHERE p.id = ANY($1::bigint[]) AND p.deleted_at IS NULL"
)

# An account snapshot's columns; also what posting reads back from the author's row.
ACCOUNT_COLUMNS = """id, username, domain, display_name, note, uri, url, avatar_url, header_url,
       locked, discoverable, indexable, bot, followers_count, following_count, posts_count,
       last_post_at, created_at, suspended_at"""
_ACCOUNTS_SQL = f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ANY($1::bigint[])"  # noqa: S608


# Posts (ARGV[5..]), the posts they boost, and every account either names (author, mentions),
# in one call: what a page of statuses needs. Ids are read from the snapshots' JSON text (Lua's
# cjson would turn 64-bit ids into doubles), from its head, where POST_SNAPSHOT_COLUMNS puts
# them. Cached snapshots only: misses come back false and are read from Postgres by the caller
# (so is a post whose head does not match: its author is then looked up by the caller too).
# ARGV[3], when not '': a hash (``HashFields``) whose fields named after the found posts' and
# originals' authors (prefixes in ARGV[4], before '|') and ids (after it) come back too, after
# its field 'h' (services/viewer_cache: the viewer's state, in the same round trip).
# Not on a cluster (the keys span slots).
PAGE_SCRIPT_MAX = 500  # more ids than a page holds: plain MGETs (Lua's unpack has a limit)
_LOAD_PAGE = Lua("""
local post_prefix, account_prefix = ARGV[1], ARGV[2]
local accounts, named, authors, seen, shown = {}, {}, {}, {}, {}
local function name(id)
  if not named[id] then named[id] = true; accounts[#accounts + 1] = id end
end
local function read(raw)
  local id, author, boosted, mentions = string.match(raw,
    '^{"id":(%d+),"author_id":(%d+),"boost_of_id":(%w+),"mention_ids":%[([%d,]*)%]')
  if not author then return nil end
  name(author)
  shown[#shown + 1] = id
  if not seen[author] then seen[author] = true; authors[#authors + 1] = author end
  for mentioned in string.gmatch(mentions, '%d+') do name(mentioned) end
  if boosted ~= 'null' then return boosted end
end
local function mget(prefix, ids)
  if #ids == 0 then return {} end
  local keys = {}
  for i, id in ipairs(ids) do keys[i] = prefix .. id end
  return redis.call('MGET', unpack(keys))
end
local ids = {}
for i = 5, #ARGV do ids[#ids + 1] = ARGV[i] end
local posts, boosted = mget(post_prefix, ids), {}
for _, raw in ipairs(posts) do
  if raw then
    local original = read(raw)
    if original then boosted[#boosted + 1] = original end
  end
end
local originals = mget(post_prefix, boosted)
for _, raw in ipairs(originals) do if raw then read(raw) end end
local page = {posts, boosted, originals, accounts, mget(account_prefix, accounts)}
if ARGV[3] == '' then return page end
local by_author, by_post = string.match(ARGV[4], '^([^|]*)|(.*)$')
local fields = {'h'}
for prefix in string.gmatch(by_author, '[^,]+') do
  for _, id in ipairs(authors) do fields[#fields + 1] = prefix .. id end
end
for prefix in string.gmatch(by_post, '[^,]+') do
  for _, id in ipairs(shown) do fields[#fields + 1] = prefix .. id end
end
page[6], page[7] = authors, shown
page[8] = redis.call('HMGET', ARGV[3], unpack(fields))
return page
""")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        # Already in the clients' format (UTC, milliseconds, Z): rendering copies it as is.
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def snapshot_of(row: Any) -> Snapshot:
    """A row (or a dict of the same columns) as its snapshot: JSON-ready values."""
    return {key: _plain(value) for key, value in dict(row).items()}


async def _fetch(sql: str, ids: list[int]) -> dict[int, Snapshot]:
    # A replica inside a read-only request (services/reads), else the primary.
    _, rows = await reads.query(sql, [ids])
    return {row["id"]: snapshot_of(row) for row in rows}


async def _load(redis: Redis, key: str, sql: str, ids: Iterable[int]) -> dict[int, Snapshot]:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    cached = await rediscluster.mget(redis, [key.format(item) for item in wanted])
    found = {item: parse_snapshot(raw) for item, raw in zip(wanted, cached, strict=True) if raw}
    missing = [item for item in wanted if item not in found]
    if missing:
        fetched = await _fetch(sql, missing)
        if fetched:
            ttl = TTL_SECONDS if reads.read_from() == reads.PRIMARY else REPLICA_TTL_SECONDS
            async with redis.pipeline(transaction=False) as pipe:
                for item, snapshot in fetched.items():
                    pipe.set(key.format(item), orjson.dumps(snapshot), ex=ttl)
                await pipe.execute()
        found.update(fetched)
    return found


def _found(ids: Iterable[Any], raws: list[bytes | None]) -> dict[int, Snapshot]:
    return {int(item): parse_snapshot(raw) for item, raw in zip(ids, raws, strict=True) if raw}


@dataclass(frozen=True)
class HashFields:
    """What the page script also reads of a hash: its field 'h', then for each prefix of
    ``by_author`` one field per author of the page's posts and originals, then for each of
    ``by_post`` one per post and original (``<prefix><id>``)."""

    key: str
    by_author: tuple[str, ...]
    by_post: tuple[str, ...]


@dataclass
class FieldsRead:
    """The hash's values as ``HashFields`` named them, over these authors and posts."""

    authors: list[int]
    posts: list[int]
    values: list[bytes | None]  # 'h', then by_author's fields, then by_post's


Page = tuple[dict[int, Snapshot], dict[int, Snapshot], dict[int, Snapshot]]


async def load_page(redis: Redis, ids: list[int]) -> Page:
    """The posts of ``ids`` that exist, the posts they boost, and every account these name:
    one Redis call when all are cached (a Lua script; on a cluster, one call per kind)."""
    page, _ = await load_page_with(redis, ids, None)
    return page


async def load_page_with(
    redis: Redis, ids: list[int], fields: HashFields | None
) -> tuple[Page, FieldsRead | None]:
    """``load_page``, and in the same call ``fields`` of a hash over the posts found cached
    (None on a cluster, or when there was nothing to read)."""
    if rediscluster.is_cluster(redis) or not ids or len(ids) > PAGE_SCRIPT_MAX:
        posts = await load_posts(redis, ids)
        originals = await load_posts(redis, _boosted(posts))
        return (posts, originals, await load_accounts(redis, _named(posts, originals))), None
    wanted = ["", ""] if fields is None else [fields.key, _prefixes(fields)]
    args = [POST_KEY.format(""), ACCOUNT_KEY.format(""), *wanted, *ids]
    raw_posts, boosted, raw_originals, named, raw_accounts, *extra = await _LOAD_PAGE(
        redis, [], args
    )
    posts = _found(ids, raw_posts)
    if len(posts) < len(ids):  # misses: read them, then what they boost and name
        posts.update(await load_posts(redis, [i for i in ids if i not in posts]))
    originals = _found(boosted, raw_originals)
    originals.update(await load_posts(redis, _boosted(posts) - originals.keys()))
    accounts = _found(named, raw_accounts)
    accounts.update(await load_accounts(redis, _named(posts, originals) - accounts.keys()))
    read = None
    if extra:
        authors, shown, values = extra
        read = FieldsRead([int(a) for a in authors], [int(p) for p in shown], values)
    return (posts, originals, accounts), read


def _prefixes(fields: HashFields) -> str:
    return ",".join(fields.by_author) + "|" + ",".join(fields.by_post)


def _boosted(posts: dict[int, Snapshot]) -> set[int]:
    return {post["boost_of_id"] for post in posts.values() if post["boost_of_id"]}


def _named(*groups: dict[int, Snapshot]) -> set[int]:
    every = [post for group in groups for post in group.values()]
    return {p["author_id"] for p in every} | {m for p in every for m in p["mention_ids"]}


async def load_posts(redis: Redis, ids: Iterable[int]) -> dict[int, Snapshot]:
    """Snapshots of the posts that exist (deleted or unknown ids are simply absent)."""
    return await _load(redis, POST_KEY, _POSTS_SQL, ids)


async def load_accounts(redis: Redis, ids: Iterable[int]) -> dict[int, Snapshot]:
    return await _load(redis, ACCOUNT_KEY, _ACCOUNTS_SQL, ids)


async def cache_new_post(
    redis: Redis, post: Snapshot, *, forget_account: int, forget_post: int | None
) -> None:
    """After a new post's commit, in one round trip: cache its snapshot (the fan-out job and
    the first readers need it) and forget the author's and the parent's, whose counts moved.
    NX: a reader that cached it first read the same row. A count change committed and
    forgotten between our commit and this call would be overwritten; it needs the post's id,
    which nobody has before we answer but a reader of the public timeline in that instant."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.set(POST_KEY.format(post["id"]), orjson.dumps(post), ex=TTL_SECONDS, nx=True)
        pipe.delete(ACCOUNT_KEY.format(forget_account))
        if forget_post is not None:
            pipe.delete(POST_KEY.format(forget_post))
        await pipe.execute()


async def forget_posts(redis: Redis, ids: Iterable[int]) -> None:
    keys = [POST_KEY.format(item) for item in ids]
    if keys:
        await redis.delete(*keys)


async def forget_accounts(redis: Redis, ids: Iterable[int]) -> None:
    keys = [ACCOUNT_KEY.format(item) for item in ids]
    if keys:
        await redis.delete(*keys)
