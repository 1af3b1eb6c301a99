"""Following through ``POST /api/v1/accounts/:id/follow``: relationship, counts, notifications."""

from __future__ import annotations

import asyncio

import pytest

from models.accounts import Account
from models.federation import Delivery
from models.notifications import Notification
from models.relationships import Block, Follow
from tests.factories import account_of, bearer, make_remote_account, make_user, token_for


async def _user(settings, name: str, scopes: str = "read write follow"):
    user = await make_user(settings, name)
    return await account_of(user), bearer(await token_for(user, scopes))


async def test_follow_answers_a_relationship_with_following_true(client, settings):
    _alice, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")

    response = await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers)

    assert response.status_code == 200
    rel = await response.get_json()
    assert rel["id"] == str(bob.id)
    assert rel["following"] is True
    assert rel["requested"] is False
    assert rel["showing_reblogs"] is True
    assert rel["notifying"] is False
    assert rel["followed_by"] is False


async def test_follow_counts_show_on_both_accounts_at_once(client, settings):
    alice, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")
    # Given both accounts were read (and cached) before the follow
    await client.get(f"/api/v1/accounts/{alice.id}")
    await client.get(f"/api/v1/accounts/{bob.id}")

    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers)

    bob_entity = await (await client.get(f"/api/v1/accounts/{bob.id}")).get_json()
    alice_entity = await (await client.get(f"/api/v1/accounts/{alice.id}")).get_json()
    assert bob_entity["followers_count"] == 1
    assert alice_entity["following_count"] == 1


async def test_following_twice_is_one_follow(client, settings):
    alice, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")

    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers)
    again = await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers)

    assert again.status_code == 200
    assert (await again.get_json())["following"] is True
    assert await Follow.filter(follower_id=alice.id, followee_id=bob.id).count() == 1
    assert (await Account.get(id=bob.id)).followers_count == 1
    assert await Notification.filter(recipient_id=bob.id).count() == 1


async def test_follows_sent_at_once_count_once(client, settings):
    alice, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")

    responses = await asyncio.gather(
        *(client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers) for _ in range(4))
    )

    assert [r.status_code for r in responses] == [200] * 4
    assert await Follow.filter(follower_id=alice.id, followee_id=bob.id).count() == 1
    assert (await Account.get(id=bob.id)).followers_count == 1
    assert (await Account.get(id=alice.id)).following_count == 1


async def test_following_again_changes_reblogs_and_notify(client, settings):
    _alice, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers)

    response = await client.post(
        f"/api/v1/accounts/{bob.id}/follow",
        headers=headers,
        json={"reblogs": False, "notify": True},
    )

    rel = await response.get_json()
    assert rel["showing_reblogs"] is False
    assert rel["notifying"] is True


async def test_follow_tells_the_followee(client, settings):
    alice, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")

    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers)

    notification = await Notification.get(recipient_id=bob.id)
    assert (notification.type, notification.actor_id) == ("follow", alice.id)


async def test_following_yourself_is_forbidden_and_tells_nobody(client, settings):
    alice, headers = await _user(settings, "alice")

    response = await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=headers)

    assert response.status_code == 403
    assert (await response.get_json())["error"] == "Following your own account is not allowed"
    assert not await Follow.exists()
    assert not await Notification.exists()


@pytest.mark.parametrize("who_blocks", ["follower", "followee"])
async def test_following_across_a_block_is_forbidden(client, settings, who_blocks):
    alice, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")
    blocker, blocked = (alice, bob) if who_blocks == "follower" else (bob, alice)
    await Block.create(account=blocker, target=blocked)

    response = await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers)

    assert response.status_code == 403
    assert not await Follow.exists()


async def test_following_a_remote_account_is_a_request_delivered_as_a_follow(client, settings):
    alice, headers = await _user(settings, "alice")
    remote = await make_remote_account()

    response = await client.post(f"/api/v1/accounts/{remote.id}/follow", headers=headers)

    # Then it waits for the remote server's Accept, and a Follow is queued for its inbox
    assert response.status_code == 200
    rel = await response.get_json()
    assert (rel["following"], rel["requested"]) == (False, True)
    follow = await Follow.get(follower_id=alice.id, followee_id=remote.id)
    delivery = await Delivery.get(activity_id=follow.uri)
    assert delivery.inbox == "https://remote.example/inbox"
    assert delivery.payload["type"] == "Follow"
    assert delivery.payload["actor"] == alice.uri
    assert delivery.payload["object"] == remote.uri
    assert (await Account.get(id=remote.id)).followers_count == 0


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "99999999999999999999", "123456789"])
async def test_follow_of_an_unknown_or_malformed_id_is_404(client, settings, raw):
    _, headers = await _user(settings, "alice")

    response = await client.post(f"/api/v1/accounts/{raw}/follow", headers=headers)

    assert response.status_code == 404


async def test_follow_without_a_token_is_401(client, settings):
    bob, _ = await _user(settings, "bob")

    response = await client.post(f"/api/v1/accounts/{bob.id}/follow")

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("path", "scopes"),
    [
        ("follow", "read write:blocks"),
        ("unfollow", "read"),
        ("block", "write:follows"),
        ("unblock", "read:blocks"),
        ("mute", "write:blocks"),
        ("unmute", "read:mutes"),
    ],
)
async def test_actions_need_their_write_scope(client, settings, path, scopes):
    _, headers = await _user(settings, "alice", scopes)
    bob, _ = await _user(settings, "bob")

    response = await client.post(f"/api/v1/accounts/{bob.id}/{path}", headers=headers)

    assert response.status_code == 403


@pytest.mark.parametrize("scopes", ["write:follows", "write", "follow"])
async def test_follow_accepts_the_scopes_mastodon_accepts(client, settings, scopes):
    _, headers = await _user(settings, "alice", scopes)
    bob, _ = await _user(settings, "bob")

    response = await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers)

    assert response.status_code == 200
