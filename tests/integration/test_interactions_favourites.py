"""Favourites: ``POST /api/v1/statuses/:id/favourite`` and ``/unfavourite``."""

from __future__ import annotations

import asyncio

from models.notifications import Notification, NotificationType
from models.posts import Post, Visibility
from models.relationships import Block, Follow, FollowState, Like, Mute
from services.statuses import hydrate
from tests.factories import bearer, make_post, member
from web.api.entities import render_status


async def favourite(client, token: str, post_id: int, action: str = "favourite"):
    return await client.post(f"/api/v1/statuses/{post_id}/{action}", headers=bearer(token))


async def seen_by(backends, settings, viewer_id: int, post_id: int) -> dict:
    """What a client reading the post as ``viewer_id`` gets (the same path GET uses)."""
    hydrated = await hydrate(backends.redis, viewer_id, [post_id])
    return render_status(hydrated.posts[0], hydrated, settings)


async def test_favourite_answers_the_status_favourited_with_one_favourite(client, settings):
    alice, _ = await member(settings, "alice")
    _, bob_token = await member(settings, "bob")
    post = await make_post(alice, "like me")

    response = await favourite(client, bob_token, post.id)

    assert response.status_code == 200
    status = await response.get_json()
    assert status["id"] == str(post.id)
    assert status["favourited"] is True
    assert status["favourites_count"] == 1


async def test_favourite_shows_in_other_viewers_reads_at_once(client, settings, backends):
    # Given carol has already read the post (its snapshot is cached)
    alice, _ = await member(settings, "alice")
    _, bob_token = await member(settings, "bob")
    carol, _ = await member(settings, "carol")
    post = await make_post(alice)
    assert (await seen_by(backends, settings, carol.id, post.id))["favourites_count"] == 0

    # When bob favourites it
    await favourite(client, bob_token, post.id)

    # Then carol's next read shows the new count, and not as her own favourite
    status = await seen_by(backends, settings, carol.id, post.id)
    assert status["favourites_count"] == 1
    assert status["favourited"] is False


async def test_favouriting_twice_is_one_like_and_one_notification(client, settings):
    alice, _ = await member(settings, "alice")
    bob, bob_token = await member(settings, "bob")
    post = await make_post(alice)

    await favourite(client, bob_token, post.id)
    second = await favourite(client, bob_token, post.id)

    assert second.status_code == 200
    assert (await second.get_json())["favourites_count"] == 1
    assert await Like.filter(post_id=post.id).count() == 1
    assert await Notification.filter(recipient_id=alice.id, actor_id=bob.id).count() == 1


async def test_unfavourite_answers_favourited_false_with_zero_favourites(client, settings):
    alice, _ = await member(settings, "alice")
    _, bob_token = await member(settings, "bob")
    post = await make_post(alice)
    await favourite(client, bob_token, post.id)

    response = await favourite(client, bob_token, post.id, "unfavourite")

    assert response.status_code == 200
    status = await response.get_json()
    assert status["favourited"] is False
    assert status["favourites_count"] == 0
    assert not await Like.filter(post_id=post.id).exists()


async def test_unfavourite_takes_the_favourite_notification_back(client, settings):
    # Mastodon destroys a favourite's notification with the favourite.
    alice, _ = await member(settings, "alice")
    _, bob_token = await member(settings, "bob")
    post = await make_post(alice)
    await favourite(client, bob_token, post.id)

    await favourite(client, bob_token, post.id, "unfavourite")

    assert not await Notification.filter(recipient_id=alice.id).exists()


async def test_unfavourite_of_a_post_never_liked_changes_nothing(client, settings):
    alice, _ = await member(settings, "alice")
    _, bob_token = await member(settings, "bob")
    _, carol_token = await member(settings, "carol")
    post = await make_post(alice)
    await favourite(client, carol_token, post.id)

    response = await favourite(client, bob_token, post.id, "unfavourite")

    assert response.status_code == 200
    assert (await response.get_json())["favourites_count"] == 1


