"""Read replicas: read-only requests read a real streaming replica; the writer reads its writes;
a lagging or stopped replica is skipped and the primary answers.

The module runs its own primary and hot-standby replica (tests/integration/replica_support)
and points Tortoise at them for its tests, then back at the session's database.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import asyncpg
import pytest
from prometheus_client import REGISTRY
from quart.typing import TestClientProtocol as QuartClient
from redis.asyncio import Redis
from tortoise import Tortoise
from tortoise.contrib.test import truncate_all_models

from instance import lifecycle
from instance.app import create_app
from instance.backing import ensure_database
from instance.config import DatabaseSettings, Settings, TimelineSettings
from models import tortoise_config
from models.accounts import Account, User
from models.migrate import apply_migrations
from models.relationships import Follow, FollowState
from services import reads, timelines
from services.backends import Backends
from services.domains import forget_cached_states
from services.instance import forget_site
from tests.factories import account_of, bearer, make_user, token_for
from tests.integration.replica_support import Pair, streaming_pair

DATABASE = "starling_replicas"
MAX_LAG = 2.0


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    with streaming_pair() as running:
        yield running


@pytest.fixture(scope="module")
def rr_settings(settings: Settings, pair: Pair) -> Settings:
    database = DatabaseSettings(
        url=f"{pair.primary.url}/{DATABASE}",
        replica_urls=(f"{pair.replica.url}/{DATABASE}",),
        replica_max_lag_seconds=MAX_LAG,
    )
    return settings.model_copy(update={"database": database})


async def _until(check: Callable[[], Awaitable[bool]], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.1)


async def _sql(url: str, sql: str) -> object:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()


async def caught_up(pair: Pair) -> None:
    """Wait until the replica has replayed everything the primary has written so far."""
    target = await _sql(f"{pair.primary.url}/postgres", "SELECT pg_current_wal_insert_lsn()::text")
    replica = f"{pair.replica.url}/postgres"
    sql = f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"

    async def replayed() -> bool:
        return bool(await _sql(replica, sql))

    await _until(replayed)


@pytest.fixture(scope="module")
async def rr_database(database: str, rr_settings: Settings, pair: Pair) -> AsyncIterator[str]:
    """The private primary's database built by the migrations, Tortoise on it and its replica;
    afterwards Tortoise goes back to the session's ``database``."""
    url = rr_settings.database.url
    await ensure_database(url)
    await apply_migrations(url)
    await Tortoise.close_connections()
    await lifecycle.open_orm(rr_settings)  # the primary, and the replica in services/reads
    await caught_up(pair)
    yield url
    await lifecycle.close_orm()
    await Tortoise.init(config=tortoise_config(database), _enable_global_fallback=True)


@pytest.fixture
async def rr_backends(rr_settings: Settings, rr_database: str) -> AsyncIterator[Backends]:
    redis = Redis.from_url(rr_settings.redis.url)
    await redis.flushdb()
    await redis.aclose()
    reads.forget_health(MAX_LAG)  # a fresh process's view: health unknown
    opened = await lifecycle.open_backends(rr_settings, init_orm=False)
    yield opened
    await lifecycle.close_backends(opened, close_orm=False)
    await truncate_all_models()
    forget_cached_states()
    forget_site()


@pytest.fixture
def rr_client(rr_settings: Settings, rr_backends: Backends) -> QuartClient:
    return create_app(rr_settings, rr_backends).test_client()


def reads_by(target: str) -> float:
    return REGISTRY.get_sample_value("starling_db_reads_total", {"target": target}) or 0.0


async def following_usernames(client: QuartClient, account: Account, **kw: object) -> list:
    response = await client.get(f"/api/v1/accounts/{account.id}/following", **kw)
    assert response.status_code == 200, await response.get_data(as_text=True)
    return [entry["username"] for entry in await response.get_json()]


async def people(rr_settings: Settings) -> tuple[Account, Account, str]:
    """alice (with a token) and bob, nobody following anybody yet."""
    alice = await make_user(rr_settings, "alice")
    await make_user(rr_settings, "bob")
    return await account_of(alice), await Account.get(username="bob"), await token_for(alice)


