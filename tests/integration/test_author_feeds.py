"""Big authors' posts merged from Redis (services/author_feeds): what their followers see, as
they would see it pushed, through the client API; the deletes and boost settings that change
it; a feed Redis lost, rebuilt from Postgres; and a home read that asks Postgres nothing."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest
from quart.typing import TestClientProtocol as QuartClient

from instance.app import create_app
from instance.config import Settings, TimelineSettings
from models.accounts import Account
from services import author_feeds, timelines
from services.backends import Backends
from services.paging import Page
from services.postcache import load_posts
from tests.drain import drain
from tests.factories import bearer, member
from tests.integration.test_viewer_cache import home, ok


@dataclass
class Cast:
    client: QuartClient
    settings: Settings
    backends: Backends
    viewer: Account
    token: str
    star: Account  # big: followed by the viewer and a fan, over the limit of 1
    star_token: str
    friend: Account  # followed by the viewer, small
    friend_token: str
    stranger: Account  # followed by nobody
    stranger_token: str


@pytest.fixture
async def cast(settings: Settings, backends: Backends) -> Cast:
    tuned = settings.model_copy(update={"timeline": TimelineSettings(fanout_max_followers=1)})
    tuned_backends = dataclasses.replace(backends, settings=tuned)
    client = create_app(tuned, tuned_backends).test_client()
    people = {name: await member(tuned, name) for name in ("viewer", "fan", "star", "friend")}
    stranger = await member(tuned, "stranger")
    for follower, followee in [("viewer", "star"), ("fan", "star"), ("viewer", "friend")]:
        await ok(
            await client.post(
                f"/api/v1/accounts/{people[followee][0].id}/follow",
                headers=bearer(people[follower][1]),
            )
        )
    cast = Cast(
        client, tuned, tuned_backends, *people["viewer"], *people["star"], *people["friend"],
        *stranger,
    )  # fmt: skip
    await say(cast, cast.star_token, "the first post: marks the star big")
    assert await timelines.is_big(cast.star.id)
    return cast


async def say(cast: Cast, token: str, text: str, **fields: object) -> str:
    created = await ok(
        await cast.client.post(
            "/api/v1/statuses", json={"status": text, **fields}, headers=bearer(token)
        )
    )
    await drain(cast.settings)
    return created["id"]


async def home_ids(cast: Cast) -> list[str]:
    return [s["id"] for s in await home(cast.client, cast.token)]


async def test_a_big_authors_posts_are_merged_and_its_replies_reach_whom_they_would(cast):
    first = (await home_ids(cast))[0]
    post = await say(cast, cast.star_token, "hello all")
    # a reply to someone the viewer follows reaches it; to a stranger, not (Mastodon's rule)
    to_friend = await say(cast, cast.friend_token, "friend's")
    reply_friend = await say(cast, cast.star_token, "@friend yes", in_reply_to_id=to_friend)
    to_stranger = await say(cast, cast.stranger_token, "stranger's")
    await say(cast, cast.star_token, "@stranger no", in_reply_to_id=to_stranger)
    direct = await say(cast, cast.star_token, "@viewer psst", visibility="direct")
    await say(cast, cast.star_token, "@fan psst", visibility="direct")

    assert await home_ids(cast) == [direct, reply_friend, to_friend, post, first]
    # what the star's feed holds: only the posts every follower gets
    merged = await author_feeds.read(cast.backends.redis, [(cast.star.id, True)], [(Page(), 40)])
    assert [str(i) for i in merged.ids] == [post, first]


async def test_a_big_authors_deleted_post_and_undone_boost_leave_the_home(cast):
    post = await say(cast, cast.star_token, "soon gone")
    theirs = await say(cast, cast.stranger_token, "boost me")  # not in the home: shown boosted
    boost = await ok(
        await cast.client.post(f"/api/v1/statuses/{theirs}/reblog", headers=bearer(cast.star_token))
    )
    await drain(cast.settings)
    assert (await home_ids(cast))[:2] == [boost["id"], post]

    deleted = await cast.client.delete(f"/api/v1/statuses/{post}", headers=bearer(cast.star_token))
    assert deleted.status_code == 200
    await ok(
        await cast.client.post(
            f"/api/v1/statuses/{theirs}/unreblog", headers=bearer(cast.star_token)
        )
    )
    await drain(cast.settings)

    ids = await home_ids(cast)
    assert post not in ids
    assert boost["id"] not in ids


async def test_a_big_authors_boosts_follow_the_viewers_show_reblogs(cast):
    theirs = await say(cast, cast.stranger_token, "boost me")
    boost = await ok(
        await cast.client.post(f"/api/v1/statuses/{theirs}/reblog", headers=bearer(cast.star_token))
    )
    await drain(cast.settings)
    assert boost["id"] in await home_ids(cast)

    follow = f"/api/v1/accounts/{cast.star.id}/follow"
    headers = bearer(cast.token)
    await ok(await cast.client.post(follow, json={"reblogs": False}, headers=headers))
    assert boost["id"] not in await home_ids(cast)
    await ok(await cast.client.post(follow, json={"reblogs": True}, headers=headers))
    assert boost["id"] in await home_ids(cast)


async def test_a_feed_redis_lost_is_rebuilt_from_postgres(cast):
    """The star's feed and the viewer's timeline, with the star's posts that were pushed to it
    (a reply to a friend, a direct post), and the viewer's cached state: all rebuilt alike."""
    posts = [await say(cast, cast.star_token, f"post {n}") for n in range(3)]
    to_friend = await say(cast, cast.friend_token, "friend's")
    reply = await say(cast, cast.star_token, "@friend yes", in_reply_to_id=to_friend)
    direct = await say(cast, cast.star_token, "@viewer psst", visibility="direct")
    before = await home_ids(cast)
    assert before[:6] == [direct, reply, to_friend, *posts[::-1]]

    await cast.backends.redis.flushdb()

    assert await home_ids(cast) == before


async def test_a_build_that_a_new_post_overtook_is_not_kept(cast):
    redis = cast.backends.redis
    star = cast.star.id
    await redis.delete(author_feeds.ALL_KEY.format(star), author_feeds.ORIGINALS_KEY.format(star))
    version = await redis.get(author_feeds.VERSION_KEY.format(star))
    post = await say(cast, cast.star_token, "while the build ran")  # bumps the version

    # the build of a read that took the version before the post (its query may predate it)
    await author_feeds.build(redis, {star: version})
    assert not await redis.exists(author_feeds.ALL_KEY.format(star))
    assert (await home_ids(cast))[0] == post


async def test_a_home_read_with_a_big_author_asks_postgres_nothing(cast, queries):
    post = await say(cast, cast.star_token, "merged")
    first = await home_ids(cast)
    snapshot = await load_posts(cast.backends.redis, [int(post)])
    assert snapshot

    queries.clear()
    again = await home_ids(cast)

    assert again == first
    assert again[0] == post
    assert queries == []
