"""``DELETE /api/v1/statuses/:id``: only the author, everything that pointed at it goes too."""

from __future__ import annotations

from typing import Any

import pytest
from quart.typing import TestClientProtocol as Client

from instance.config import Settings
from models.accounts import Account
from models.notifications import Notification
from models.posts import Mention, Post
from models.relationships import Follow, FollowState, Like
from services import timelines
from services.backends import Backends
from tests.drain import drain
from tests.factories import bearer, make_user, token_for


async def member(settings: Settings, name: str) -> tuple[int, dict[str, str]]:
    user = await make_user(settings, name)
    return user.account_id, bearer(await token_for(user, "read write follow"))


async def posted(client: Client, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/statuses", json=fields, headers=headers)
    assert response.status_code == 200, await response.get_json()
    return await response.get_json()


async def test_deleting_someone_elses_post_is_404_and_keeps_it(client, settings):
    _, alice = await member(settings, "alice")
    _, bob = await member(settings, "bob")
    post = await posted(client, alice, status="mine")

    response = await client.delete(f"/api/v1/statuses/{post['id']}", headers=bob)

    assert response.status_code == 404
    assert (await client.get(f"/api/v1/statuses/{post['id']}")).status_code == 200


async def test_deleting_needs_a_token_with_write_statuses(client, settings):
    user = await make_user(settings, "alice")
    alice = bearer(await token_for(user, "read write"))
    read_only = bearer(await token_for(user, "read"))
    post = await posted(client, alice, status="mine")

    anonymous = await client.delete(f"/api/v1/statuses/{post['id']}")
    forbidden = await client.delete(f"/api/v1/statuses/{post['id']}", headers=read_only)

    assert (anonymous.status_code, forbidden.status_code) == (401, 403)
    assert await Post.all().count() == 1


@pytest.mark.parametrize("raw_id", ["42", "abc", "-3"])
async def test_deleting_an_unknown_post_is_404(client, settings, raw_id):
    _, alice = await member(settings, "alice")

    response = await client.delete(f"/api/v1/statuses/{raw_id}", headers=alice)

    assert response.status_code == 404


async def test_a_deleted_post_is_gone_and_answered_with_its_source(client, settings):
    _, alice = await member(settings, "alice")
    post = await posted(client, alice, status="typo'd  #draft", spoiler_text="cw")
    await client.get(f"/api/v1/statuses/{post['id']}")  # cached snapshot

    response = await client.delete(f"/api/v1/statuses/{post['id']}", headers=alice)

    assert response.status_code == 200
    entity = await response.get_json()
    assert (entity["id"], entity["text"], entity["spoiler_text"]) == (
        post["id"],
        "typo'd  #draft",
        "cw",
    )
    assert (await client.get(f"/api/v1/statuses/{post['id']}")).status_code == 404
    again = await client.delete(f"/api/v1/statuses/{post['id']}", headers=alice)
    assert again.status_code == 404


async def test_deleting_counts_down_on_the_authors_next_read(client, settings):
    alice_id, alice = await member(settings, "alice")
    post = await posted(client, alice, status="one")
    await posted(client, alice, status="two")
    before = await (await client.get(f"/api/v1/accounts/{alice_id}")).get_json()

    await client.delete(f"/api/v1/statuses/{post['id']}", headers=alice)

    after = await (await client.get(f"/api/v1/accounts/{alice_id}")).get_json()
    assert (before["statuses_count"], after["statuses_count"]) == (2, 1)


async def test_deleting_a_reply_counts_down_on_its_parent(client, settings):
    _, alice = await member(settings, "alice")
    _, bob = await member(settings, "bob")
    parent = await posted(client, alice, status="question")
    reply = await posted(client, bob, status="answer", in_reply_to_id=parent["id"])
    counted = await (await client.get(f"/api/v1/statuses/{parent['id']}")).get_json()

    await client.delete(f"/api/v1/statuses/{reply['id']}", headers=bob)

    after = await (await client.get(f"/api/v1/statuses/{parent['id']}")).get_json()
    assert (counted["replies_count"], after["replies_count"]) == (1, 0)
    context = await (await client.get(f"/api/v1/statuses/{parent['id']}/context")).get_json()
    assert context["descendants"] == []


async def test_replies_outlive_a_deleted_parent(client, settings):
    _, alice = await member(settings, "alice")
    _, bob = await member(settings, "bob")
    parent = await posted(client, alice, status="question")
    reply = await posted(client, bob, status="answer", in_reply_to_id=parent["id"])
    await client.get(f"/api/v1/statuses/{reply['id']}")  # cached with its parent id

    await client.delete(f"/api/v1/statuses/{parent['id']}", headers=alice)

    entity = await (await client.get(f"/api/v1/statuses/{reply['id']}")).get_json()
    assert entity["content"] == "<p>answer</p>"
    assert entity["in_reply_to_id"] is None
    context = await (await client.get(f"/api/v1/statuses/{reply['id']}/context")).get_json()
    assert context["ancestors"] == []


async def test_deleting_takes_the_post_out_of_a_followers_home_timeline(
    client, settings, backends: Backends
):
    alice_id, alice = await member(settings, "alice")
    fan_id, _ = await member(settings, "fan")
    await Follow.create(follower_id=fan_id, followee_id=alice_id, state=FollowState.ACCEPTED)
    await timelines.rebuild(backends.redis, settings, fan_id)
    post = await posted(client, alice, status="soon gone")
    await drain(settings)
    key = timelines.home_key(fan_id)
    assert await backends.redis.zscore(key, post["id"]) is not None

    await client.delete(f"/api/v1/statuses/{post['id']}", headers=alice)

    assert await backends.redis.zscore(key, post["id"]) is None
    assert await backends.redis.zscore(timelines.home_key(alice_id), post["id"]) is None


async def test_deleting_takes_mentions_likes_and_notifications_with_it(client, settings):
    _, alice = await member(settings, "alice")
    bob_id, _ = await member(settings, "bob")
    post = await posted(client, alice, status="@bob hey")
    await Like.create(account_id=bob_id, post_id=int(post["id"]))
    assert await Notification.filter(recipient_id=bob_id).count() == 1

    await client.delete(f"/api/v1/statuses/{post['id']}", headers=alice)

    assert await Notification.all().count() == 0
    assert await Mention.all().count() == 0
    assert await Like.all().count() == 0


async def test_deleting_a_boosted_post_removes_the_boosts_and_their_counts(
    client, settings, backends: Backends
):
    _, alice = await member(settings, "alice")
    bob_id, _ = await member(settings, "bob")
    post = await posted(client, alice, status="boost me")
    boost = await Post.create(
        author_id=bob_id, uri="https://starling.test/boost/1", boost_of_id=int(post["id"])
    )
    await Account.filter(id=bob_id).update(posts_count=1)

    await client.delete(f"/api/v1/statuses/{post['id']}", headers=alice)

    assert not await Post.exists(id=boost.id)
    bob = await (await client.get(f"/api/v1/accounts/{bob_id}")).get_json()
    assert bob["statuses_count"] == 0
