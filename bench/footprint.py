"""Footprint: what one home timeline, snapshot, marker and row costs in Redis and Postgres,
and how fast the web tier takes posts and likes; the per-item figures docs/scaling.md
multiplies out to the 100-million-user envelope.

Redis: ``MEMORY USAGE key SAMPLES 0`` (exact, key and value with Redis' own overhead; not
the allocator's fragmentation). A full timeline is filled to ``timelines.CAP`` by the real
push script under a scratch account, one entry in ten a boost so its boosts hash is filled
too; the seeded viewers' timelines, as rebuilt from Postgres, are measured as they are.

Postgres: the rows of interest are copied, in id order, into a fresh clone of their table
(``CREATE TEMP TABLE … (LIKE … INCLUDING ALL)``: the same columns, indexes and TOAST), half
of them and then the rest, and the second half's growth is divided by its rows. That is freshly
written rows with their indexes, without the dead tuples and free space a live table carries. Posts
with mentions and tags, likes (and the notifications both make) and delivery rows (a post's
Create to remote shared inboxes) are written through the API first, timed.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time

import asyncpg
import httpx
from redis.asyncio import Redis

from activitypub.keys import generate_key_pair
from bench import corpus
from bench.federation import start_sink
from bench.seed import Seeded
from bench.wrk import Row
from models.ids import next_id
from services import reads, streams, timelines
from services.oauth import TOKEN_CACHE_KEY
from services.postcache import ACCOUNT_KEY, POST_KEY
from tests.instances import RunningInstance

POSTS_WRITTEN = 1_000  # each with 2 mentions and 2 hashtags
LIKES_WRITTEN = 1_000
FEDERATED_POSTS = 100  # by one author with REMOTE_INBOXES remote followers
REMOTE_INBOXES = 10  # one follower on each of 10 remote servers: 10 shared inboxes
CONCURRENCY = 16  # requests in flight at once
BOOST_EVERY = 10  # one timeline entry in ten is a boost
SAMPLE = 2_000  # snapshot keys measured at most
TAGS = [f"footprint{n}" for n in range(50)]


def _kb(size: float) -> str:
    return f"{size / 1024:,.1f} KB"


async def _memory(redis: Redis, keys: list[str]) -> list[int]:
    async with redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.memory_usage(key, samples=0)
        return [size or 0 for size in await pipe.execute()]


async def _sample_keys(redis: Redis, pattern: str, limit: int = SAMPLE) -> list[str]:
    found: list[str] = []
    async for key in redis.scan_iter(match=pattern, count=1000):
        found.append(key.decode())
        if len(found) >= limit:
            break
    return found


async def full_timeline(redis: Redis, post_ids: list[int]) -> tuple[int, int, int, int]:
    """A scratch account's timeline filled to CAP by timelines.push (oldest first), one entry
    in BOOST_EVERY a boost of an older post; answers entries, boosts and both keys' bytes."""
    scratch = next_id()
    newest, older = post_ids[: timelines.CAP], post_ids[timelines.CAP :]
    entries = [
        (post_id, older[n // BOOST_EVERY] if n % BOOST_EVERY == 0 else None)
        for n, post_id in enumerate(newest)
    ]
    key, boosts = timelines.home_key(scratch), timelines.boosts_key(scratch)
    await redis.zadd(key, {timelines.SENTINEL: 0})
    try:
        await timelines.push(redis, [scratch], reversed(entries))
        count = await redis.zcard(key) - 1
        boosted = await redis.hlen(boosts) // 2  # b:<boost> and o:<post>, one pair a boost
        timeline_bytes, boosts_bytes = await _memory(redis, [key, boosts])
        return count, boosted, timeline_bytes, boosts_bytes
    finally:
        await redis.delete(key, boosts)


async def marker_bytes(redis: Redis) -> tuple[int, int]:
    """A streaming online marker and a read-your-writes mark, each for a scratch account."""
    scratch = next_id()
    await streams.keep_online(redis, [scratch])
    await reads.mark_wrote(redis, scratch)
    online, wrote = streams.ONLINE_KEY.format(scratch), reads.RECENT_WRITE_KEY.format(scratch)
    try:
        online_bytes, wrote_bytes = await _memory(redis, [online, wrote])
        return online_bytes, wrote_bytes
    finally:
        await redis.delete(online, wrote)


async def redis_rows(redis_url: str, database_url: str, seeded: Seeded) -> list[Row]:
    conn = await asyncpg.connect(database_url)
    try:
        wanted = timelines.CAP + timelines.CAP // BOOST_EVERY
        ids = [
            r["id"]
            for r in await conn.fetch("SELECT id FROM posts ORDER BY id DESC LIMIT $1", wanted)
        ]
    finally:
        await conn.close()
    redis = Redis.from_url(redis_url)
    try:
        rows = []
        count, boosted, tl_bytes, boosts_bytes = await full_timeline(redis, ids)
        rows.append(
            Row(
                f"redis: full home timeline, {count} entries (push)",
                f"{_kb(tl_bytes)} ({tl_bytes / count:.0f} B/entry)",
                "zset, measured",
            )
        )
        rows.append(
            Row(
                f"redis:   its boosts hash, {boosted} boosts",
                f"{_kb(boosts_bytes)} ({boosts_bytes / max(boosted, 1):.0f} B/boost)",
                f"1 entry in {BOOST_EVERY} a boost",
            )
        )
        keys = [timelines.home_key(v) for v in seeded.viewer_ids]
        async with redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.zcard(key)
            cards = [max(c - 1, 0) for c in await pipe.execute()]
        sizes = await _memory(redis, keys)
        entries, size = statistics.mean(cards), statistics.mean(sizes)
        rows.append(
            Row(
                f"redis: seeded timelines as rebuilt ({len(keys)} viewers)",
                f"mean {entries:.0f} entries, {_kb(size)} ({size / max(entries, 1):.0f} B/entry)",
                "no boosts in the seed",
            )
        )
        for name, pattern in (
            ("post snapshot", POST_KEY.format("*")),
            ("account snapshot", ACCOUNT_KEY.format("*")),
            ("token cache entry", TOKEN_CACHE_KEY.format("*")),
        ):
            sample = await _sample_keys(redis, pattern)
            if not sample:
                rows.append(Row(f"redis: {name}", "none cached in this run", ""))
                continue
            sizes = await _memory(redis, sample)
            async with redis.pipeline(transaction=False) as pipe:
                for key in sample:
                    pipe.strlen(key)
                lengths = await pipe.execute()
            rows.append(
                Row(
                    f"redis: {name} ({pattern})",
                    f"mean {statistics.mean(sizes):,.0f} B "
                    f"(JSON {statistics.mean(lengths):,.0f} B)",
                    f"{len(sample):,} keys",
                )
            )
        online, wrote = await marker_bytes(redis)
        rows.append(
            Row(
                "redis: streaming online marker / rw: mark",
                f"{online} B / {wrote} B",
                "per online / writing account",
            )
        )
        return rows
    finally:
        await redis.aclose()


async def _hammer(
    base_url: str, requests: list[tuple[str, str, dict[str, str] | None]]
) -> tuple[float, list[dict[str, object]]]:
    """POST (token, path, json) requests, CONCURRENCY at once; answers requests/s and bodies."""
    slots = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:

        async def one(token: str, path: str, body: dict[str, str] | None) -> dict[str, object]:
            async with slots:
                response = await client.post(
                    path, json=body, headers={"Authorization": f"Bearer {token}"}
                )
                response.raise_for_status()
                return response.json()

        started = time.perf_counter()
        bodies = await asyncio.gather(*(one(*request) for request in requests))
        return len(requests) / (time.perf_counter() - started), list(bodies)


async def add_remote_followers(database_url: str, author: int, inbox_base: str) -> None:
    """REMOTE_INBOXES remote accounts, each on a server of its own, following ``author``."""
    public_key = generate_key_pair().public_pem  # a remote actor's row holds its key
    conn = await asyncpg.connect(database_url)
    try:
        for n in range(REMOTE_INBOXES):
            account, host = next_id(), f"remote{n}.footprint.example"
            uri = f"https://{host}/users/reader"
            await conn.execute(
                "INSERT INTO accounts (id, created_at, updated_at, username, domain, acct, uri, "
                "inbox_uri, shared_inbox_uri, public_key_id, public_key, note, note_source) "
                "VALUES ($1, now(), now(), 'reader', $2, $3, $4, $5, $6, $7, $8, '', '')",
                account,
                host,
                f"reader@{host}",
                uri,
                f"{uri}/inbox",
                f"{inbox_base}/{n}",
                f"{uri}#main-key",
                public_key,
            )
            await conn.execute(
                "INSERT INTO follows (id, created_at, follower_id, followee_id, state, "
                "show_reblogs, notify) VALUES ($1, now(), $2, $3, 'accepted', true, false)",
                next_id(),
                account,
                author,
            )
    finally:
        await conn.close()


async def write_rows(instance: RunningInstance, seeded: Seeded, database_url: str) -> list[Row]:
    """Posts (2 mentions, 2 tags), likes and federated posts through the API, timed."""
    rng = random.Random(11)
    tokens = seeded.viewer_tokens

    def text(n: int) -> str:
        mentioned = " ".join(f"@user{rng.randrange(len(seeded.account_ids))}" for _ in range(2))
        tags = " ".join(f"#{rng.choice(TAGS)}" for _ in range(2))
        return f"{mentioned} {corpus.sentence(rng)}"[:240] + f" {tags}"

    posts = [
        (tokens[n % len(tokens)], "/api/v1/statuses", {"status": text(n)})
        for n in range(POSTS_WRITTEN)
    ]
    post_rate, _ = await _hammer(instance.base_url, posts)
    conn = await asyncpg.connect(database_url)
    try:
        liked = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM posts WHERE boost_of_id IS NULL ORDER BY random() LIMIT $1",
                LIKES_WRITTEN,
            )
        ]
    finally:
        await conn.close()
    likes = [
        (tokens[n % len(tokens)], f"/api/v1/statuses/{post}/favourite", None)
        for n, post in enumerate(liked)
    ]
    like_rate, _ = await _hammer(instance.base_url, likes)
    sink, port = start_sink()
    try:
        inbox_base = f"http://127.0.0.1:{port}/inbox"
        await add_remote_followers(database_url, seeded.viewer_ids[0], inbox_base)
        # viewer_tokens[0] is viewer_ids[0]'s: the author with remote followers.
        federated = [
            (tokens[0], "/api/v1/statuses", {"status": text(n)}) for n in range(FEDERATED_POSTS)
        ]
        fed_rate, _ = await _hammer(instance.base_url, federated)
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    return [
        Row(
            f"POST /api/v1/statuses, {CONCURRENCY} at once (2 mentions, 2 tags)",
            f"{post_rate:,.0f} posts/s ({POSTS_WRITTEN:,} posts)",
            "2 web procs + worker",
        ),
        Row(f"POST .../favourite, {CONCURRENCY} at once", f"{like_rate:,.0f} likes/s", ""),
        Row(
            f"  posts with {REMOTE_INBOXES} remote shared inboxes each",
            f"{fed_rate:,.0f} posts/s ({FEDERATED_POSTS * REMOTE_INBOXES:,} delivery rows)",
            "",
        ),
    ]


