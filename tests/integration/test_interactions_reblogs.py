"""Reblogs (boosts): ``POST /api/v1/statuses/:id/reblog`` and ``/unreblog``."""

from __future__ import annotations

import asyncio

from models.accounts import Account
from models.notifications import Notification, NotificationType
from models.posts import Post, Visibility
from models.relationships import Follow, FollowState
from services import timelines
from tests.drain import drain
from tests.factories import bearer, make_post, member


async def act(client, token: str, post_id: int | str, action: str = "reblog", **body):
    extra = {"json": body} if body else {}
    return await client.post(f"/api/v1/statuses/{post_id}/{action}", headers=bearer(token), **extra)


async def home(backends, account_id: int) -> set[int]:
    members = await backends.redis.zrange(timelines.home_key(account_id), 0, -1)
    return {int(m) for m in members} - {0}


async def test_reblog_answers_a_wrapper_around_the_original(client, settings):
    alice, _ = await member(settings, "alice")
    bob, bob_token = await member(settings, "bob")
    post = await make_post(alice, "worth sharing")

    response = await act(client, bob_token, post.id)

    assert response.status_code == 200
    wrapper = await response.get_json()
    assert wrapper["id"] != str(post.id)
    assert wrapper["content"] == ""
    assert wrapper["account"]["id"] == str(bob.id)
    assert wrapper["visibility"] == "public"
    assert wrapper["uri"] == f"{settings.base_url}/users/bob/statuses/{wrapper['id']}/activity"
    assert wrapper["reblogged"] is True
    assert wrapper["reblog"]["id"] == str(post.id)
    assert wrapper["reblog"]["account"]["id"] == str(alice.id)
    assert wrapper["reblog"]["content"] == "<p>worth sharing</p>"
    assert wrapper["reblog"]["reblogged"] is True
    assert wrapper["reblog"]["reblogs_count"] == 1


async def test_reblogging_twice_is_one_boost(client, settings):
    alice, _ = await member(settings, "alice")
    _, bob_token = await member(settings, "bob")
    post = await make_post(alice)

    first = await (await act(client, bob_token, post.id)).get_json()
    second = await (await act(client, bob_token, post.id)).get_json()

    assert second["id"] == first["id"]
    assert second["reblog"]["reblogs_count"] == 1
    assert await Post.filter(boost_of_id=post.id).count() == 1
    assert await Notification.filter(recipient_id=alice.id).count() == 1


async def test_reblog_notifies_the_author_about_the_original(client, settings):
    alice, _ = await member(settings, "alice")
    bob, bob_token = await member(settings, "bob")
    post = await make_post(alice)

    await act(client, bob_token, post.id)

    notification = await Notification.get(recipient_id=alice.id)
    assert notification.type == NotificationType.REBLOG
    assert notification.actor_id == bob.id  # type: ignore[attr-defined]
    assert notification.post_id == post.id  # type: ignore[attr-defined]


async def test_reblog_counts_in_the_boosters_statuses_count(client, settings):
    # Mastodon counts reblogs in statuses_count.
    alice, _ = await member(settings, "alice")
    bob, bob_token = await member(settings, "bob")
    post = await make_post(alice)
    before = await client.get(f"/api/v1/accounts/{bob.id}")  # caches bob's account
    assert (await before.get_json())["statuses_count"] == 0

    wrapper = await (await act(client, bob_token, post.id)).get_json()

    assert wrapper["account"]["statuses_count"] == 1
    after = await (await client.get(f"/api/v1/accounts/{bob.id}")).get_json()
    assert after["statuses_count"] == 1


async def test_reblog_of_a_boost_reblogs_the_original(client, settings):
    alice, _ = await member(settings, "alice")
    _, bob_token = await member(settings, "bob")
    _, carol_token = await member(settings, "carol")
    post = await make_post(alice)
    bobs = await (await act(client, bob_token, post.id)).get_json()

    carols = await (await act(client, carol_token, bobs["id"])).get_json()

    assert carols["reblog"]["id"] == str(post.id)
    assert carols["reblog"]["reblogs_count"] == 2


async def test_reblog_takes_the_visibility_asked(client, settings):
    alice, _ = await member(settings, "alice")
    _, bob_token = await member(settings, "bob")
    post = await make_post(alice)

    wrapper = await (await act(client, bob_token, post.id, visibility="unlisted")).get_json()

    assert wrapper["visibility"] == "unlisted"


async def test_reblog_with_an_unknown_or_direct_visibility_is_422(client, settings):
    alice, _ = await member(settings, "alice")
    _, bob_token = await member(settings, "bob")
    post = await make_post(alice)

    for visibility in ("direct", "everyone"):
        response = await act(client, bob_token, post.id, visibility=visibility)
        assert response.status_code == 422, visibility
        assert "error" in await response.get_json()
    assert not await Post.filter(boost_of_id=post.id).exists()


