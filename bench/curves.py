"""Cost curves (issue 12): how the cost of a home read, a fan-out and a post grows with the work.

Seeded here, after the main data set, on accounts of its own (``curve<n>``) that follow only
each other, so no other part's figures move: the 500 viewers' follow graphs, the main authors'
follower counts and the main posts are untouched. Run it after the other parts (it adds big
authors to the cached big-author set and posts to the public timeline).

- Home reads by 20 viewers per configuration (20 timelines, not one cached page): following 10,
  100 and 1,000 small authors (pushed on write), and 100 small plus 0, 5 and 50 authors above
  the fan-out limit (merged from Postgres at read time). Client p50/p99 and the app's own time
  (Server-Timing) unloaded, req/s under wrk, and the first read of each cold timeline (rebuilt
  from Postgres). And 100 small authors plus boosters whose 0, 100 and 300 boosts fill the
  timeline, whose boosts hash then holds them: the main data set has no boosts.
- Fan-out, in-process as the job runs it, to 100 ... 50,000 local followers (every timeline
  built; the limit raised so they are all pushed).
- ``POST /api/v1/statuses`` by authors with 0, 10 and 100 remote followers on distinct hosts
  (their inboxes on the bench sink): one delivery row per inbox, written in the post's
  transaction; each post waits for the worker to deliver them, so every POST is unloaded.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import asyncpg
import httpx
from redis.asyncio import Redis
from tortoise import Tortoise

from bench.federation import start_sink
from bench.seed import _accounts, _follows, _logins, _posts
from bench.wrk import Row, WrkResult, home_wrk, percentiles
from instance.config import TimelineSettings, load_settings
from models import tortoise_config
from models.ids import next_id
from services import timelines
from services.postcache import load_posts
from tests.instances import RunningInstance

T = TypeVar("T")

VIEWERS_EACH = 20  # viewers per home-read configuration
SMALL_FOLLOWS = (10, 100, 1_000)  # small authors followed (pushed on write)
BIG_FOLLOWS = (0, 5, 50)  # big authors followed (merged at read time) ...
BASE_SMALL_FOLLOWS = 100  # ... beside this many small ones
BOOSTS_HELD = (0, 100, 300)  # boosts in the timeline (by boosters followed beside the small)
BOOSTERS_EACH = 10  # followed boosters per boosts configuration
SMALL_AUTHORS = 1_000
SMALL_POSTS = 20_000  # about 20 each
BIG_AUTHORS = 50
BIG_FOLLOWERS = 1_200  # each: above the default limit (timeline.fanout_max_followers = 1,000)
BIG_POSTS = 5_000  # about 100 each
FAN_FOLLOWERS = (100, 1_000, 10_000, 50_000)
FAN_RUNS = 3  # posts fanned out per author (median)
REMOTE_FOLLOWERS = (0, 10, 100)
POSTS_EACH = 60  # sequential posts per author
READS_EACH = 200  # sequential warm reads per configuration
WRK_DURATION = "5s"
PUSH_ALL = 100_000  # the fan-out limit for the fan-out curve: every follower is pushed
DELIVERY_WAIT = 60.0  # seconds the worker may take to deliver one post


@dataclass(frozen=True)
class Curves:
    """The accounts each curve measures (ids and tokens of the curve accounts)."""

    small_viewers: dict[int, list[str]]  # small authors followed -> viewers' tokens
    big_viewers: dict[int, list[str]]  # big authors followed -> viewers' tokens
    boost_viewers: dict[int, list[str]]  # boosts in the timeline -> viewers' tokens
    fan_authors: dict[int, int]  # local followers -> author
    posting_authors: dict[int, tuple[int, str]]  # remote followers -> (author, token)
    pool: list[int]  # the fan-out followers (whose timelines must exist)
    seeded: str  # what was added, for the table


async def _remote_accounts(conn: asyncpg.Connection, inbox_base: str, count: int) -> list[int]:
    """Remote accounts on distinct hosts, each with an inbox of its own on the sink."""
    now = datetime.now(UTC)
    rows, ids = [], []
    for n in range(count):
        account_id = next_id()
        ids.append(account_id)
        host = f"peer{n}.curves.example"
        uri = f"https://{host}/users/peer"
        rows.append((account_id, now, now, "peer", host, f"peer@{host}", uri,
                     f"{inbox_base}/{n}", f"{uri}#main-key", "", "", ""))  # fmt: skip
    await conn.copy_records_to_table(
        "accounts",
        records=rows,
        columns=["id", "created_at", "updated_at", "username", "domain", "acct", "uri",
                 "inbox_uri", "public_key_id", "public_key", "note", "note_source"],
    )  # fmt: skip
    return ids


def _split(items: list[T], sizes: list[int]) -> list[list[T]]:
    """``items`` cut into consecutive runs of ``sizes``."""
    runs, at = [], 0
    for size in sizes:
        runs.append(items[at : at + size])
        at += size
    return runs


def _chunks(items: list[T], size: int) -> list[list[T]]:
    return _split(items, [size] * (len(items) // size))


def _each_follows(viewers: list[int], followed: Callable[[], list[int]]) -> set[tuple[int, int]]:
    """(viewer, author) for each viewer and the authors ``followed()`` picks for it."""
    return {(viewer, author) for viewer in viewers for author in followed()}


async def seed_curves(database_url: str, base_url: str, inbox_base: str) -> Curves:
    """COPY the curves' accounts (the 50,000 fan-out followers, the first 1,200 of whom also
    follow each big author), follows, posts and logins; ``inbox_base``: the sink's inbox URL."""
    rng = random.Random(12)
    configurations = [len(SMALL_FOLLOWS), len(BIG_FOLLOWS), len(BOOSTS_HELD)]
    viewer_count = VIEWERS_EACH * sum(configurations)
    sizes = [max(FAN_FOLLOWERS), SMALL_AUTHORS, BIG_AUTHORS, len(FAN_FOLLOWERS), viewer_count]
    sizes += [len(REMOTE_FOLLOWERS), BOOSTERS_EACH * len(BOOSTS_HELD)]
    conn = await asyncpg.connect(database_url)
    try:
        ids = await _accounts(conn, base_url, sum(sizes), prefix="curve")
        pool, small, big, fan_authors, viewers, posters, boosters = _split(ids, sizes)
        pairs: set[tuple[int, int]] = set()
        for author, followers in zip(fan_authors, FAN_FOLLOWERS, strict=True):
            pairs |= {(follower, author) for follower in pool[:followers]}
        for author in big:
            pairs |= {(follower, author) for follower in pool[:BIG_FOLLOWERS]}
        chunks = _chunks(viewers, VIEWERS_EACH)
        small_chunks, big_chunks, boost_chunks = _split(chunks, configurations)
        booster_groups = _chunks(boosters, BOOSTERS_EACH)
        for chunk, follows in zip(small_chunks, SMALL_FOLLOWS, strict=True):
            pairs |= _each_follows(chunk, lambda n=follows: rng.sample(small, n))
        for chunk, follows in zip(big_chunks, BIG_FOLLOWS, strict=True):
            pairs |= _each_follows(
                chunk, lambda n=follows: rng.sample(small, BASE_SMALL_FOLLOWS) + rng.sample(big, n)
            )
        for chunk, group in zip(boost_chunks, booster_groups, strict=True):
            pairs |= _each_follows(chunk, lambda g=group: rng.sample(small, BASE_SMALL_FOLLOWS) + g)
        remote = await _remote_accounts(conn, inbox_base, sum(REMOTE_FOLLOWERS))
        for author, followers in zip(posters, _split(remote, list(REMOTE_FOLLOWERS)), strict=True):
            pairs |= {(follower, author) for follower in followers}
        await _follows(conn, pairs)
        # Written around the fan-out, which would have marked them: the big authors.
        big_limit = TimelineSettings().fanout_max_followers
        await conn.execute(timelines.RECOUNT_BIG_AUTHORS_SQL, big_limit)
        await _posts(conn, rng, small, base_url, SMALL_POSTS, prolific=0)
        await _posts(conn, rng, big, base_url, BIG_POSTS, prolific=0)
        for author in fan_authors:
            await _posts(conn, rng, [author], base_url, FAN_RUNS, prolific=0)
        for group, count in zip(booster_groups, BOOSTS_HELD, strict=True):
            await _boosts(conn, rng, group, small, base_url, count)
        logins = await _logins(conn, ids, viewers + posters, prefix="curve", app="bench-curves")
        await conn.execute(
            "ANALYZE accounts, follows, big_authors, posts, users, oauth_access_tokens"
        )
    finally:
        await conn.close()
    tokens = iter(logins)
    by_chunk = [[next(tokens) for _ in chunk] for chunk in chunks]
    small_tokens, big_tokens, boost_tokens = _split(by_chunk, configurations)
    return Curves(
        small_viewers=dict(zip(SMALL_FOLLOWS, small_tokens, strict=True)),
        big_viewers=dict(zip(BIG_FOLLOWS, big_tokens, strict=True)),
        boost_viewers=dict(zip(BOOSTS_HELD, boost_tokens, strict=True)),
        fan_authors=dict(zip(FAN_FOLLOWERS, fan_authors, strict=True)),
        posting_authors={
            n: (author, next(tokens))
            for n, author in zip(REMOTE_FOLLOWERS, posters, strict=True)
        },
        pool=pool,
        seeded=f"{len(ids) + len(remote):,} accounts, {len(pairs):,} follows, "
               f"{SMALL_POSTS + BIG_POSTS + FAN_RUNS * len(fan_authors):,} posts, "
               f"{sum(BOOSTS_HELD):,} boosts",
    )  # fmt: skip


