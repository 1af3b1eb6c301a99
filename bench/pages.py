"""Web UI pages on the benchmark data: server time (``Server-Timing``) and client latency of
each main page, unloaded, and the signed-in home page under wrk.

The pages need a little more than the seed: a signed-in browser (a web session per viewer,
made by services/web_sessions as sign-in does), a thread with replies, likes and boosts on one
viewer's post (so that viewer has notifications), and a hashtag with posts. They are made
through the API of the running instance, as clients would make them.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from redis.asyncio import Redis
from tortoise import Tortoise

from bench import corpus
from bench.seed import Seeded
from bench.wrk import Row, WrkResult, fmt, median_wrk, percentiles
from models import tortoise_config
from models.accounts import User

# accounts first: imported alone, web_sessions meets an import cycle of services.oauth (and
# services.moderation) that the app's own import order never hits.
from services import accounts, web_sessions  # noqa: F401
from tests.instances import RunningInstance

PAGES_LUA = Path(__file__).with_name("pages.lua")
SESSION_COOKIE = "starling_session"  # web/ui/session.py
REQUESTS = 200
WARM_UP = 20
TAG = "benchpages"
REPLIES = 12
LIKES = 30
BOOSTS = 10
TAGGED_POSTS = 40
PROFILE = "user10"  # one of the seed's frequent posters
TARGET = "<= 10 ms server"
HTML = {"Accept": "text/html,application/xhtml+xml"}


@dataclass(frozen=True)
class Scene:
    """What the pages are read with: each viewer's session cookie, and the thread."""

    cookies: list[str]  # one per seeded viewer; cookies[0] is the thread's author
    thread_path: str  # a reply in the middle of the thread (its page shows both directions)


async def sessions(database_url: str, redis_url: str, seeded: Seeded) -> list[str]:
    """A web session for every viewer, as signing in starts one; answers the cookies."""
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    redis = Redis.from_url(redis_url)
    try:
        users = {u.account_id: u for u in await User.filter(account_id__in=seeded.viewer_ids)}
        return [await web_sessions.start(redis, users[a]) for a in seeded.viewer_ids]
    finally:
        await redis.aclose()
        await Tortoise.close_connections()