async def bytes_per_row(
    conn: asyncpg.Connection, table: str, where: str, *args: object
) -> tuple[float, int]:
    """Total bytes (heap, TOAST, every index) per row of ``table`` matching ``where``: the rows
    are copied in id order into a fresh clone, half, then the rest, and the second half's growth
    is divided by its rows (so an index's first pages do not count). Rolled back: nothing stays.
    """
    select = f"SELECT * FROM {table} WHERE {where} ORDER BY 1, 2"  # noqa: S608 - constants
    size_sql = "SELECT pg_total_relation_size('footprint_clone')"
    transaction = conn.transaction()
    await transaction.start()
    try:
        await conn.execute(f"CREATE TEMP TABLE footprint_clone (LIKE {table} INCLUDING ALL)")
        count = await conn.fetchval(f"SELECT count(*) FROM ({select}) AS rows", *args)  # noqa: S608
        half = count // 2
        await conn.execute(f"INSERT INTO footprint_clone {select} LIMIT {half}", *args)
        before = await conn.fetchval(size_sql)
        await conn.execute(f"INSERT INTO footprint_clone {select} OFFSET {half}", *args)
        after = await conn.fetchval(size_sql)
        return (after - before) / max(count - half, 1), count
    finally:
        await transaction.rollback()


async def postgres_rows(database_url: str, since: int) -> list[Row]:
    """Bytes per row of each table a post, a follow, a like or a delivery writes."""
    conn = await asyncpg.connect(database_url)
    try:
        measured = [
            ("post, seeded by COPY (text, html, uri, url)", "posts", "id < $1", since),
            ("post written through the API", "posts", "id > $1 AND boost_of_id IS NULL", since),
            ("mention", "mentions", "id > $1", since),
            ("post_tags (post, tag) link", "post_tags", "posts_id > $1", since),
            ("notification (mention, favourite)", "notifications", "id > $1", since),
            ("follow", "follows", "id < $1", since),
            ("like", "likes", "id > $1", since),
            ("delivery (a Create to one shared inbox)", "deliveries", "id > $1", since),
            ("account (local, with keys)", "accounts", "domain IS NULL AND id < $1", since),
        ]
        rows = []
        for name, table, where, arg in measured:
            per_row, count = await bytes_per_row(conn, table, where, arg)
            rows.append(Row(f"postgres: {name}", f"{per_row:,.0f} B/row", f"{count:,} rows"))
        live = await conn.fetchval(
            "SELECT pg_total_relation_size('posts')::float8 / greatest(count(*), 1) FROM posts"
        )
        rows.append(
            Row(
                "postgres: posts table as it stands (live, all rows)",
                f"{live:,.0f} B/row",
                "incl. dead tuples, free space",
            )
        )
        return rows
    finally:
        await conn.close()


