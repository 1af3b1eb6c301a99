"""Blocking: no follows either way, no posts either way, listed in ``/api/v1/blocks``."""

from __future__ import annotations

from models.accounts import Account
from models.relationships import Block, Follow, FollowState
from services import timelines
from services.statuses import hydrate
from tests.factories import account_of, bearer, make_post, make_user, token_for


async def _user(settings, name: str, *, locked: bool = False, scopes: str = "read write follow"):
    user = await make_user(settings, name)
    if locked:
        await Account.filter(id=user.account_id).update(locked=True)
    return await account_of(user), bearer(await token_for(user, scopes))


async def _timeline(redis, account: Account) -> list[int]:
    return [int(m) for m in await redis.zrange(timelines.home_key(account.id), 1, -1)]


async def test_block_answers_blocking_and_the_other_sees_blocked_by(client, settings):
    alice, alice_headers = await _user(settings, "alice")
    bob, bob_headers = await _user(settings, "bob")

    response = await client.post(f"/api/v1/accounts/{bob.id}/block", headers=alice_headers)

    assert response.status_code == 200
    assert (await response.get_json())["blocking"] is True
    seen = await client.get(f"/api/v1/accounts/relationships?id={alice.id}", headers=bob_headers)
    [rel] = await seen.get_json()
    assert (rel["blocked_by"], rel["blocking"]) == (True, False)


async def test_block_removes_follows_both_ways_with_their_counts(client, settings):
    alice, alice_headers = await _user(settings, "alice")
    bob, bob_headers = await _user(settings, "bob")
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice_headers)
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob_headers)

    response = await client.post(f"/api/v1/accounts/{bob.id}/block", headers=alice_headers)

    rel = await response.get_json()
    assert (rel["following"], rel["followed_by"]) == (False, False)
    assert not await Follow.exists()
    for account in (alice, bob):
        entity = await (await client.get(f"/api/v1/accounts/{account.id}")).get_json()
        assert (entity["followers_count"], entity["following_count"]) == (0, 0)


async def test_block_removes_pending_requests_both_ways(client, settings):
    alice, alice_headers = await _user(settings, "alice", locked=True)
    bob, bob_headers = await _user(settings, "bob", locked=True)
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice_headers)
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob_headers)
    assert await Follow.filter(state=FollowState.PENDING).count() == 2

    await client.post(f"/api/v1/accounts/{bob.id}/block", headers=alice_headers)

    assert not await Follow.exists()
    requests = await client.get("/api/v1/follow_requests", headers=alice_headers)
    assert await requests.get_json() == []


async def test_block_hides_each_others_posts(client, settings, backends):
    alice, alice_headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")
    by_alice, by_bob = await make_post(alice, "a"), await make_post(bob, "b")

    await client.post(f"/api/v1/accounts/{bob.id}/block", headers=alice_headers)

    seen_by_alice = await hydrate(backends.redis, alice.id, [by_bob.id])
    seen_by_bob = await hydrate(backends.redis, bob.id, [by_alice.id])
    assert (seen_by_alice.posts, seen_by_bob.posts) == ([], [])


async def test_block_removes_each_from_the_others_home_timeline(client, settings, backends):
    alice, alice_headers = await _user(settings, "alice")
    bob, bob_headers = await _user(settings, "bob")
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice_headers)
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob_headers)
    by_alice, by_bob = await make_post(alice, "a"), await make_post(bob, "b")
    for account in (alice, bob):
        await timelines.rebuild(backends.redis, settings, account.id)

    await client.post(f"/api/v1/accounts/{bob.id}/block", headers=alice_headers)

    assert await _timeline(backends.redis, alice) == [by_alice.id]
    assert await _timeline(backends.redis, bob) == [by_bob.id]


async def test_blocks_lists_blocked_accounts_and_unblock_removes_them(client, settings):
    _, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")
    await client.post(f"/api/v1/accounts/{bob.id}/block", headers=headers)

    listed = await (await client.get("/api/v1/blocks", headers=headers)).get_json()
    response = await client.post(f"/api/v1/accounts/{bob.id}/unblock", headers=headers)

    assert [a["id"] for a in listed] == [str(bob.id)]
    assert (await response.get_json())["blocking"] is False
    assert await (await client.get("/api/v1/blocks", headers=headers)).get_json() == []


async def test_blocking_twice_is_one_block(client, settings):
    _, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")

    await client.post(f"/api/v1/accounts/{bob.id}/block", headers=headers)
    again = await client.post(f"/api/v1/accounts/{bob.id}/block", headers=headers)

    assert again.status_code == 200
    assert await Block.all().count() == 1


async def test_blocking_yourself_changes_nothing(client, settings):
    alice, headers = await _user(settings, "alice")

    response = await client.post(f"/api/v1/accounts/{alice.id}/block", headers=headers)

    assert response.status_code == 200
    assert (await response.get_json())["blocking"] is False
    assert not await Block.exists()


async def test_blocks_needs_read_blocks(client, settings):
    _, headers = await _user(settings, "alice", scopes="read:mutes write")

    response = await client.get("/api/v1/blocks", headers=headers)

    assert response.status_code == 403
