"""The cache on a real 3-node Redis Cluster (``redis.cache_cluster``), the job queues on the
plain test Redis: fan-out into many timelines (many hash slots), deletes, snapshots, rate
limits, the token cache and the streaming API work as they do on one Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from quart import Quart
from redis.crc import key_slot

from instance.app import create_app
from models.accounts import Account, User
from services import moderation, timelines
from services.backends import Backends
from services.oauth import TOKEN_CACHE_KEY
from services.tokens import digest
from tests.conftest import TEST_REDIS_DB
from tests.drain import drain
from tests.factories import bearer, make_app, make_user, member, token_for
from tests.integration.test_oauth_token import password_grant
from tests.integration.test_streaming import Socket, follow, opened, post
from web.ratelimit import KEY_PREFIX

FOLLOWERS = 12  # enough that their timelines spread over several slots and nodes


@pytest.fixture
async def served(cluster_backends: Backends) -> AsyncIterator[Quart]:
    app = create_app(cluster_backends.settings, cluster_backends)
    async with app.test_app() as running:
        yield running.app


async def home_ids(client, token: str) -> list[str]:
    response = await client.get("/api/v1/timelines/home", headers=bearer(token))
    assert response.status_code == 200
    return [status["id"] for status in await response.get_json()]


async def test_the_cache_is_the_cluster_and_the_queues_stay_on_the_plain_redis(cluster_backends):
    assert type(cluster_backends.redis).__name__ == "RedisCluster"
    nodes = await cluster_backends.redis.cluster_nodes()
    assert len(nodes) == 3
    assert cluster_backends.queue.connection_pool.connection_kwargs["db"] == TEST_REDIS_DB
    assert cluster_backends.pubsub is not None


async def test_a_post_reaches_every_followers_home_and_a_delete_takes_it_out(served):
    settings = served.extensions["starling"].settings
    redis = served.extensions["starling"].redis
    client = served.test_client()
    author, author_token = await member(settings, "author")
    fans = [await member(settings, f"fan{n}") for n in range(FOLLOWERS)]
    for _, token in fans:
        await follow(client, token, author)
        assert await home_ids(client, token) == []  # built (rebuilt from Postgres), empty
    keys = [timelines.home_key(fan.id) for fan, _ in fans]
    assert len({key_slot(k.encode()) for k in keys}) > 1  # the push is split by slot

    # Scripts flushed: every node answers NOSCRIPT first, and the push loads them again.
    await redis.script_flush()  # on every primary
    post_id = await post(client, author_token, "hello, cluster", settings)

    for _, token in fans:
        assert await home_ids(client, token) == [post_id]
    assert await home_ids(client, author_token) == [post_id]  # the author's own timeline

    deleted = await client.delete(f"/api/v1/statuses/{post_id}", headers=bearer(author_token))
    assert deleted.status_code == 200
    await drain(settings)
    for fan, token in fans:
        assert await redis.zscore(timelines.home_key(fan.id), post_id) is None
        assert await home_ids(client, token) == []


async def test_a_rebuilt_timeline_and_snapshots_come_from_the_cluster(served):
    settings = served.extensions["starling"].settings
    redis = served.extensions["starling"].redis
    client = served.test_client()
    author, author_token = await member(settings, "author")
    _, reader_token = await member(settings, "reader")
    await follow(client, reader_token, author)
    posted = [await post(client, author_token, f"post {n}", settings) for n in range(5)]
    reader = await Account.get(username="reader")

    await redis.delete(timelines.home_key(reader.id), timelines.boosts_key(reader.id))
    assert await home_ids(client, reader_token) == posted[::-1]  # rebuilt from Postgres
    assert await redis.exists(timelines.home_key(reader.id))
    again = await client.get("/api/v1/timelines/home", headers=bearer(reader_token))
    assert [s["content"] for s in await again.get_json()] == [
        f"<p>post {n}</p>" for n in range(4, -1, -1)
    ]  # the second read's snapshots: MGET split by slot


async def test_sign_in_attempts_are_rate_limited_on_the_cluster(served):
    settings = served.extensions["starling"].settings
    redis = served.extensions["starling"].redis
    client = served.test_client()
    toot = await make_app(name="toot", scopes="read write follow")
    await make_user(settings, "alice")
    statuses = []
    for _ in range(25 + 1):  # web.ratelimit.SIGN_IN allows 25 per 5 minutes
        response = await client.post("/oauth/token", form=password_grant(toot, password="no"))
        statuses.append(response.status_code)

    assert statuses == [400] * 25 + [429]
    limits = [key async for key in redis.scan_iter(match=f"{KEY_PREFIX}*")]
    assert limits  # kept on the cluster


async def test_cached_tokens_live_on_the_cluster_and_end_access_revokes_them(served):
    settings = served.extensions["starling"].settings
    backends = served.extensions["starling"]
    client = served.test_client()
    mallory, first = await member(settings, "mallory")
    user = await User.get(account_id=mallory.id)
    second = await token_for(user)  # another app's token: its cache key is in another slot
    _, bystander = await member(settings, "bystander")
    for token in (first, second, bystander):
        response = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
        assert response.status_code == 200
        assert await backends.redis.exists(TOKEN_CACHE_KEY.format(digest(token)))

    await moderation.end_access(backends.redis, user.id)  # one DEL of both keys, split by slot

    for token in (first, second):
        gone = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
        assert gone.status_code == 401
        assert not await backends.redis.exists(TOKEN_CACHE_KEY.format(digest(token)))
    kept = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(bystander))
    assert kept.status_code == 200


async def test_the_user_stream_delivers_an_update_through_the_cluster(served):
    settings = served.extensions["starling"].settings
    client = served.test_client()
    _, alice_token = await member(settings, "alice")
    bob, bob_token = await member(settings, "bob")
    await follow(client, alice_token, bob)
    async with client.websocket(
        "/api/v1/streaming?stream=user", headers=bearer(alice_token)
    ) as raw:
        await opened(raw)
        ws = Socket(raw)
        await asyncio.sleep(0.2)  # the hub's subscription and online marker are in place
        post_id = await post(client, bob_token, "to alice's stream", settings)
        update = await ws.next()
        assert update["event"] == "update"
        assert update["payload"]["id"] == post_id


async def test_the_public_stream_delivers_an_update_through_the_cluster(served):
    settings = served.extensions["starling"].settings
    client = served.test_client()
    _, alice_token = await member(settings, "alice")
    _, bob_token = await member(settings, "bob")
    async with client.websocket(
        "/api/v1/streaming?stream=public", headers=bearer(alice_token)
    ) as raw:
        await opened(raw)
        ws = Socket(raw)
        await asyncio.sleep(0.2)
        post_id = await post(client, bob_token, "to everyone", settings)
        update = await ws.next()
        assert (update["event"], update["payload"]["id"]) == ("update", post_id)