async def commit_rates(
    database_url: str, count: int = 1_000, rounds: int = 3
) -> tuple[float, float]:
    """Single-row INSERT transactions, CONCURRENCY at once, into a scratch table: without and
    with a NOTIFY, as every post (search_changes) and notification (streams) commits with one.
    Postgres serialises the commits of transactions that NOTIFY. Rounds alternate, after a
    warm-up of each; answers the median of each."""
    pool = await asyncpg.create_pool(database_url, min_size=CONCURRENCY, max_size=CONCURRENCY)
    try:
        await pool.execute("CREATE TABLE footprint_commits (id bigint PRIMARY KEY, v text)")

        async def one(notify: bool) -> None:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("INSERT INTO footprint_commits VALUES ($1, 'x')", next_id())
                if notify:
                    await conn.execute("SELECT pg_notify('footprint', '')")

        async def rate(notify: bool, n: int) -> float:
            started = time.perf_counter()
            await asyncio.gather(*(one(notify) for _ in range(n)))
            return n / (time.perf_counter() - started)

        await rate(False, count // 10)
        await rate(True, count // 10)
        rates: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(rounds):
            for notify in (False, True):
                rates[notify].append(await rate(notify, count))
        return statistics.median(rates[False]), statistics.median(rates[True])
    finally:
        await pool.execute("DROP TABLE IF EXISTS footprint_commits")
        await pool.close()


async def footprint_rows(
    instance: RunningInstance, seeded: Seeded, database_url: str, redis_url: str
) -> list[Row]:
    since = next_id()  # every row written from here on has a larger id
    rows = await redis_rows(redis_url, database_url, seeded)
    rows += await write_rows(instance, seeded, database_url)
    await asyncio.sleep(1)  # the notifications and deliveries of the last requests commit
    rows += await postgres_rows(database_url, since)
    plain, notifying = await commit_rates(database_url)
    rows.append(
        Row(
            f"postgres: 1-row commits, {CONCURRENCY} at once",
            f"{plain:,.0f}/s; with a NOTIFY {notifying:,.0f}/s",
            "posts, notifications NOTIFY",
        )
    )
    return rows