async def _boosts(
    conn: asyncpg.Connection,
    rng: random.Random,
    boosters: list[int],
    authors: list[int],
    base_url: str,
    count: int,
) -> None:
    """``count`` boosts by ``boosters``, newer than every seeded post (so they fill the top of
    the timelines that follow them), each of a different post by ``authors``: no boost repeats
    another, which the boost rule would drop."""
    if not count:
        return
    originals = await conn.fetch(
        "SELECT id FROM posts WHERE author_id = ANY($1::bigint[]) AND boost_of_id IS NULL",
        authors,
    )
    now = datetime.now(UTC)
    rows = []
    for n, original in enumerate(rng.sample([row["id"] for row in originals], count)):
        boost_id = next_id()
        uri = f"{base_url}/statuses/{boost_id}/activity"
        rows.append((boost_id, now, boosters[n % len(boosters)], uri, uri, True, "", "",
                     "public", original))  # fmt: skip
    await conn.copy_records_to_table(
        "posts",
        records=rows,
        columns=["id", "created_at", "author_id", "uri", "url", "local", "text", "html",
                 "visibility", "boost_of_id"],
    )  # fmt: skip


# --- home reads ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadCost:
    cold_app_ms: float  # median app time of each viewer's first read (a rebuild)
    p50_ms: float
    p99_ms: float
    app_ms: float  # median app time, warm
    loaded: WrkResult