async def set_replay(pair: Pair, paused: bool) -> None:
    verb = "pause" if paused else "resume"
    await _sql(f"{pair.replica.url}/postgres", f"SELECT pg_wal_replay_{verb}()::text")


@contextlib.asynccontextmanager
async def replay_paused(pair: Pair, *, trusted: bool = False) -> AsyncIterator[None]:
    """The replica stops replaying (and resumes after); ``trusted``: it still counts as caught
    up enough to be read, so what it has not replayed shows."""
    if trusted:
        reads.forget_health(600.0)
    await set_replay(pair, paused=True)
    try:
        yield
    finally:
        await set_replay(pair, paused=False)


async def test_visitor_reads_come_from_the_replica_with_replicated_data(
    rr_client: QuartClient, rr_settings: Settings, pair: Pair
) -> None:
    alice, bob, token = await people(rr_settings)
    response = await rr_client.post(f"/api/v1/accounts/{bob.id}/follow", headers=bearer(token))
    assert response.status_code == 200
    await caught_up(pair)
    before = (reads_by("replica"), reads_by("primary"), reads_by("fallback"))

    assert await following_usernames(rr_client, alice) == ["bob"]
    outbox = await rr_client.get("/users/alice/following?page=true")
    assert outbox.status_code == 200
    assert (await outbox.get_json())["orderedItems"] == [bob.uri]
    page = await rr_client.get("/@alice/following")
    assert page.status_code == 200
    assert "@bob" in await page.get_data(as_text=True)

    assert reads_by("replica") >= before[0] + 3
    assert (reads_by("primary"), reads_by("fallback")) == before[1:]


async def test_writer_reads_its_write_while_others_read_the_replica(
    rr_client: QuartClient, rr_settings: Settings, pair: Pair
) -> None:
    alice, bob, token = await people(rr_settings)
    carol_token = await token_for(await make_user(rr_settings, "carol"))
    await caught_up(pair)
    async with replay_paused(pair, trusted=True):
        response = await rr_client.post(f"/api/v1/accounts/{bob.id}/follow", headers=bearer(token))
        assert response.status_code == 200

        # The writer's next read goes to the primary and finds the follow ...
        assert await following_usernames(rr_client, alice, headers=bearer(token)) == ["bob"]
        # ... while a visitor and another account read the replica, which has not replayed it.
        assert await following_usernames(rr_client, alice) == []
        assert await following_usernames(rr_client, alice, headers=bearer(carol_token)) == []
    await caught_up(pair)
    assert await following_usernames(rr_client, alice) == ["bob"]


async def test_a_liker_sees_its_own_like_at_once_while_the_replica_lags(
    rr_client: QuartClient, rr_settings: Settings, rr_backends: Backends, pair: Pair
) -> None:
    """The viewer's state a home read uses is cached in Redis and filled from the primary, so
    a like shows in the liker's next read though the replica has not replayed it, and only as
    the liker's."""
    _, bob, token = await people(rr_settings)
    carol_token = await token_for(await make_user(rr_settings, "carol"))
    bob_token = await token_for(await User.get(account_id=bob.id))
    followed = await rr_client.post(f"/api/v1/accounts/{bob.id}/follow", headers=bearer(token))
    assert followed.status_code == 200
    # carol follows too, not through the API: a write there would keep her reads on the
    # primary for a few seconds (read-your-writes)
    carol = await Account.get(username="carol")
    await Follow.create(follower=carol, followee=bob, state=FollowState.ACCEPTED)
    posted = await rr_client.post(
        "/api/v1/statuses", json={"status": "hi"}, headers=bearer(bob_token)
    )
    post_id = (await posted.get_json())["id"]
    # bob big: the home reads merge his posts from his feed (services/author_feeds)
    everyone_big = rr_settings.model_copy(
        update={"timeline": TimelineSettings(fanout_max_followers=0)}
    )
    await timelines.recount_big_authors(rr_backends.redis, everyone_big)
    await caught_up(pair)
    async with replay_paused(pair, trusted=True):
        assert [s["favourited"] for s in await home(rr_client, token)] == [False]
        liked = await rr_client.post(f"/api/v1/statuses/{post_id}/favourite", headers=bearer(token))
        assert liked.status_code == 200

        alices = await home(rr_client, token)
        carols = await home(rr_client, carol_token)

    assert [(s["id"], s["favourited"]) for s in alices] == [(post_id, True)]
    assert [(s["id"], s["favourited"]) for s in carols] == [(post_id, False)]


