"""The measurements: wrk under load, sequential httpx for unloaded latency, in-process fan-out."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis
from tortoise import Tortoise

from bench import curves, federation, footprint, pages, search, streaming
from bench.seed import Seeded
from bench.wrk import Row, WrkResult, fmt, home_wrk, median_wrk, percentiles
from instance.config import TimelineSettings, load_settings
from models import tortoise_config
from services import timelines
from services.postcache import load_posts
from tests.instances import RunningInstance

HOME_LUA = Path(__file__).with_name("home.lua")


async def warm_up(instance: RunningInstance, seeded: Seeded) -> None:
    """Every viewer reads its home once (cold timelines are rebuilt from Postgres)."""
    async with httpx.AsyncClient(base_url=instance.base_url, timeout=30) as client:
        semaphore = asyncio.Semaphore(16)

        async def read(token: str) -> None:
            async with semaphore:
                response = await client.get(
                    "/api/v1/timelines/home", headers={"Authorization": f"Bearer {token}"}
                )
                response.raise_for_status()

        await asyncio.gather(*(read(token) for token in seeded.viewer_tokens))


async def _one_at_a_time(
    instance: RunningInstance, count: int, send: Callable[[httpx.AsyncClient, int], Awaitable[Any]]
) -> tuple[float, float, float]:
    """``count`` requests in turn (``send(client, n)``): client p50/p99 and the app's own median
    time (Server-Timing), in ms."""
    client_ms, server_ms = [], []
    async with httpx.AsyncClient(base_url=instance.base_url, timeout=30) as client:
        for n in range(count):
            started = time.perf_counter()
            response = await send(client, n)
            client_ms.append((time.perf_counter() - started) * 1e3)
            response.raise_for_status()
            server_ms.append(float(response.headers["Server-Timing"].split("dur=")[1]))
    p50, p99 = percentiles(client_ms)
    return p50, p99, statistics.median(server_ms)


async def unloaded_floor(instance: RunningInstance, count: int = 300) -> tuple[float, float, float]:
    """``GET /health`` in turn, by the same client as the unloaded reads: what any request costs
    here before the app does anything (the client, the loopback, waking both processes)."""
    return await _one_at_a_time(instance, count, lambda client, _: client.get("/health"))


async def unloaded_reads(
    instance: RunningInstance, seeded: Seeded, count: int = 300
) -> tuple[float, float, float]:
    """Sequential home reads: client p50/p99 and the app's own median time (Server-Timing)."""

    def read(client: httpx.AsyncClient, n: int) -> Awaitable[httpx.Response]:
        token = seeded.viewer_tokens[n % len(seeded.viewer_tokens)]
        return client.get("/api/v1/timelines/home", headers={"Authorization": f"Bearer {token}"})

    return await _one_at_a_time(instance, count, read)


async def posting_latency(
    instance: RunningInstance, seeded: Seeded, count: int = 300
) -> tuple[float, float, float]:
    """Sequential posts: client p50/p99 and the app's own median time (Server-Timing)."""

    def post(client: httpx.AsyncClient, n: int) -> Awaitable[httpx.Response]:
        token = seeded.viewer_tokens[n % len(seeded.viewer_tokens)]
        return client.post(
            "/api/v1/statuses",
            json={"status": f"bench post {n} #bench"},
            headers={"Authorization": f"Bearer {token}"},
        )

    return await _one_at_a_time(instance, count, post)


async def fan_out_times(
    database_url: str, redis_url: str, seeded: Seeded
) -> tuple[float, float, float]:
    """The fan-out job's work, in-process: 1,000 followers with the default limit, and
    10,000 followers with the limit raised so they are pushed. Every timeline exists."""
    settings = load_settings(
        env={"STARLING_DATABASE_URL": database_url, "STARLING_REDIS_URL": redis_url}
    )
    pushed_settings = settings.model_copy(
        update={"timeline": TimelineSettings(fanout_max_followers=20_000)}
    )
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    redis = Redis.from_url(redis_url)
    try:
        async with redis.pipeline(transaction=False) as pipe:
            for account in seeded.account_ids:
                pipe.zadd(timelines.home_key(account), {timelines.SENTINEL: 0}, nx=True)
            await pipe.execute()
        results = []
        for author, job_settings in (
            (seeded.fan_1k, settings),
            (seeded.everybody_follows, pushed_settings),
        ):
            _, rows = await Tortoise.get_connection("default").execute_query(
                "SELECT id FROM posts WHERE author_id = $1 ORDER BY id DESC LIMIT 1", [author]
            )
            post = (await load_posts(redis, [rows[0]["id"]]))[rows[0]["id"]]
            # An author under the limit all along: one who has just dropped back under it
            # (big with the default limit, not with the raised one) also has their latest
            # posts pushed back in, which is another job (timelines.BACKFILL).
            await timelines.mark_big(author, False)
            started = time.perf_counter()
            count = await timelines.fan_out(redis, job_settings, post)
            results.append(((time.perf_counter() - started) * 1e3, count))
        (ms_1k, _), (ms_10k, count_10k) = results
        return ms_1k, ms_10k, count_10k / (ms_10k / 1e3)
    finally:
        await redis.aclose()
        await Tortoise.close_connections()


