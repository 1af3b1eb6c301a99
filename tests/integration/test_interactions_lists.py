"""Who favourited or reblogged a status (``GET /api/v1/statuses/:id/favourited_by`` and
``/reblogged_by``), and the tokens and scopes the interaction endpoints require."""

from __future__ import annotations

import re

from models.accounts import Account
from models.posts import Visibility
from models.relationships import Block, Like
from tests.factories import bearer, make_post, member

NEXT = re.compile(r'<([^>]+)>; rel="next"')


async def crowd(client, settings, post_id: int, action: str, names: list[str]) -> None:
    """Each named member favourites or reblogs the post, in order."""
    for name in names:
        _, token = await member(settings, name)
        response = await client.post(f"/api/v1/statuses/{post_id}/{action}", headers=bearer(token))
        assert response.status_code == 200


def next_path(response, settings) -> str:
    match = NEXT.search(response.headers["Link"])
    assert match is not None, response.headers["Link"]
    return match.group(1).removeprefix(settings.base_url)


async def usernames(response) -> list[str]:
    return [account["username"] for account in await response.get_json()]


async def test_favourited_by_pages_likers_newest_first_following_the_link(client, settings):
    alice, _ = await member(settings, "alice")
    post = await make_post(alice)
    await crowd(client, settings, post.id, "favourite", ["bob", "carol", "dave"])

    first = await client.get(f"/api/v1/statuses/{post.id}/favourited_by?limit=2")
    assert first.status_code == 200
    assert await usernames(first) == ["dave", "carol"]

    second = await client.get(next_path(first, settings))
    assert second.status_code == 200
    assert await usernames(second) == ["bob"]


async def test_favourited_by_link_pages_by_like_ids(client, settings):
    # Mastodon's Link headers carry the favourite ids, not the account ids.
    alice, _ = await member(settings, "alice")
    post = await make_post(alice)
    await crowd(client, settings, post.id, "favourite", ["bob", "carol"])
    like_ids = [like.id for like in await Like.filter(post_id=post.id).order_by("-id")]

    response = await client.get(f"/api/v1/statuses/{post.id}/favourited_by")

    assert f"max_id={like_ids[-1]}" in response.headers["Link"]
    assert f"min_id={like_ids[0]}" in response.headers["Link"]


async def test_reblogged_by_pages_boosters_newest_first_following_the_link(client, settings):
    alice, _ = await member(settings, "alice")
    post = await make_post(alice)
    await crowd(client, settings, post.id, "reblog", ["bob", "carol", "dave"])

    first = await client.get(f"/api/v1/statuses/{post.id}/reblogged_by?limit=2")
    assert first.status_code == 200
    assert await usernames(first) == ["dave", "carol"]

    second = await client.get(next_path(first, settings))
    assert await usernames(second) == ["bob"]


async def test_reblogged_by_leaves_out_followers_only_self_boosts(client, settings):
    alice, alice_token = await member(settings, "alice")
    post = await make_post(alice, visibility=Visibility.FOLLOWERS)
    await client.post(f"/api/v1/statuses/{post.id}/reblog", headers=bearer(alice_token))

    response = await client.get(
        f"/api/v1/statuses/{post.id}/reblogged_by", headers=bearer(alice_token)
    )

    assert response.status_code == 200
    assert await response.get_json() == []


async def test_favourited_by_leaves_out_accounts_the_viewer_blocks(client, settings):
    alice, _ = await member(settings, "alice")
    erin, erin_token = await member(settings, "erin")
    post = await make_post(alice)
    await crowd(client, settings, post.id, "favourite", ["bob", "carol"])
    await Block.create(account=erin, target=await Account.get(username="bob"))

    response = await client.get(
        f"/api/v1/statuses/{post.id}/favourited_by", headers=bearer(erin_token)
    )

    assert await usernames(response) == ["carol"]


async def test_who_favourited_a_post_you_cannot_see_is_404(client, settings):
    alice, _ = await member(settings, "alice")
    _, bob_token = await member(settings, "bob")
    post = await make_post(alice, visibility=Visibility.FOLLOWERS)

    for listing in ("favourited_by", "reblogged_by"):
        anonymous = await client.get(f"/api/v1/statuses/{post.id}/{listing}")
        stranger = await client.get(
            f"/api/v1/statuses/{post.id}/{listing}", headers=bearer(bob_token)
        )
        assert anonymous.status_code == 404
        assert stranger.status_code == 404
    assert (await client.get("/api/v1/statuses/nope/favourited_by")).status_code == 404
    assert (await client.get("/api/v1/statuses/123/reblogged_by")).status_code == 404


async def test_favourite_and_reblog_without_a_token_are_401(client, settings):
    alice, _ = await member(settings, "alice")
    post = await make_post(alice)

    for action in ("favourite", "unfavourite", "reblog", "unreblog"):
        response = await client.post(f"/api/v1/statuses/{post.id}/{action}")
        assert response.status_code == 401, action
        assert "error" in await response.get_json()


async def test_favourite_needs_write_favourites_and_reblog_write_statuses(client, settings):
    alice, _ = await member(settings, "alice")
    _, read_only = await member(settings, "bob", "read")
    _, favourites_only = await member(settings, "carol", "write:favourites")
    post = await make_post(alice)

    for action in ("favourite", "unfavourite", "reblog", "unreblog"):
        response = await client.post(
            f"/api/v1/statuses/{post.id}/{action}", headers=bearer(read_only)
        )
        assert response.status_code == 403, action
    reblog = await client.post(
        f"/api/v1/statuses/{post.id}/reblog", headers=bearer(favourites_only)
    )
    assert reblog.status_code == 403
    favourite = await client.post(
        f"/api/v1/statuses/{post.id}/favourite", headers=bearer(favourites_only)
    )
    assert favourite.status_code == 200


async def test_listing_with_a_token_that_cannot_read_is_403(client, settings):
    alice, _ = await member(settings, "alice")
    _, write_only = await member(settings, "bob", "write")
    post = await make_post(alice)

    response = await client.get(
        f"/api/v1/statuses/{post.id}/favourited_by", headers=bearer(write_only)
    )

    assert response.status_code == 403
