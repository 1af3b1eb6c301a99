"""Muting: hidden from home, flags in the relationship, a duration, ``/api/v1/mutes``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models.accounts import Account
from models.relationships import Mute
from services import timelines
from services.statuses import hydrate
from tests.factories import account_of, bearer, make_post, make_user, token_for


async def _user(settings, name: str, scopes: str = "read write follow"):
    user = await make_user(settings, name)
    return await account_of(user), bearer(await token_for(user, scopes))


async def _timeline(redis, account: Account) -> list[int]:
    return [int(m) for m in await redis.zrange(timelines.home_key(account.id), 1, -1)]


async def test_mute_answers_muting_with_notifications_by_default(client, settings):
    _, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")

    response = await client.post(f"/api/v1/accounts/{bob.id}/mute", headers=headers)

    assert response.status_code == 200
    rel = await response.get_json()
    assert (rel["muting"], rel["muting_notifications"]) == (True, True)


async def test_mute_can_keep_notifications(client, settings):
    _, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")

    response = await client.post(
        f"/api/v1/accounts/{bob.id}/mute", headers=headers, form={"notifications": "false"}
    )

    rel = await response.get_json()
    assert (rel["muting"], rel["muting_notifications"]) == (True, False)


async def test_muting_again_replaces_the_options(client, settings):
    alice, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")
    await client.post(f"/api/v1/accounts/{bob.id}/mute", headers=headers, json={"duration": 60})

    response = await client.post(
        f"/api/v1/accounts/{bob.id}/mute", headers=headers, json={"notifications": False}
    )

    assert (await response.get_json())["muting_notifications"] is False
    mute = await Mute.get(account_id=alice.id, target_id=bob.id)
    assert (mute.hide_notifications, mute.expires_at) == (False, None)


async def test_mute_hides_posts_from_home_reads(client, settings, backends):
    alice, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")
    post = await make_post(bob, "b")

    await client.post(f"/api/v1/accounts/{bob.id}/mute", headers=headers)

    home = await hydrate(backends.redis, alice.id, [post.id], hide_muted=True)
    direct = await hydrate(backends.redis, alice.id, [post.id])
    assert home.posts == []
    assert [p["id"] for p in direct.posts] == [post.id]


async def test_mute_removes_the_authors_entries_from_the_home_timeline(client, settings, backends):
    alice, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers)
    post = await make_post(bob, "b")
    await timelines.rebuild(backends.redis, settings, alice.id)
    assert await _timeline(backends.redis, alice) == [post.id]

    await client.post(f"/api/v1/accounts/{bob.id}/mute", headers=headers)

    assert await _timeline(backends.redis, alice) == []
    assert (await (await client.get(f"/api/v1/accounts/{bob.id}")).get_json())[
        "followers_count"
    ] == 1  # a mute is not an unfollow


async def test_mute_with_a_duration_lists_when_it_ends(client, settings):
    _, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")
    before = datetime.now(UTC)

    await client.post(f"/api/v1/accounts/{bob.id}/mute", headers=headers, json={"duration": 3600})

    [entity] = await (await client.get("/api/v1/mutes", headers=headers)).get_json()
    ends = datetime.fromisoformat(entity["mute_expires_at"].replace("Z", "+00:00"))
    assert entity["id"] == str(bob.id)
    assert before + timedelta(seconds=3590) < ends < before + timedelta(seconds=3610)


async def test_an_expired_mute_no_longer_counts(client, settings):
    alice, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")
    await Mute.create(account=alice, target=bob, expires_at=datetime.now(UTC) - timedelta(1))

    rel = await client.get(f"/api/v1/accounts/relationships?id={bob.id}", headers=headers)

    assert (await rel.get_json())[0]["muting"] is False
    assert await (await client.get("/api/v1/mutes", headers=headers)).get_json() == []


async def test_unmute_ends_the_mute(client, settings):
    _, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")
    await client.post(f"/api/v1/accounts/{bob.id}/mute", headers=headers)

    response = await client.post(f"/api/v1/accounts/{bob.id}/unmute", headers=headers)

    assert (await response.get_json())["muting"] is False
    assert not await Mute.exists()


async def test_a_negative_duration_is_422(client, settings):
    _, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")

    response = await client.post(
        f"/api/v1/accounts/{bob.id}/mute", headers=headers, json={"duration": -5}
    )

    assert response.status_code == 422
    assert not await Mute.exists()


async def test_muting_yourself_changes_nothing(client, settings):
    alice, headers = await _user(settings, "alice")

    response = await client.post(f"/api/v1/accounts/{alice.id}/mute", headers=headers)

    assert (await response.get_json())["muting"] is False
    assert not await Mute.exists()


async def test_mutes_needs_read_mutes(client, settings):
    _, headers = await _user(settings, "alice", scopes="read:blocks")

    response = await client.get("/api/v1/mutes", headers=headers)

    assert response.status_code == 403