async def _read(client: httpx.AsyncClient, token: str) -> tuple[float, float]:
    """One home read: the client's time and the app's (Server-Timing), in ms."""
    started = time.perf_counter()
    response = await client.get(
        "/api/v1/timelines/home", headers={"Authorization": f"Bearer {token}"}
    )
    elapsed = (time.perf_counter() - started) * 1e3
    response.raise_for_status()
    return elapsed, float(response.headers["Server-Timing"].split("dur=")[1])


async def read_costs(
    instance: RunningInstance, wrk: str, configs: dict[str, list[str]]
) -> dict[str, ReadCost]:
    """Each configuration's viewers (tokens): the first reads, then READS_EACH warm reads, the
    configurations taken in turn read by read (so a busy moment of a shared box falls on all
    of them alike), then wrk on each."""
    cold: dict[str, list[float]] = {name: [] for name in configs}
    warm: dict[str, list[tuple[float, float]]] = {name: [] for name in configs}
    async with httpx.AsyncClient(base_url=instance.base_url, timeout=30) as client:
        for n in range(VIEWERS_EACH):
            for name, tokens in configs.items():
                cold[name].append((await _read(client, tokens[n]))[1])
        for n in range(READS_EACH):
            for name, tokens in configs.items():
                warm[name].append(await _read(client, tokens[n % len(tokens)]))
    costs = {}
    for name, tokens in configs.items():
        p50, p99 = percentiles([client_ms for client_ms, _ in warm[name]])
        app = statistics.median(app_ms for _, app_ms in warm[name])
        loaded = home_wrk(1, wrk, instance.base_url, tokens, duration=WRK_DURATION)
        costs[name] = ReadCost(statistics.median(cold[name]), p50, p99, app, loaded)
    return costs