# "memory" runs on an instance of its own (bench/memory.py), before the others.
PARTS = ("core", "federation", "search", "pages", "streaming", "memory", "footprint", "curves")


async def run_all(
    instance: RunningInstance,
    seeded: Seeded,
    wrk: str,
    database_url: str,
    redis_url: str,
    runs: int,
    parts: frozenset[str] = frozenset(PARTS),
) -> list[Row]:
    """Every benchmark of ``parts`` (the floor always, so each figure reads as a ratio)."""
    await warm_up(instance, seeded)
    floor = median_wrk(runs, wrk, f"{instance.base_url}/health")
    rows = [Row("floor: GET /health (trivial JSON)", fmt(floor), "(the stack's ceiling)")]
    if "core" in parts:
        rows += await core_rows(instance, seeded, wrk, runs, floor)
    if "federation" in parts:
        rows += await federation.federation_rows(
            instance, seeded, wrk, database_url, redis_url, runs, floor
        )
    if "search" in parts:
        rows += await search.search_rows(instance, seeded)
        rows += await search.home_beside_search(instance, seeded, wrk)
    if "pages" in parts:
        rows += await pages.page_rows(instance, seeded, wrk, database_url, redis_url, runs, floor)
    if "streaming" in parts:
        rows += await streaming.streaming_rows(instance, seeded)
    if "core" in parts:
        rows += await fan_out_rows(database_url, redis_url, seeded)
    # After the others: it writes posts, likes and deliveries they should not see.
    if "footprint" in parts:
        rows += await footprint.footprint_rows(instance, seeded, database_url, redis_url)
    # After that: data of its own (accounts, follows, big authors, 50,000 timelines).
    if "curves" in parts:
        rows += await curves.curve_rows(instance, wrk, database_url, redis_url, floor)
    return rows


async def core_rows(
    instance: RunningInstance, seeded: Seeded, wrk: str, runs: int, floor: WrkResult
) -> list[Row]:
    rows = []
    home = home_wrk(runs, wrk, instance.base_url, seeded.viewer_tokens)
    rows.append(
        Row(
            "home timeline, 20 posts, 500 viewers (wrk)",
            fmt(home),
            "p99 <= 60 ms",
        )
    )
    rows.append(Row("  ratio to floor", f"{home.rps / floor.rps:.0%}", ">= 50 % (stretch 70 %)"))
    p50, p99, server = await unloaded_floor(instance)
    rows.append(
        Row(
            "floor, unloaded: GET /health in turn",
            f"p50 {p50:.2f} / p99 {p99:.2f} ms; app {server:.2f} ms",
            "(the same client as below)",
        )
    )
    p50, p99, server = await unloaded_reads(instance, seeded)
    rows.append(
        Row(
            "one home read, unloaded",
            f"p50 {p50:.2f} / p99 {p99:.2f} ms; app {server:.2f} ms",
            "app <= 2 ms",
        )
    )
    p50, p99, server = await posting_latency(instance, seeded)
    rows.append(
        Row(
            "POST /api/v1/statuses, unloaded",
            f"p50 {p50:.2f} / p99 {p99:.2f} ms; app {server:.2f} ms",
            "p50 <= 8, p99 <= 25 ms",
        )
    )
    return rows


async def fan_out_rows(database_url: str, redis_url: str, seeded: Seeded) -> list[Row]:
    ms_1k, ms_10k, rate = await fan_out_times(database_url, redis_url, seeded)
    return [
        Row("fan-out to 1,000 followers", f"{ms_1k:.1f} ms", "<= 50 ms"),
        Row(
            "fan-out to 10,000 followers",
            f"{ms_10k:.1f} ms ({rate:,.0f} inserts/s)",
            "<= 400 ms; >= 40,000 inserts/s",
        ),
    ]
