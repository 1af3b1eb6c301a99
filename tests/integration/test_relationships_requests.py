"""Locked accounts: follow requests, ``/api/v1/follow_requests`` and authorize / reject."""

from __future__ import annotations

import pytest

from models.accounts import Account
from models.notifications import Notification
from models.relationships import Follow, FollowState
from tests.factories import account_of, bearer, make_user, token_for


async def _user(settings, name: str, *, locked: bool = False, scopes: str = "read write follow"):
    user = await make_user(settings, name)
    if locked:
        await Account.filter(id=user.account_id).update(locked=True)
    return await account_of(user), bearer(await token_for(user, scopes))


async def _notifications(recipient: Account) -> list[tuple[str, int]]:
    rows = await Notification.filter(recipient_id=recipient.id).order_by("id")
    return [(n.type, n.actor_id) for n in rows]


@pytest.fixture
async def request_pending(client, settings):
    """alice asked to follow the locked bob."""
    alice, alice_headers = await _user(settings, "alice")
    bob, bob_headers = await _user(settings, "bob", locked=True)
    response = await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice_headers)
    return alice, alice_headers, bob, bob_headers, response


async def test_following_a_locked_account_is_a_request(request_pending):
    *_, response = request_pending

    rel = await response.get_json()
    assert (rel["following"], rel["requested"]) == (False, True)


async def test_a_request_notifies_follow_request_and_counts_nothing(request_pending):
    alice, _, bob, _, _ = request_pending

    assert await _notifications(bob) == [("follow_request", alice.id)]
    assert (await Account.get(id=bob.id)).followers_count == 0
    assert (await Account.get(id=alice.id)).following_count == 0


async def test_the_requested_account_sees_requested_by(client, request_pending):
    alice, _, _, bob_headers, _ = request_pending

    response = await client.get(
        f"/api/v1/accounts/relationships?id[]={alice.id}", headers=bob_headers
    )

    [rel] = await response.get_json()
    assert (rel["requested_by"], rel["followed_by"]) == (True, False)


async def test_follow_requests_lists_the_requesting_accounts(client, request_pending):
    alice, _, _, bob_headers, _ = request_pending

    response = await client.get("/api/v1/follow_requests", headers=bob_headers)

    assert response.status_code == 200
    assert [a["id"] for a in await response.get_json()] == [str(alice.id)]


async def test_authorize_makes_a_follow_with_counts_and_a_follow_notification(
    client, request_pending
):
    alice, _, bob, bob_headers, _ = request_pending

    response = await client.post(
        f"/api/v1/follow_requests/{alice.id}/authorize", headers=bob_headers
    )

    assert response.status_code == 200
    rel = await response.get_json()
    assert (rel["id"], rel["followed_by"], rel["requested_by"]) == (str(alice.id), True, False)
    follow = await Follow.get(follower_id=alice.id, followee_id=bob.id)
    assert follow.state == FollowState.ACCEPTED
    assert await _notifications(bob) == [("follow", alice.id)]
    bob_entity = await (await client.get(f"/api/v1/accounts/{bob.id}")).get_json()
    assert bob_entity["followers_count"] == 1


async def test_the_follower_sees_following_after_authorize(client, request_pending):
    alice, alice_headers, bob, bob_headers, _ = request_pending
    await client.post(f"/api/v1/follow_requests/{alice.id}/authorize", headers=bob_headers)

    response = await client.get(
        f"/api/v1/accounts/relationships?id={bob.id}", headers=alice_headers
    )

    [rel] = await response.get_json()
    assert (rel["following"], rel["requested"]) == (True, False)


async def test_reject_leaves_nothing(client, request_pending):
    alice, _alice_headers, bob, bob_headers, _ = request_pending

    response = await client.post(f"/api/v1/follow_requests/{alice.id}/reject", headers=bob_headers)

    assert response.status_code == 200
    rel = await response.get_json()
    assert (rel["followed_by"], rel["requested_by"]) == (False, False)
    assert not await Follow.exists()
    assert await _notifications(bob) == []
    assert (await Account.get(id=bob.id)).followers_count == 0


async def test_withdrawing_a_request_takes_back_its_notification(client, request_pending):
    _, alice_headers, bob, _, _ = request_pending

    response = await client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=alice_headers)

    assert (await response.get_json())["requested"] is False
    assert not await Follow.exists()
    assert await _notifications(bob) == []


@pytest.mark.parametrize("action", ["authorize", "reject"])
async def test_answering_a_request_that_does_not_exist_is_404(client, settings, action):
    alice, _ = await _user(settings, "alice")
    _, bob_headers = await _user(settings, "bob", locked=True)

    response = await client.post(
        f"/api/v1/follow_requests/{alice.id}/{action}", headers=bob_headers
    )

    assert response.status_code == 404


@pytest.mark.parametrize("action", ["authorize", "reject"])
async def test_answering_a_request_needs_write_follows(client, request_pending, settings, action):
    alice, *_ = request_pending
    user = await make_user(settings, "carol")
    headers = bearer(await token_for(user, "read"))

    response = await client.post(f"/api/v1/follow_requests/{alice.id}/{action}", headers=headers)

    assert response.status_code == 403


async def test_follow_requests_needs_a_token(client):
    response = await client.get("/api/v1/follow_requests")

    assert response.status_code == 401


@pytest.mark.parametrize("raw", ["abc", "0", "1.5"])
async def test_answering_a_malformed_id_is_404(client, request_pending, raw):
    *_, bob_headers, _ = request_pending

    response = await client.post(f"/api/v1/follow_requests/{raw}/authorize", headers=bob_headers)

    assert response.status_code == 404
