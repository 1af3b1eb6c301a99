"""The home timeline: the push path, the merge path and the rebuild give the same timeline."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from quart.typing import TestClientProtocol as QuartClient

from instance.app import create_app
from instance.config import Settings, TimelineSettings
from models.accounts import Account
from models.posts import Post, Visibility
from models.relationships import Follow, FollowState, Mute
from services import timelines
from services.backends import Backends
from tests.drain import drain
from tests.factories import account_of, bearer, make_post, make_user, token_for

BIG_LIMIT = 2  # authors with more than 2 local followers are merged at read time


@dataclass
class Cast:
    viewer: Account
    small: Account  # pushed on write
    big: Account  # merged on read
    stranger: Account  # not followed
    token: str
    client: QuartClient
    settings: Settings
    backends: Backends


@pytest.fixture
async def cast(settings: Settings, backends: Backends) -> Cast:
    """viewer follows small (1 local follower) and big (3 local followers, over the limit)."""
    tuned = settings.model_copy(
        update={"timeline": TimelineSettings(fanout_max_followers=BIG_LIMIT)}
    )
    tuned_backends = dataclasses.replace(backends, settings=tuned)
    users = {name: await make_user(tuned, name) for name in ("viewer", "small", "big", "stranger")}
    accounts = {name: await account_of(user) for name, user in users.items()}
    fans = [await account_of(await make_user(tuned, f"fan{i}")) for i in range(2)]
    for follower, followee in [
        (accounts["viewer"], accounts["small"]),
        (accounts["viewer"], accounts["big"]),
        *((fan, accounts["big"]) for fan in fans),
    ]:
        await Follow.create(follower=follower, followee=followee, state=FollowState.ACCEPTED)
    return Cast(
        viewer=accounts["viewer"],
        small=accounts["small"],
        big=accounts["big"],
        stranger=accounts["stranger"],
        token=await token_for(users["viewer"], "read write follow"),
        client=create_app(tuned, tuned_backends).test_client(),
        settings=tuned,
        backends=tuned_backends,
    )


async def post_and_fan_out(cast: Cast, author: Account, text: str, **kwargs) -> Post:
    """What posting does after its commit: enqueue the fan-out job; then run it."""
    post = await make_post(author, text, **kwargs)
    await cast.backends.queue.enqueue_job("fanout", post.id)
    await drain(cast.settings)
    return post


async def boost(cast: Cast, booster: Account, original: Post) -> Post:
    post = await Post.create(
        author=booster, uri=f"{booster.uri}/boosts/{original.id}", boost_of=original
    )
    await cast.backends.queue.enqueue_job("fanout", post.id)
    await drain(cast.settings)
    return post


async def read_all_pages(cast: Cast, limit: int = 3) -> list[str]:
    """Every page of the home timeline, following the Link rel="next" URLs as clients do."""
    ids: list[str] = []
    url = f"/api/v1/timelines/home?limit={limit}"
    for _ in range(50):  # bounded: 50 pages is far more than these tests hold
        response = await cast.client.get(url, headers=bearer(cast.token))
        assert response.status_code == 200
        page = await response.get_json()
        if not page:
            return ids
        ids += [status["id"] for status in page]
        next_link = response.headers["Link"].split(",")[0]
        assert next_link.endswith('rel="next"')
        parts = urlsplit(next_link[next_link.index("<") + 1 : next_link.index(">")])
        url = f"{parts.path}?{parts.query}"
    raise AssertionError("more pages than expected")


async def seed(cast: Cast) -> list[Post]:
    """Posts of every kind, interleaved; returns those the viewer's home should show."""
    own = await post_and_fan_out(cast, cast.viewer, "my own")
    small_1 = await post_and_fan_out(cast, cast.small, "small one")
    big_1 = await post_and_fan_out(cast, cast.big, "big one")
    hidden_dm = await post_and_fan_out(
        cast, cast.small, "dm to someone else", visibility=Visibility.DIRECT
    )
    dm = await post_and_fan_out(
        cast, cast.small, "dm to viewer", visibility=Visibility.DIRECT, mentions=[cast.viewer]
    )
    followers_only = await post_and_fan_out(
        cast, cast.big, "for followers", visibility=Visibility.FOLLOWERS
    )
    await post_and_fan_out(cast, cast.stranger, "not followed")
    boosted = await boost(cast, cast.small, await make_post(cast.stranger, "boosted by small"))
    big_2 = await post_and_fan_out(cast, cast.big, "big two")
    small_2 = await post_and_fan_out(cast, cast.small, "small two")
    assert hidden_dm.id
    return sorted(
        [own, small_1, big_1, dm, followers_only, boosted, big_2, small_2],
        key=lambda post: post.id,
        reverse=True,
    )  # fmt: skip


async def test_pushed_timeline_shows_followed_and_own_posts_newest_first(cast):
    # Given a timeline that exists before anything is posted (as for an active user)
    await timelines.rebuild(cast.backends.redis, cast.settings, cast.viewer.id)
    expected = [str(post.id) for post in await seed(cast)]

    assert await read_all_pages(cast) == expected


async def test_small_authors_are_pushed_and_big_authors_are_not(cast):
    await timelines.rebuild(cast.backends.redis, cast.settings, cast.viewer.id)
    small = await post_and_fan_out(cast, cast.small, "pushed")
    big = await post_and_fan_out(cast, cast.big, "merged on read")

    members = await cast.backends.redis.zrange(timelines.home_key(cast.viewer.id), 0, -1)

    assert str(small.id).encode() in members
    assert str(big.id).encode() not in members


