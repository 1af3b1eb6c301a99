"""A viewer's state cached in Redis (services/viewer_cache): a home read of a viewer who follows
no big author asks Postgres nothing, and whatever the viewer does, or has done to it, shows on
its very next read, though that read was served from the cache before."""

from __future__ import annotations

import dataclasses

from instance.app import create_app
from instance.config import Settings, TimelineSettings
from models.accounts import Account
from models.posts import Post
from models.relationships import Follow, FollowState
from services import viewer_cache
from tests.drain import drain
from tests.factories import bearer, member
from tests.integration.test_federation_inbox import apply_all, create_note, post


async def home(client, token: str) -> list[dict]:
    response = await client.get("/api/v1/timelines/home", headers=bearer(token))
    assert response.status_code == 200, await response.get_data(as_text=True)
    return await response.get_json()


async def ok(response) -> dict:
    assert response.status_code == 200, await response.get_data(as_text=True)
    return await response.get_json()


async def status(client, token: str, text: str, settings: Settings) -> str:
    created = await ok(
        await client.post("/api/v1/statuses", json={"status": text}, headers=bearer(token))
    )
    await drain(settings)  # the fan-out
    return created["id"]


def flags(timeline: list[dict], post_id: str) -> tuple[bool, bool] | None:
    """(favourited, reblogged) of the post's entry in a home page; None if it is not there."""
    for entry in timeline:
        if entry["id"] == post_id:
            return entry["favourited"], entry["reblogged"]
    return None


async def test_a_home_read_of_a_viewer_who_follows_no_big_author_asks_postgres_nothing(
    client, settings, queries
):
    _viewer, viewer_token = await member(settings, "viewer")
    author, author_token = await member(settings, "author")
    await ok(
        await client.post(f"/api/v1/accounts/{author.id}/follow", headers=bearer(viewer_token))
    )
    post_id = await status(client, author_token, "hello", settings)
    first = await home(client, viewer_token)  # fills the viewer's cached state (and the token's)

    queries.clear()
    again = await home(client, viewer_token)

    assert [s["id"] for s in again] == [s["id"] for s in first] == [post_id]
    assert queries == []


async def test_what_a_viewer_does_shows_on_its_next_read(client, settings):
    _viewer, token = await member(settings, "viewer")
    author, author_token = await member(settings, "author")
    await ok(await client.post(f"/api/v1/accounts/{author.id}/follow", headers=bearer(token)))
    post_id = await status(client, author_token, "hello", settings)
    assert flags(await home(client, token), post_id) == (False, False)

    steps = [
        ("favourite", (True, False)),
        ("reblog", (True, True)),
        ("unfavourite", (False, True)),
        ("unreblog", (False, False)),
    ]
    for action, expected in steps:
        await ok(await client.post(f"/api/v1/statuses/{post_id}/{action}", headers=bearer(token)))
        await drain(settings)
        assert flags(await home(client, token), post_id) == expected, action

    await ok(await client.post(f"/api/v1/accounts/{author.id}/mute", headers=bearer(token)))
    assert flags(await home(client, token), post_id) is None, "a muted author's post shows"


async def test_a_like_shows_whether_the_page_was_cached_whole_or_partly(client, settings):
    """A like drops the post's snapshot (its count moved): the next read fills it and reads the
    viewer's state on its own; the read after that takes the state with the cached snapshots,
    in one call (services/postcache). Both must agree, for the liked post and its neighbour."""
    _viewer, token = await member(settings, "viewer")
    author, author_token = await member(settings, "author")
    await ok(await client.post(f"/api/v1/accounts/{author.id}/follow", headers=bearer(token)))
    older = await status(client, author_token, "older", settings)
    liked = await status(client, author_token, "liked", settings)
    await home(client, token)  # every snapshot cached
    await ok(await client.post(f"/api/v1/statuses/{liked}/favourite", headers=bearer(token)))

    refilled = await home(client, token)
    cached = await home(client, token)

    for page in (refilled, cached):
        assert flags(page, liked) == (True, False)
        assert flags(page, older) == (False, False)
        assert next(s for s in page if s["id"] == liked)["favourites_count"] == 1