def _read_rows(
    title: str,
    label: str,
    costs: dict[int, ReadCost],
    floor: WrkResult,
    target: str = "flat as follows grow",
) -> list[Row]:
    rows = [Row(title, "", target)]
    for n, cost in costs.items():
        result = (f"p50 {cost.p50_ms:.1f} / p99 {cost.p99_ms:.1f} ms; app {cost.app_ms:.2f} ms; "
                  f"{cost.loaded.rps:,.0f} req/s")  # fmt: skip
        ratio = f"{cost.loaded.rps / floor.rps:.0%} of floor, wrk p99 {cost.loaded.p99_ms:.0f} ms"
        rows.append(Row(f"  {label} {n:,}", result, ratio))
    cold = " / ".join(f"{cost.cold_app_ms:.1f}" for cost in costs.values())
    rows.append(Row("  first read of a cold timeline (app, rebuild)", f"{cold} ms", ""))
    return rows


# --- fan-out ------------------------------------------------------------------------------


async def fan_out_costs(database_url: str, redis_url: str, curves: Curves) -> dict[int, float]:
    """Median ms of FAN_RUNS fan-outs per author, in-process as the job runs them."""
    settings = load_settings(
        env={"STARLING_DATABASE_URL": database_url, "STARLING_REDIS_URL": redis_url}
    )
    timeline = settings.timeline.model_copy(update={"fanout_max_followers": PUSH_ALL})
    push_all = settings.model_copy(update={"timeline": timeline})
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    redis = Redis.from_url(redis_url)
    try:
        async with redis.pipeline(transaction=False) as pipe:
            for account in [*curves.pool, *curves.fan_authors.values()]:
                pipe.zadd(timelines.home_key(account), {timelines.SENTINEL: 0}, nx=True)
            await pipe.execute()
        posts = {}
        for followers, author in curves.fan_authors.items():
            _, rows = await Tortoise.get_connection("default").execute_query(
                "SELECT id FROM posts WHERE author_id = $1 ORDER BY id", [author]
            )
            posts[followers] = list((await load_posts(redis, [r["id"] for r in rows])).values())
        times: dict[int, list[float]] = {followers: [] for followers in posts}
        for run in range(FAN_RUNS):  # the authors in turn, as the reads
            for followers, author in curves.fan_authors.items():
                # Above the default limit: not a backfill of an author back under it (that is
                # another job, timelines.BACKFILL), only this post's push.
                await timelines.mark_big(author, False)
                started = time.perf_counter()
                pushed = await timelines.fan_out(redis, push_all, posts[followers][run])
                times[followers].append((time.perf_counter() - started) * 1e3)
                if pushed != followers + 1:  # and the author's own timeline
                    raise RuntimeError(f"fan-out reached {pushed}, not {followers + 1}")
        return {followers: statistics.median(ms) for followers, ms in times.items()}
    finally:
        await redis.aclose()
        await Tortoise.close_connections()


# --- posting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostCost:
    p50_ms: float
    p99_ms: float
    delivered_ms: float  # median time from the response to the sink having every delivery
    rows_per_post: float
    in_post_transaction: bool  # every delivery row stamped before its post (see post_cost)


async def _sink_count(client: httpx.AsyncClient, sink_url: str) -> int:
    return int((await client.get(f"{sink_url}/count", timeout=5)).text)


async def _post_and_wait(
    client: httpx.AsyncClient, sink: httpx.AsyncClient, sink_url: str, token: str, inboxes: int
) -> tuple[float, float]:
    """One post; then wait for the worker to send its deliveries, so the next POST is unloaded.
    Answers the POST's ms and the ms from its response to the last delivery's arrival."""
    expected = await _sink_count(sink, sink_url) + inboxes
    started = time.perf_counter()
    response = await client.post(
        "/api/v1/statuses",
        json={"status": "curve post #bench"},
        headers={"Authorization": f"Bearer {token}"},
    )
    answered = time.perf_counter()
    response.raise_for_status()
    while await _sink_count(sink, sink_url) < expected:
        if time.perf_counter() - answered > DELIVERY_WAIT:
            raise RuntimeError("the worker did not deliver a post in time")
        await asyncio.sleep(0.005)
    return (answered - started) * 1e3, (time.perf_counter() - answered) * 1e3


async def _delivery_rows(database_url: str, author: int) -> tuple[int, bool]:
    """The author's posts' delivery rows, and whether each was written in its post's
    transaction: a delivery row's created_at is now(), its transaction's start, and the post's
    is taken in Python as its row is written; stamped no later than its post, the row came from
    a transaction already open when the post was made, the post's own (the worker's updates
    since leave created_at alone, not xmin)."""
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            "SELECT count(d.id) AS n, count(d.id) FILTER (WHERE d.created_at <= p.created_at) "
            "AS same FROM posts p LEFT JOIN deliveries d ON d.activity_id = p.uri || '/activity' "
            "WHERE p.author_id = $1",
            author,
        )
    finally:
        await conn.close()
    return row["n"], row["n"] == row["same"]