async def test_rebuild_after_flushall_gives_the_same_timeline(cast):
    await timelines.rebuild(cast.backends.redis, cast.settings, cast.viewer.id)
    await seed(cast)
    pushed = await read_all_pages(cast)

    await cast.backends.redis.flushall()
    rebuilt = await read_all_pages(cast)

    assert rebuilt == pushed
    assert await cast.backends.redis.exists(timelines.home_key(cast.viewer.id))


async def test_a_redis_that_lost_its_scripts_still_serves_the_timeline(cast):
    # Given a page read once (the page script is loaded into Redis by then)
    await timelines.rebuild(cast.backends.redis, cast.settings, cast.viewer.id)
    await seed(cast)
    before = await read_all_pages(cast)

    # When Redis forgets its scripts, as a restarted Redis does
    await cast.backends.redis.script_flush()

    # Then the next reads load the script again and show the same timeline
    assert await read_all_pages(cast) == before


async def test_cold_timeline_is_built_from_postgres_on_first_read(cast):
    # Given posts made while the viewer had no timeline in Redis (fan-out skips missing keys)
    expected = [str(post.id) for post in await seed(cast)]
    assert not await cast.backends.redis.exists(timelines.home_key(cast.viewer.id))

    assert await read_all_pages(cast) == expected


async def test_a_timeline_nobody_reads_expires_and_each_read_renews_it(cast):
    redis = cast.backends.redis
    key, boosts = timelines.home_key(cast.viewer.id), timelines.boosts_key(cast.viewer.id)
    await read_all_pages(cast)  # built on this first read
    await redis.expire(key, 60)  # as if a week had nearly gone by without a read
    await boost(cast, cast.small, await make_post(cast.stranger, "boosted by small"))
    boosts_ttl = await redis.ttl(boosts)

    await read_all_pages(cast)

    assert 0 < boosts_ttl <= 60  # the boost's link expires with the timeline it belongs to
    assert await redis.ttl(key) > timelines.IDLE_SECONDS - 60  # renewed by the read
    assert await redis.ttl(boosts) > timelines.IDLE_SECONDS - 60


async def test_merge_only_timeline_matches_when_every_author_is_big(cast, settings):
    # Given the same data read once with everyone pushed and once with everyone merged
    await timelines.rebuild(cast.backends.redis, cast.settings, cast.viewer.id)
    expected = await read_all_pages(cast)  # empty timeline: sanity
    assert expected == []
    ids = [str(post.id) for post in await seed(cast)]

    everyone_big = cast.settings.model_copy(
        update={"timeline": TimelineSettings(fanout_max_followers=0)}
    )
    await cast.backends.redis.flushall()
    cast.client = create_app(
        everyone_big, dataclasses.replace(cast.backends, settings=everyone_big)
    ).test_client()

    assert await read_all_pages(cast) == ids


async def test_unfollow_removes_the_authors_entries_at_once(cast):
    await timelines.rebuild(cast.backends.redis, cast.settings, cast.viewer.id)
    post = await post_and_fan_out(cast, cast.small, "soon gone")
    await Follow.filter(follower=cast.viewer, followee=cast.small).delete()

    await timelines.remove_author(cast.backends.redis, cast.viewer.id, cast.small.id)

    assert (
        await cast.backends.redis.zscore(timelines.home_key(cast.viewer.id), str(post.id)) is None
    )
    assert str(post.id) not in await read_all_pages(cast)


async def test_muted_authors_and_their_boosts_are_hidden(cast):
    await timelines.rebuild(cast.backends.redis, cast.settings, cast.viewer.id)
    original = await make_post(cast.stranger, "muted person's post")
    boosted = await boost(cast, cast.small, original)
    kept = await post_and_fan_out(cast, cast.small, "still here")

    await Mute.create(account=cast.viewer, target=cast.stranger)

    assert await read_all_pages(cast) == [str(kept.id)]
    assert boosted.id


async def test_deleted_post_disappears_on_the_next_read(cast):
    await timelines.rebuild(cast.backends.redis, cast.settings, cast.viewer.id)
    post = await post_and_fan_out(cast, cast.small, "regretted")
    assert await read_all_pages(cast) == [str(post.id)]

    await Post.filter(id=post.id).delete()
    await timelines.remove(cast.backends.redis, [cast.viewer.id], [post.id])

    assert await read_all_pages(cast) == []


async def test_timeline_is_capped(cast, monkeypatch):
    monkeypatch.setattr(timelines, "CAP", 3)
    await timelines.rebuild(cast.backends.redis, cast.settings, cast.viewer.id)
    for n in range(5):
        await post_and_fan_out(cast, cast.small, f"post {n}")

    # the sentinel member plus the newest CAP entries
    assert await cast.backends.redis.zcard(timelines.home_key(cast.viewer.id)) == 3 + 1


async def test_home_needs_a_token(cast):
    response = await cast.client.get("/api/v1/timelines/home")
    assert response.status_code == 401


async def test_boosts_of_an_author_whose_boosts_are_turned_off_stay_out(cast):
    await Follow.filter(follower=cast.viewer, followee=cast.small).update(show_reblogs=False)
    await timelines.rebuild(cast.backends.redis, cast.settings, cast.viewer.id)
    await boost(cast, cast.small, await make_post(cast.stranger, "boosted"))
    own_post = await post_and_fan_out(cast, cast.small, "their own words")

    pushed = await read_all_pages(cast)
    await cast.backends.redis.flushall()
    rebuilt = await read_all_pages(cast)

    assert pushed == rebuilt == [str(own_post.id)]