async def _post(client: httpx.AsyncClient, token: str, **body: object) -> dict:
    response = await client.post(
        "/api/v1/statuses", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    response.raise_for_status()
    return response.json()


async def _act(client: httpx.AsyncClient, token: str, path: str) -> None:
    response = await client.post(path, headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()


async def build_scene(instance: RunningInstance, seeded: Seeded, cookies: list[str]) -> Scene:
    """A thread by viewers[0] (replies by others, each to the one before, naming the author),
    likes and boosts of its first post, and posts with #benchpages."""
    tokens = seeded.viewer_tokens
    async with httpx.AsyncClient(base_url=instance.base_url, timeout=30) as client:
        me = await client.get(
            "/api/v1/accounts/verify_credentials",
            headers={"Authorization": f"Bearer {tokens[0]}"},
        )
        me.raise_for_status()
        author = me.json()["username"]
        root = await _post(client, tokens[0], status=f"A thread to read, #{TAG}")
        parent, middle = root["id"], f"/@{author}/{root['id']}"
        for n in range(1, REPLIES + 1):
            reply = await _post(
                client, tokens[n], status=f"@{author} reply {n}", in_reply_to_id=parent
            )
            parent = reply["id"]
            if n == REPLIES // 2:
                middle = f"/@{reply['account']['username']}/{parent}"
        for n in range(1, LIKES + 1):
            await _act(client, tokens[n], f"/api/v1/statuses/{root['id']}/favourite")
        for n in range(1, BOOSTS + 1):
            await _act(client, tokens[n], f"/api/v1/statuses/{root['id']}/reblog")
        rng = random.Random(5)
        for n in range(TAGGED_POSTS):
            await _post(client, tokens[20 + n], status=f"{corpus.sentence(rng)} #{TAG}")
        await _wait_for_notifications(client, tokens[0], REPLIES + LIKES + BOOSTS)
    return Scene(cookies, middle)


async def _wait_for_notifications(client: httpx.AsyncClient, token: str, wanted: int) -> None:
    """The worker makes some notifications after the request: wait (at most 20 s) for them."""
    deadline = time.monotonic() + 20
    seen = 0
    while time.monotonic() < deadline:
        response = await client.get(
            "/api/v1/notifications",
            params={"limit": 80},
            headers={"Authorization": f"Bearer {token}"},
        )
        response.raise_for_status()
        seen = len(response.json())
        if seen >= wanted:
            return
        await asyncio.sleep(0.2)
    print(f"bench: pages: only {seen} of {wanted} notifications arrived in 20 s")


@dataclass(frozen=True)
class PageTimes:
    server_p50: float
    server_p99: float
    client_p50: float
    client_p99: float
    size: int  # bytes of the last body, to see what a page weighs


async def time_page(
    client: httpx.AsyncClient, paths: list[str], cookies: list[str | None]
) -> PageTimes:
    """Sequential GETs, WARM_UP unmeasured then REQUESTS measured, rotating over ``paths``
    and ``cookies`` (None: signed out). Every answer must be a 200 HTML page."""
    server, latency, size = [], [], 0
    for n in range(WARM_UP + REQUESTS):
        cookie = cookies[n % len(cookies)]
        headers = {**HTML, "Cookie": f"{SESSION_COOKIE}={cookie}"} if cookie else HTML
        started = time.perf_counter()
        response = await client.get(paths[n % len(paths)], headers=headers)
        elapsed = (time.perf_counter() - started) * 1e3
        if response.status_code != 200 or "text/html" not in response.headers["Content-Type"]:
            raise RuntimeError(f"{paths[n % len(paths)]}: {response.status_code}")
        if n >= WARM_UP:
            latency.append(elapsed)
            server.append(float(response.headers["Server-Timing"].split("dur=")[1]))
            size = len(response.content)
    return PageTimes(*percentiles(server), *percentiles(latency), size)


def page_plan(scene: Scene) -> list[tuple[str, list[str], list[str | None]]]:
    """(label, paths, cookies) of each page measured; signed in except the landing page."""
    me = [scene.cookies[0]]
    queries = [corpus.query(random.Random(13), corpus.TOPICAL) for _ in range(50)]
    return [
        ("/ (landing, signed out)", ["/"], [None]),
        ("/home (500 viewers in turn)", ["/home"], list(scene.cookies)),
        ("/public/local", ["/public/local"], me),
        (f"/@{PROFILE} (profile)", [f"/@{PROFILE}"], me),
        (f"/@user/<id> (thread of {REPLIES + 1})", [scene.thread_path], me),
        ("/notifications", ["/notifications"], me),
        (f"/tags/{TAG}", [f"/tags/{TAG}"], me),
        ("/search?q=word (50 topical words)", [f"/search?q={q}" for q in queries], me),
    ]


async def warm_homes(instance: RunningInstance, cookies: list[str]) -> None:
    """Every viewer's home page once (a cold timeline is rebuilt from Postgres first)."""
    async with httpx.AsyncClient(base_url=instance.base_url, timeout=30) as client:
        slots = asyncio.Semaphore(8)

        async def read(cookie: str) -> None:
            async with slots:
                headers = {**HTML, "Cookie": f"{SESSION_COOKIE}={cookie}"}
                (await client.get("/home", headers=headers)).raise_for_status()

        await asyncio.gather(*(read(cookie) for cookie in cookies))


def home_under_load(
    instance: RunningInstance, wrk: str, runs: int, cookies: list[str]
) -> WrkResult:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as cookies_file:
        cookies_file.write("\n".join(cookies))
    try:
        return median_wrk(
            runs, wrk, f"{instance.base_url}/home",
            script=PAGES_LUA, env={"BENCH_COOKIES": cookies_file.name},
        )  # fmt: skip
    finally:
        Path(cookies_file.name).unlink()


async def page_rows(
    instance: RunningInstance,
    seeded: Seeded,
    wrk: str,
    database_url: str,
    redis_url: str,
    runs: int,
    floor: WrkResult,
) -> list[Row]:
    cookies = await sessions(database_url, redis_url, seeded)
    scene = await build_scene(instance, seeded, cookies)
    await warm_homes(instance, cookies)
    rows = []
    async with httpx.AsyncClient(base_url=instance.base_url, timeout=30) as client:
        for label, paths, page_cookies in page_plan(scene):
            t = await time_page(client, paths, page_cookies)
            rows.append(
                Row(
                    f"page {label}, p50 / p99",
                    f"server {t.server_p50:.1f} / {t.server_p99:.1f}, "
                    f"client {t.client_p50:.1f} / {t.client_p99:.1f} ms",
                    f"{TARGET} ({t.size // 1024} KB)",
                )
            )
    home = home_under_load(instance, wrk, runs, cookies)
    rows.append(Row("page /home, 500 viewers (wrk)", fmt(home), "(reported)"))
    rows.append(Row("  ratio to floor", f"{home.rps / floor.rps:.0%}", ""))
    return rows
