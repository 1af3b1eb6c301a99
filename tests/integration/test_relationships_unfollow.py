"""Unfollowing: counts go back, the author leaves the home timeline, the notification goes."""

from __future__ import annotations

from models.accounts import Account
from models.notifications import Notification
from models.relationships import Follow
from services import timelines
from tests.factories import account_of, bearer, make_post, make_user, token_for


async def _user(settings, name: str, scopes: str = "read write follow"):
    user = await make_user(settings, name)
    return await account_of(user), bearer(await token_for(user, scopes))


async def _timeline(redis, account: Account) -> list[int]:
    return [int(m) for m in await redis.zrange(timelines.home_key(account.id), 1, -1)]


async def test_unfollow_puts_both_counts_back(client, settings):
    alice, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers)

    response = await client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=headers)

    assert response.status_code == 200
    assert (await response.get_json())["following"] is False
    bob_entity = await (await client.get(f"/api/v1/accounts/{bob.id}")).get_json()
    alice_entity = await (await client.get(f"/api/v1/accounts/{alice.id}")).get_json()
    assert (bob_entity["followers_count"], alice_entity["following_count"]) == (0, 0)
    assert not await Follow.exists()


async def test_unfollow_removes_the_authors_posts_from_the_home_timeline(
    client, settings, backends
):
    alice, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers)
    post = await make_post(bob, "from bob")
    own = await make_post(alice, "from alice")
    await timelines.rebuild(backends.redis, settings, alice.id)
    assert set(await _timeline(backends.redis, alice)) == {post.id, own.id}

    await client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=headers)

    assert await _timeline(backends.redis, alice) == [own.id]


async def test_follow_merges_the_authors_posts_into_an_existing_timeline(
    client, settings, backends
):
    alice, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")
    post = await make_post(bob, "from bob")
    await timelines.rebuild(backends.redis, settings, alice.id)
    assert await _timeline(backends.redis, alice) == []

    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers)

    assert await _timeline(backends.redis, alice) == [post.id]


async def test_unfollow_takes_back_the_follow_notification(client, settings):
    _, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers)

    await client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=headers)

    assert not await Notification.filter(recipient_id=bob.id).exists()


async def test_unfollowing_someone_not_followed_changes_nothing(client, settings):
    alice, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")

    response = await client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=headers)

    assert response.status_code == 200
    assert (await Account.get(id=bob.id)).followers_count == 0
    assert (await Account.get(id=alice.id)).following_count == 0


async def test_unfollow_of_a_malformed_id_is_404(client, settings):
    _, headers = await _user(settings, "alice")

    response = await client.post("/api/v1/accounts/bob/unfollow", headers=headers)

    assert response.status_code == 404
