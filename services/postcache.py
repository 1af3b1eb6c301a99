"""Snapshots of posts and accounts for hot reads: Redis first, one raw SQL query for the misses.

A snapshot is a plain dict of the columns a client needs (plus a post's mention ids and tag
names), the same for every viewer. Anything that changes a row — an edit, a delete, a count —
calls ``forget_posts`` / ``forget_accounts`` so the next read sees it. Timelines never hydrate
through the ORM: PERF.md measured that at about half the throughput.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson
from redis.asyncio import Redis

from services import reads, rediscluster

# The version in a key is the snapshot's shape: a new column gets a new key, so a running
# instance never reads a snapshot cached before an upgrade without it.
POST_KEY = "post:2:{}"
ACCOUNT_KEY = "account:2:{}"
# Bounds how long a snapshot can stay stale if a reader re-caches a row while a writer
# changes it (the writer forgets it after its commit; a slow reader may put the old one back).
TTL_SECONDS = 3600
# A snapshot read from a replica may predate a write the replica has not replayed yet (the
# writer forgot the key already): it is kept only briefly, so such a staleness heals soon.
REPLICA_TTL_SECONDS = 30

Snapshot = dict[str, Any]

_POSTS_SQL = """
SELECT p.id, p.uri, p.url, p.local, p.author_id, p.text, p.html, p.spoiler_text, p.sensitive,
       p.language, p.visibility, p.in_reply_to_id, p.in_reply_to_account_id, p.in_reply_to_uri,
       p.boost_of_id,
       p.replies_count, p.boosts_count, p.likes_count, p.created_at, p.edited_at,
       ARRAY(SELECT m.account_id FROM mentions m WHERE m.post_id = p.id ORDER BY m.id)
           AS mention_ids,
       ARRAY(SELECT t.name FROM post_tags pt JOIN tags t ON t.id = pt.tag_id
             WHERE pt.posts_id = p.id ORDER BY t.name) AS tags
FROM posts p
WHERE p.id = ANY($1::bigint[]) AND p.deleted_at IS NULL
"""

_ACCOUNTS_SQL = """
SELECT id, username, domain, display_name, note, uri, url, avatar_url, header_url, locked,
       discoverable, indexable, bot, followers_count, following_count, posts_count, last_post_at,
       created_at, suspended_at
FROM accounts
WHERE id = ANY($1::bigint[])
"""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        # Already in the clients' format (UTC, milliseconds, Z): rendering copies it as is.
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


async def _fetch(sql: str, ids: list[int]) -> dict[int, Snapshot]:
    # A replica inside a read-only request (services/reads), else the primary.
    _, rows = await reads.query(sql, [ids])
    return {row["id"]: {key: _plain(value) for key, value in dict(row).items()} for row in rows}


async def _load(redis: Redis, key: str, sql: str, ids: Iterable[int]) -> dict[int, Snapshot]:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    cached = await rediscluster.mget(redis, [key.format(item) for item in wanted])
    found = {item: orjson.loads(raw) for item, raw in zip(wanted, cached, strict=True) if raw}
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


async def load_posts(redis: Redis, ids: Iterable[int]) -> dict[int, Snapshot]:
    """Snapshots of the posts that exist (deleted or unknown ids are simply absent)."""
    return await _load(redis, POST_KEY, _POSTS_SQL, ids)


async def load_accounts(redis: Redis, ids: Iterable[int]) -> dict[int, Snapshot]:
    return await _load(redis, ACCOUNT_KEY, _ACCOUNTS_SQL, ids)


async def forget_posts(redis: Redis, ids: Iterable[int]) -> None:
    keys = [POST_KEY.format(item) for item in ids]
    if keys:
        await redis.delete(*keys)


async def forget_accounts(redis: Redis, ids: Iterable[int]) -> None:
    keys = [ACCOUNT_KEY.format(item) for item in ids]
    if keys:
        await redis.delete(*keys)