async def test_public_and_account_timelines_come_from_the_replica(
    rr_client: QuartClient, rr_settings: Settings, pair: Pair
) -> None:
    _, bob, _ = await people(rr_settings)
    bob_token = await token_for(await User.get(account_id=bob.id))
    first = await rr_client.post(
        "/api/v1/statuses", json={"status": "one"}, headers=bearer(bob_token)
    )
    assert first.status_code == 200
    await caught_up(pair)
    async with replay_paused(pair, trusted=True):
        # A post the replica has not replayed: visitors' lists (read there) do not show it yet.
        second = await rr_client.post(
            "/api/v1/statuses", json={"status": "two"}, headers=bearer(bob_token)
        )
        assert second.status_code == 200
        before = reads_by("replica")
        public = await rr_client.get("/api/v1/timelines/public")
        own = await rr_client.get(f"/api/v1/accounts/{bob.id}/statuses")
        assert [s["content"] for s in await public.get_json()] == ["<p>one</p>"]
        assert [s["content"] for s in await own.get_json()] == ["<p>one</p>"]
        assert reads_by("replica") >= before + 2
        # The writer reads the primary and sees its post.
        mine = await rr_client.get(f"/api/v1/accounts/{bob.id}/statuses", headers=bearer(bob_token))
        assert [s["content"] for s in await mine.get_json()] == ["<p>two</p>", "<p>one</p>"]


async def home(client: QuartClient, token: str) -> list:
    response = await client.get("/api/v1/timelines/home", headers=bearer(token))
    assert response.status_code == 200, await response.get_data(as_text=True)
    return await response.get_json()


async def test_a_lagging_replica_is_skipped_after_the_lag_threshold(
    rr_client: QuartClient, rr_settings: Settings, pair: Pair
) -> None:
    alice, bob, token = await people(rr_settings)
    await caught_up(pair)
    async with replay_paused(pair):
        response = await rr_client.post(f"/api/v1/accounts/{bob.id}/follow", headers=bearer(token))
        assert response.status_code == 200
        primary_before = reads_by("primary")
        started = time.monotonic()

        async def visitor_sees_the_follow() -> bool:
            return await following_usernames(rr_client, alice) == ["bob"]

        # Replay stays paused: the follow can only come from the primary, once the replica's
        # lag passes the threshold and a health check notices (at most CHECK_SECONDS later).
        await _until(visitor_sees_the_follow, MAX_LAG + reads.CHECK_SECONDS + 10)
        assert reads_by("primary") > primary_before
        assert time.monotonic() - started < MAX_LAG + reads.CHECK_SECONDS + 10


async def test_a_stopped_replica_falls_back_to_the_primary(
    rr_client: QuartClient, rr_settings: Settings, pair: Pair
) -> None:
    alice, bob, token = await people(rr_settings)
    response = await rr_client.post(f"/api/v1/accounts/{bob.id}/follow", headers=bearer(token))
    assert response.status_code == 200
    await caught_up(pair)
    assert await following_usernames(rr_client, alice) == ["bob"]  # the replica's pool is open
    pair.replica.stop()
    try:
        fallbacks = reads_by("fallback")
        assert await following_usernames(rr_client, alice) == ["bob"]
        assert reads_by("fallback") > fallbacks
        page = await rr_client.get("/@alice/following")
        assert page.status_code == 200
        assert "@bob" in await page.get_data(as_text=True)
        outbox = await rr_client.get("/users/alice/following?page=true")
        assert outbox.status_code == 200
    finally:
        pair.replica.start()
    await caught_up(pair)

    # Back up: once a health check finds it well again, visitors read it again.
    async def replica_used_again() -> bool:
        before = reads_by("replica")
        await following_usernames(rr_client, alice)
        return reads_by("replica") > before

    await _until(replica_used_again, reads.CHECK_SECONDS + 10)