async def test_favourite_of_a_followers_only_post_you_cannot_see_is_404(client, settings):
    alice, _ = await member(settings, "alice")
    _, bob_token = await member(settings, "bob")
    post = await make_post(alice, visibility=Visibility.FOLLOWERS)

    response = await favourite(client, bob_token, post.id)

    assert response.status_code == 404
    assert not await Like.exists()


async def test_follower_may_favourite_a_followers_only_post(client, settings):
    alice, _ = await member(settings, "alice")
    bob, bob_token = await member(settings, "bob")
    await Follow.create(follower=bob, followee=alice, state=FollowState.ACCEPTED)
    post = await make_post(alice, visibility=Visibility.FOLLOWERS)

    response = await favourite(client, bob_token, post.id)

    assert response.status_code == 200
    assert (await response.get_json())["visibility"] == "private"


async def test_favourite_of_unknown_or_malformed_ids_is_404(client, settings):
    _, bob_token = await member(settings, "bob")

    for bad in ("123456789", "abc", "-1", "0", "99999999999999999999"):
        for action in ("favourite", "unfavourite"):
            response = await client.post(
                f"/api/v1/statuses/{bad}/{action}", headers=bearer(bob_token)
            )
            assert response.status_code == 404, (bad, action)
            assert "error" in await response.get_json()


async def test_favourite_notifies_the_author(client, settings):
    alice, _ = await member(settings, "alice")
    bob, bob_token = await member(settings, "bob")
    post = await make_post(alice)

    await favourite(client, bob_token, post.id)

    notification = await Notification.get(recipient_id=alice.id)
    assert notification.type == NotificationType.FAVOURITE
    assert notification.actor_id == bob.id  # type: ignore[attr-defined]
    assert notification.post_id == post.id  # type: ignore[attr-defined]


async def test_favouriting_your_own_post_notifies_nobody(client, settings):
    alice, alice_token = await member(settings, "alice")
    post = await make_post(alice)

    response = await favourite(client, alice_token, post.id)

    assert (await response.get_json())["favourited"] is True
    assert not await Notification.exists()


async def test_favourite_from_an_account_the_author_mutes_notifies_nobody(client, settings):
    alice, _ = await member(settings, "alice")
    bob, bob_token = await member(settings, "bob")
    await Mute.create(account=alice, target=bob, hide_notifications=True)
    post = await make_post(alice)

    response = await favourite(client, bob_token, post.id)

    assert (await response.get_json())["favourites_count"] == 1
    assert not await Notification.exists()


async def test_account_the_author_blocks_cannot_favourite_nor_notify(client, settings):
    alice, _ = await member(settings, "alice")
    bob, bob_token = await member(settings, "bob")
    await Block.create(account=alice, target=bob)
    post = await make_post(alice)

    response = await favourite(client, bob_token, post.id)

    assert response.status_code == 404
    assert not await Like.exists()
    assert not await Notification.exists()


async def test_favouriting_a_boost_favourites_the_original(client, settings):
    # Given carol boosted alice's post
    alice, _ = await member(settings, "alice")
    _, bob_token = await member(settings, "bob")
    _, carol_token = await member(settings, "carol")
    post = await make_post(alice)
    wrapper = await (await favourite(client, carol_token, post.id, "reblog")).get_json()

    # When bob favourites the boost
    response = await favourite(client, bob_token, int(wrapper["id"]))

    # Then the original has the like, and the wrapper says so
    status = await response.get_json()
    assert status["id"] == wrapper["id"]
    assert status["favourited"] is True
    assert status["reblog"]["favourites_count"] == 1
    assert await Like.filter(post_id=post.id).count() == 1


async def test_concurrent_favourites_make_one_like(client, settings):
    alice, _ = await member(settings, "alice")
    _, bob_token = await member(settings, "bob")
    post = await make_post(alice)

    responses = await asyncio.gather(*(favourite(client, bob_token, post.id) for _ in range(5)))

    assert [r.status_code for r in responses] == [200] * 5
    assert await Like.filter(post_id=post.id).count() == 1
    assert (await Post.get(id=post.id)).likes_count == 1
    assert await Notification.filter(recipient_id=alice.id).count() == 1