async def post_costs(
    instance: RunningInstance, database_url: str, sink_url: str, curves: Curves
) -> dict[int, PostCost]:
    """POSTS_EACH sequential posts per author, the authors in turn."""
    samples: dict[int, list[tuple[float, float]]] = {n: [] for n in curves.posting_authors}
    async with (
        httpx.AsyncClient(base_url=instance.base_url, timeout=30) as client,
        httpx.AsyncClient() as sink,
    ):
        for _ in range(POSTS_EACH):
            for inboxes, (_, token) in curves.posting_authors.items():
                samples[inboxes].append(
                    await _post_and_wait(client, sink, sink_url, token, inboxes)
                )
    costs = {}
    for inboxes, (author, _) in curves.posting_authors.items():
        p50, p99 = percentiles([post_ms for post_ms, _ in samples[inboxes]])
        sent = statistics.median(sent_ms for _, sent_ms in samples[inboxes])
        rows, in_post = await _delivery_rows(database_url, author)
        costs[inboxes] = PostCost(p50, p99, sent, rows / POSTS_EACH, in_post)
    return costs


# --- the part -----------------------------------------------------------------------------


async def curve_rows(
    instance: RunningInstance, wrk: str, database_url: str, redis_url: str, floor: WrkResult
) -> list[Row]:
    sink, port = start_sink()
    sink_url = f"http://127.0.0.1:{port}"
    try:
        started = time.perf_counter()
        curves = await seed_curves(database_url, instance.base_url, f"{sink_url}/inbox")
        seeded_in = time.perf_counter() - started
        print(f"bench: curves seeded in {seeded_in:.0f} s")
        configs = {f"s{n}": tokens for n, tokens in curves.small_viewers.items()}
        configs |= {f"b{n}": tokens for n, tokens in curves.big_viewers.items()}
        configs |= {f"r{n}": tokens for n, tokens in curves.boost_viewers.items()}
        reads = await read_costs(instance, wrk, configs)
        small = {n: reads[f"s{n}"] for n in curves.small_viewers}
        big = {n: reads[f"b{n}"] for n in curves.big_viewers}
        boosts = {n: reads[f"r{n}"] for n in curves.boost_viewers}
        print(f"bench: curves reads done at {time.perf_counter() - started:.0f} s")
        fan_out = await fan_out_costs(database_url, redis_url, curves)
        print(f"bench: curves fan-out done at {time.perf_counter() - started:.0f} s")
        posting = await post_costs(instance, database_url, sink_url, curves)
        print(f"bench: curves posting done at {time.perf_counter() - started:.0f} s")
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    rows = [Row("curves: data of their own", f"{curves.seeded} in {seeded_in:.1f} s", "")]
    rows += _read_rows("curve: home read, following N small authors", "following", small, floor)
    rows += _read_rows(
        f"curve: home read, {BASE_SMALL_FOLLOWS} small + N big authors", "big authors", big, floor
    )
    rows += _read_rows(
        f"curve: home read, {BASE_SMALL_FOLLOWS} small authors + N boosts in the timeline",
        "boosts",
        boosts,
        floor,
        "(reported: the read takes the whole boosts hash)",
    )
    rows.append(Row("curve: fan-out, every timeline built", "", "linear in followers"))
    for followers, ms in fan_out.items():
        per = ms * 1e3 / followers
        rows.append(Row(f"  {followers:,} local followers", f"{ms:.1f} ms ({per:.1f} µs each)", ""))
    rows.append(Row("curve: POST /api/v1/statuses, N remote inboxes", "", "flat but the rows"))
    for inboxes, cost in posting.items():
        rows.append(Row(
            f"  {inboxes} remote followers (distinct hosts)",
            f"p50 {cost.p50_ms:.1f} / p99 {cost.p99_ms:.1f} ms; {cost.rows_per_post:g} rows/post",
            f"{'in the post tx' if cost.in_post_transaction else 'NOT in the post tx'}; "
            f"sent in {cost.delivered_ms:.0f} ms",
        ))  # fmt: skip
    return rows