async def test_reblog_of_someone_elses_followers_only_post_is_forbidden(client, settings):
    # Given bob follows alice, so he can see her followers-only post
    alice, _ = await member(settings, "alice")
    bob, bob_token = await member(settings, "bob")
    await Follow.create(follower=bob, followee=alice, state=FollowState.ACCEPTED)
    post = await make_post(alice, visibility=Visibility.FOLLOWERS)

    response = await act(client, bob_token, post.id)

    assert response.status_code == 403
    assert not await Post.filter(boost_of_id=post.id).exists()
    assert not await Notification.exists()


async def test_reblog_of_a_direct_post_is_forbidden_even_to_the_mentioned(client, settings):
    alice, _ = await member(settings, "alice")
    bob, bob_token = await member(settings, "bob")
    post = await make_post(alice, "@bob psst", visibility=Visibility.DIRECT, mentions=[bob])

    response = await act(client, bob_token, post.id)

    assert response.status_code == 403
    assert not await Post.filter(boost_of_id=post.id).exists()


async def test_reblog_of_a_post_you_cannot_see_is_404(client, settings):
    alice, _ = await member(settings, "alice")
    _, bob_token = await member(settings, "bob")
    post = await make_post(alice, visibility=Visibility.FOLLOWERS)

    for action in ("reblog", "unreblog"):
        assert (await act(client, bob_token, post.id, action)).status_code == 404
    for bad in ("987654321", "x1", "-5"):
        assert (await act(client, bob_token, bad)).status_code == 404


async def test_author_may_reblog_own_followers_only_post_which_stays_followers_only(
    client, settings
):
    alice, alice_token = await member(settings, "alice")
    post = await make_post(alice, visibility=Visibility.FOLLOWERS)

    response = await act(client, alice_token, post.id, visibility="public")

    assert response.status_code == 200
    wrapper = await response.get_json()
    assert wrapper["visibility"] == "private"
    assert wrapper["reblog"]["id"] == str(post.id)


async def test_unreblog_answers_the_original_no_longer_reblogged(client, settings):
    alice, _ = await member(settings, "alice")
    bob, bob_token = await member(settings, "bob")
    post = await make_post(alice)
    await act(client, bob_token, post.id)

    response = await act(client, bob_token, post.id, "unreblog")

    assert response.status_code == 200
    status = await response.get_json()
    assert status["id"] == str(post.id)
    assert status["reblog"] is None
    assert status["reblogged"] is False
    assert status["reblogs_count"] == 0
    assert not await Post.filter(boost_of_id=post.id).exists()
    assert (await Account.get(id=bob.id)).posts_count == 0


async def test_unreblog_takes_the_reblog_notification_back(client, settings):
    # Mastodon destroys a reblog's notification with the reblog.
    alice, _ = await member(settings, "alice")
    _, bob_token = await member(settings, "bob")
    post = await make_post(alice)
    await act(client, bob_token, post.id)

    await act(client, bob_token, post.id, "unreblog")

    assert not await Notification.exists()


async def test_unreblog_without_a_boost_changes_nothing(client, settings):
    alice, _ = await member(settings, "alice")
    _, bob_token = await member(settings, "bob")
    _, carol_token = await member(settings, "carol")
    post = await make_post(alice)
    await act(client, carol_token, post.id)

    response = await act(client, bob_token, post.id, "unreblog")

    assert response.status_code == 200
    assert (await response.get_json())["reblogs_count"] == 1


async def test_boost_reaches_followers_home_timelines_and_unreblog_takes_it_out(
    client, settings, backends
):
    # Given dave follows bob and has a home timeline
    alice, _ = await member(settings, "alice")
    bob, bob_token = await member(settings, "bob")
    dave, _ = await member(settings, "dave")
    await Follow.create(follower=dave, followee=bob, state=FollowState.ACCEPTED)
    await timelines.rebuild(backends.redis, settings, dave.id)
    post = await make_post(alice)

    # When bob boosts alice's post and the fan-out runs
    wrapper = await (await act(client, bob_token, post.id)).get_json()
    await drain(settings)

    # Then the boost is in dave's home timeline (and bob's)
    boost_id = int(wrapper["id"])
    assert boost_id in await home(backends, dave.id)

    # When bob unreblogs, it leaves both
    await act(client, bob_token, post.id, "unreblog")
    assert boost_id not in await home(backends, dave.id)
    assert boost_id not in await home(backends, bob.id)


async def test_concurrent_reblogs_make_one_boost(client, settings):
    alice, _ = await member(settings, "alice")
    bob, bob_token = await member(settings, "bob")
    post = await make_post(alice)

    responses = await asyncio.gather(*(act(client, bob_token, post.id) for _ in range(5)))

    assert [r.status_code for r in responses] == [200] * 5
    assert len({(await r.get_json())["id"] for r in responses}) == 1
    assert (await Post.get(id=post.id)).boosts_count == 1
    assert (await Account.get(id=bob.id)).posts_count == 1
