"""Search on the benchmark data: rebuild time, query latency and how soon a new post is found.

Queries go to the running instance (``GET /api/v2/search``, signed in, as a client sends
them); the rebuild is ``starling reindex`` as an operator runs it, while the instance serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import subprocess
import sys
import time

import httpx

from bench import corpus
from bench.seed import POSTS, Seeded
from bench.wrk import Row, fmt, home_wrk, percentiles
from tests.instances import ROOT, RunningInstance

QUERIES = 300
FRESHNESS_POSTS = 10
FRESHNESS_LIMIT_SECONDS = 10.0


def reindex(env: dict[str, str]) -> Row:
    """``starling reindex`` over the seeded data, before the instance starts (so that no
    benchmark runs beside the instance's own first build)."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "instance.cli", "reindex"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=True,
    )  # fmt: skip
    took = time.perf_counter() - started
    documents = result.stdout.strip().rsplit(" with ", 1)[-1]
    return Row(f"search: starling reindex ({documents})", f"{took:.1f} s", "<= 60 s")


async def query_latency(
    client: httpx.AsyncClient, seeded: Seeded, ranks: tuple[int, int]
) -> tuple[float, float, float, float]:
    """Sequential searches: client p50/p99, the app's own p50/p99 (Server-Timing)."""
    rng = random.Random(11)
    client_ms, app_ms = [], []
    for n in range(QUERIES):
        token = seeded.viewer_tokens[n % len(seeded.viewer_tokens)]
        started = time.perf_counter()
        response = await client.get(
            "/api/v2/search",
            params={"q": corpus.query(rng, ranks), "type": "statuses"},
            headers={"Authorization": f"Bearer {token}"},
        )
        client_ms.append((time.perf_counter() - started) * 1e3)
        response.raise_for_status()
        app_ms.append(float(response.headers["Server-Timing"].split("dur=")[1]))
    return *percentiles(client_ms), *percentiles(app_ms)


async def freshness(client: httpx.AsyncClient, seeded: Seeded) -> list[float]:
    """Seconds from a post's 200 to the first search that finds it (polled every 20 ms)."""
    headers = {"Authorization": f"Bearer {seeded.viewer_tokens[0]}"}
    seconds = []
    for n in range(FRESHNESS_POSTS):
        word = f"freshword{n}x{time.time_ns()}"
        response = await client.post("/api/v1/statuses", json={"status": word}, headers=headers)
        response.raise_for_status()
        posted = time.perf_counter()
        while time.perf_counter() - posted < FRESHNESS_LIMIT_SECONDS:
            found = await client.get(
                "/api/v2/search", params={"q": word, "type": "statuses"}, headers=headers
            )
            if found.status_code == 200 and found.json()["statuses"]:
                break
            await asyncio.sleep(0.02)
        seconds.append(time.perf_counter() - posted)
    return seconds


async def search_rows(instance: RunningInstance, seeded: Seeded) -> list[Row]:
    rows = []
    async with httpx.AsyncClient(base_url=instance.base_url, timeout=30) as client:
        for label, ranks, target in (
            ("topical words", corpus.TOPICAL, "p50 <= 2, p99 <= 10 ms"),
            ("common words (in 1-5 % of posts)", corpus.COMMON, "(worst case, reported)"),
        ):
            c50, c99, a50, a99 = await query_latency(client, seeded, ranks)
            rows.append(
                Row(
                    f"search {POSTS:,} posts: {label}",
                    f"app p50 {a50:.2f} / p99 {a99:.2f}; client p50 {c50:.2f} / p99 {c99:.2f} ms",
                    target,
                )
            )
        fresh = await freshness(client, seeded)
    rows.append(
        Row(
            "search: a new post is found after",
            f"median {statistics.median(fresh):.2f} s, max {max(fresh):.2f} s",
            "<= 2 s",
        )
    )
    return rows


SEARCHES_PER_SECOND = 20  # a busy instance's searchers, beside the home timeline's readers


async def _search_steadily(client: httpx.AsyncClient, seeded: Seeded, stop: asyncio.Event) -> int:
    """Topical searches at SEARCHES_PER_SECOND until ``stop``; answers how many were made."""
    rng, made = random.Random(13), 0
    while not stop.is_set():
        token = seeded.viewer_tokens[made % len(seeded.viewer_tokens)]
        response = await client.get(
            "/api/v2/search",
            params={"q": corpus.query(rng, corpus.TOPICAL), "type": "statuses"},
            headers={"Authorization": f"Bearer {token}"},
        )
        response.raise_for_status()
        made += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1 / SEARCHES_PER_SECOND)
    return made


async def home_beside_search(instance: RunningInstance, seeded: Seeded, wrk: str) -> list[Row]:
    """The home timeline under wrk, alone and then while searches run (the issue's "search
    under load must not slow the home timeline": Whoosh runs on threads of the web process)."""
    alone = await asyncio.to_thread(home_wrk, 1, wrk, instance.base_url, seeded.viewer_tokens)
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=instance.base_url, timeout=30) as client:
        searching = asyncio.create_task(_search_steadily(client, seeded, stop))
        started = time.perf_counter()
        beside = await asyncio.to_thread(home_wrk, 1, wrk, instance.base_url, seeded.viewer_tokens)
        stop.set()
        made = await searching
    rate = made / (time.perf_counter() - started)
    return [
        Row("home timeline (wrk), alone", fmt(alone), ""),
        Row(
            f"home timeline (wrk), beside {rate:.0f} searches/s",
            f"{fmt(beside)} ({beside.rps / alone.rps:.0%} of alone)",
            "not slowed",
        ),
    ]
