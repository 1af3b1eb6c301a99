"""Memory: the instance ``make run`` starts (the committed config.toml: one web process, the
jobs embedded), on 1,000 seeded accounts, idle after a few requests of each kind.

Resident set size (RSS) of every process in the tree ``starling run`` heads, as ``ps -o rss``
reports it, and their sum: the figure an operator sees on a small box.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import asyncpg
import httpx
import psutil
from redis.asyncio import Redis

from bench import search
from bench.seed import _accounts, _follows, _logins, _posts
from bench.wrk import Row
from instance.backing import ensure_database
from models.migrate import apply_migrations
from tests.instances import free_port, instance_env, start_instance
from tests.support import drop_database

ACCOUNTS = 1_000
FOLLOWS_EACH = 40
POSTS = 10_000
VIEWERS = 20
SETTLE_SECONDS = 3.0  # after the requests: let the jobs they queued finish
IDLE_SECONDS = 45.0  # then idle: past the embedded instance's release of the search index
TARGET_MB = 120
PAGES = ("/", "/public", "/@user1", "/tags/hello", "/search?q=user", "/api/v1/instance")


async def seed_small(database_url: str, base_url: str) -> list[str]:
    """1,000 accounts following 40 others each, 10,000 posts; bearer tokens for 20 of them."""
    await drop_database(database_url)
    await ensure_database(database_url)
    await apply_migrations(database_url)
    rng = random.Random(5)
    conn = await asyncpg.connect(database_url)
    try:
        ids = await _accounts(conn, base_url, ACCOUNTS)
        pairs = {(a, b) for a in ids for b in rng.sample(ids, FOLLOWS_EACH) if a != b}
        await _follows(conn, pairs)
        await _posts(conn, rng, ids, base_url, POSTS)
        tokens = await _logins(conn, ids, ids[-VIEWERS:])
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return tokens


def exercise(base_url: str, tokens: list[str]) -> None:
    """A few requests of each kind a person makes: pages, timelines, a post (its fan-out and
    indexing run as jobs), a profile, search."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for path in PAGES:
            client.get(path).raise_for_status()
        for n, token in enumerate(tokens):
            auth = {"Authorization": f"Bearer {token}"}
            client.get("/api/v1/timelines/home", headers=auth).raise_for_status()
            client.get("/api/v1/timelines/public", headers=auth).raise_for_status()
            client.get("/api/v1/accounts/verify_credentials", headers=auth).raise_for_status()
            if n < 5:
                post = {"status": f"hello {n}"}
                client.post("/api/v1/statuses", json=post, headers=auth).raise_for_status()
        search = client.get("/api/v2/search", params={"q": "user"}, headers=auth)
        assert search.status_code in (200, 503), search.text  # 503: the first index is building


def tree_rss(pid: int) -> list[tuple[str, float]]:
    """(role, RSS in MB) of ``pid`` and every process below it."""
    root = psutil.Process(pid)
    return [(_role(p), p.memory_info().rss / 2**20) for p in [root, *root.children(True)]]


def _role(process: psutil.Process) -> str:
    command = " ".join(process.cmdline())
    for marker, role in (
        ("resource_tracker", "multiprocessing resource tracker"),
        ("spawn_main", "Hypercorn worker"),
        ("instance.cli run", "starling run"),
        ("instance.cli web", "starling web"),
        ("instance.cli worker", "starling worker"),
    ):
        if marker in command:
            return role
    return process.name()


async def memory_rows(database_url: str, redis_url: str, tmp: Path) -> list[Row]:
    port = free_port()
    tokens = await seed_small(database_url, f"http://127.0.0.1:{port}")
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    await redis.aclose()
    # The index built beforehand, as for the other benchmarks (and as an operator who imported
    # data would): the figure is the running instance's, not its first build's.
    search.reindex(instance_env("memory", database_url, redis_url, tmp, port=port))
    instance = start_instance("memory", database_url, redis_url, tmp, port=port)
    try:
        exercise(instance.base_url, tokens)
        await asyncio.sleep(SETTLE_SECONDS)
        busy = sum(rss for _, rss in tree_rss(instance.process.pid))
        await asyncio.sleep(IDLE_SECONDS)
        processes = tree_rss(instance.process.pid)
    finally:
        instance.stop()
        await drop_database(database_url)
    total = sum(rss for _, rss in processes)
    where = f"make run, {ACCOUNTS:,} accounts"
    rows = [Row(f"memory: {role} ({where})", f"{rss:.0f} MB RSS", "") for role, rss in processes]
    rows.append(Row("memory: total, 3 s after the requests", f"{busy:.0f} MB RSS", ""))
    rows.append(
        Row(f"memory: total, {len(processes)} process(es), idle {IDLE_SECONDS:.0f} s",
            f"{total:.0f} MB RSS", f"<= {TARGET_MB} MB")
    )  # fmt: skip
    return rows