async def test_a_boost_of_a_muted_or_blocked_authors_post_goes_at_the_next_read(client, settings):
    """The mute and the block take nothing out of the timeline (the boost is someone else's):
    the viewer's state hides it, so the cached one must change with them."""
    _viewer, token = await member(settings, "viewer")
    booster, booster_token = await member(settings, "booster")
    author, author_token = await member(settings, "author")
    await ok(await client.post(f"/api/v1/accounts/{booster.id}/follow", headers=bearer(token)))
    post_id = await status(client, author_token, "boost me", settings)
    boost = await ok(
        await client.post(f"/api/v1/statuses/{post_id}/reblog", headers=bearer(booster_token))
    )
    await drain(settings)
    assert [s["id"] for s in await home(client, token)] == [boost["id"]]

    await ok(await client.post(f"/api/v1/accounts/{author.id}/mute", headers=bearer(token)))
    assert await home(client, token) == []
    await ok(await client.post(f"/api/v1/accounts/{author.id}/unmute", headers=bearer(token)))
    assert [s["id"] for s in await home(client, token)] == [boost["id"]]
    await ok(await client.post(f"/api/v1/accounts/{author.id}/block", headers=bearer(token)))
    assert await home(client, token) == []
    await ok(await client.post(f"/api/v1/accounts/{author.id}/unblock", headers=bearer(token)))
    assert [s["id"] for s in await home(client, token)] == [boost["id"]]


async def test_a_remote_block_hides_boosts_of_the_blockers_posts_at_the_next_read(
    peer_client, fed, fediverse, settings
):
    """rob (remote) blocks the viewer: sam's boost of rob's post, in the viewer's home
    because the viewer follows sam, goes at the viewer's next read."""
    viewer, token = await member(settings, "viewer")
    server = fediverse.server("remote.example")
    rob, sam = server.actor("rob"), server.actor("sam")
    hello = create_note(sam, f"{sam.id}/statuses/1", "<p>hello</p>", [viewer.uri])
    assert (await post(peer_client, sam, hello)).status_code == 202  # sam is known here now
    note = create_note(rob, f"{rob.id}/statuses/1", "<p>from afar</p>", [viewer.uri])
    assert (await post(peer_client, rob, note)).status_code == 202
    await apply_all(fed)
    sam_account = await Account.get(uri=sam.id)
    await Follow.create(follower=viewer, followee=sam_account, state=FollowState.ACCEPTED)
    announce = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{sam.id}/statuses/2/activity",
        "type": "Announce",
        "actor": sam.id,
        "object": note["object"]["id"],
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [f"{sam.id}/followers"],
    }
    assert (await post(peer_client, sam, announce)).status_code == 202
    await apply_all(fed)
    await drain(settings)  # the boost's fan-out
    boost = await Post.get(uri=announce["id"])
    sams = await Post.get(uri=hello["object"]["id"])
    assert [s["id"] for s in await home(peer_client, token)] == [str(boost.id), str(sams.id)]

    block = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{rob.id}#blocks/1",
        "type": "Block",
        "actor": rob.id,
        "object": viewer.uri,
    }
    assert (await post(peer_client, rob, block)).status_code == 202
    await apply_all(fed)

    assert [s["id"] for s in await home(peer_client, token)] == [str(sams.id)]


async def test_an_author_crossing_the_fan_out_limit_is_merged_at_its_followers_next_read(
    settings, backends
):
    """Under the limit the author's posts are pushed, so a read merges nothing; over it, they
    are merged on read, and the cached list of the viewer's big authors must say so."""
    tuned = settings.model_copy(update={"timeline": TimelineSettings(fanout_max_followers=1)})
    client = create_app(tuned, dataclasses.replace(backends, settings=tuned)).test_client()
    _viewer, token = await member(tuned, "viewer")
    _fan, fan_token = await member(tuned, "fan")
    author, author_token = await member(tuned, "author")
    await ok(await client.post(f"/api/v1/accounts/{author.id}/follow", headers=bearer(token)))
    pushed = await status(client, author_token, "one follower", tuned)
    assert [s["id"] for s in await home(client, token)] == [pushed]

    await ok(await client.post(f"/api/v1/accounts/{author.id}/follow", headers=bearer(fan_token)))
    merged = await status(client, author_token, "two followers", tuned)

    assert [s["id"] for s in await home(client, token)] == [merged, pushed]


async def test_a_fill_that_a_write_overtook_is_not_kept(client, settings, backends):
    viewer, token = await member(settings, "viewer")
    author, author_token = await member(settings, "author")
    await ok(await client.post(f"/api/v1/accounts/{author.id}/follow", headers=bearer(token)))
    post_id = await status(client, author_token, "hello", settings)
    redis = backends.redis
    before = await redis.get(viewer_cache.version_key(viewer.id))

    # A read that took the version, then a like that committed and bumped it, then the read's
    # fill: it must not be cached (its query may predate the like).
    await ok(await client.post(f"/api/v1/statuses/{post_id}/favourite", headers=bearer(token)))
    await viewer_cache.fill(redis, viewer.id, before)

    assert not await redis.exists(viewer_cache.state_key(viewer.id))
    assert flags(await home(client, token), post_id) == (True, False)
    assert await redis.exists(viewer_cache.state_key(viewer.id)), "the read fills it"
