"""Replies and ``GET /api/v1/statuses/:id/context``."""

from __future__ import annotations

from typing import Any

from quart.typing import TestClientProtocol as Client

from instance.config import Settings
from models.posts import Post
from models.relationships import Block, Follow, FollowState, Mute
from tests.factories import bearer, make_post, make_user, token_for


async def member(settings: Settings, name: str) -> tuple[int, dict[str, str]]:
    user = await make_user(settings, name)
    return user.account_id, bearer(await token_for(user, "read write follow"))


async def posted(client: Client, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/statuses", json=fields, headers=headers)
    assert response.status_code == 200, await response.get_json()
    return await response.get_json()


async def context_ids(
    client: Client, post_id: str, headers: dict[str, str] | None = None
) -> tuple[list[str], list[str]]:
    response = await client.get(f"/api/v1/statuses/{post_id}/context", headers=headers or {})
    assert response.status_code == 200
    body = await response.get_json()
    return [s["id"] for s in body["ancestors"]], [s["id"] for s in body["descendants"]]


async def test_a_reply_points_at_its_parent_and_counts_on_it(client, settings):
    alice_id, alice = await member(settings, "alice")
    _, bob = await member(settings, "bob")
    parent = await posted(client, alice, status="question?")
    await client.get(f"/api/v1/statuses/{parent['id']}")  # cache the parent's snapshot

    reply = await posted(client, bob, status="@alice answer", in_reply_to_id=parent["id"])

    assert reply["in_reply_to_id"] == parent["id"]
    assert reply["in_reply_to_account_id"] == str(alice_id)
    again = await (await client.get(f"/api/v1/statuses/{parent['id']}")).get_json()
    assert again["replies_count"] == 1


async def test_a_reply_to_an_unknown_or_hidden_post_is_404(client, settings):
    _, alice = await member(settings, "alice")
    _, bob = await member(settings, "bob")
    hidden = await posted(client, alice, status="friends only", visibility="private")

    for target in ("123456789", "not-a-number", hidden["id"]):
        response = await client.post(
            "/api/v1/statuses", json={"status": "hi", "in_reply_to_id": target}, headers=bob
        )
        assert response.status_code == 404
    assert await Post.all().count() == 1


async def test_a_reply_to_an_author_who_blocks_you_is_404(client, settings):
    alice_id, alice = await member(settings, "alice")
    bob_id, bob = await member(settings, "bob")
    parent = await posted(client, alice, status="hello")
    await Block.create(account_id=alice_id, target_id=bob_id)

    response = await client.post(
        "/api/v1/statuses", json={"status": "hi", "in_reply_to_id": parent["id"]}, headers=bob
    )

    assert response.status_code == 404


async def test_a_reply_is_never_more_public_than_a_private_parent(client, settings):
    alice_id, alice = await member(settings, "alice")
    bob_id, bob = await member(settings, "bob")
    await Follow.create(follower_id=bob_id, followee_id=alice_id, state=FollowState.ACCEPTED)
    parent = await posted(client, alice, status="friends only", visibility="private")

    reply = await posted(
        client, bob, status="@alice sure", visibility="public", in_reply_to_id=parent["id"]
    )

    assert reply["visibility"] == "private"


async def test_a_reply_may_be_more_private_than_its_parent(client, settings):
    _, alice = await member(settings, "alice")
    _, bob = await member(settings, "bob")
    parent = await posted(client, alice, status="hello")

    reply = await posted(
        client, bob, status="@alice psst", visibility="direct", in_reply_to_id=parent["id"]
    )

    assert reply["visibility"] == "direct"


async def test_context_has_ancestors_root_first_and_descendants_depth_first(client, settings):
    _, alice = await member(settings, "alice")
    _, bob = await member(settings, "bob")
    root = await posted(client, alice, status="root")
    first = await posted(client, bob, status="first", in_reply_to_id=root["id"])
    second = await posted(client, bob, status="second", in_reply_to_id=root["id"])
    nested = await posted(client, alice, status="nested", in_reply_to_id=first["id"])

    assert await context_ids(client, nested["id"]) == ([root["id"], first["id"]], [])
    assert await context_ids(client, root["id"], alice) == (
        [],
        [first["id"], nested["id"], second["id"]],
    )
    assert await context_ids(client, first["id"]) == ([root["id"]], [nested["id"]])


async def test_the_authors_replies_to_itself_come_first(client, settings):
    _, alice = await member(settings, "alice")
    _, bob = await member(settings, "bob")
    root = await posted(client, alice, status="root")
    other = await posted(client, bob, status="reply", in_reply_to_id=root["id"])
    chain = await posted(client, alice, status="2/2", in_reply_to_id=root["id"])

    _, descendants = await context_ids(client, root["id"])

    assert descendants == [chain["id"], other["id"]]


async def test_context_hides_replies_the_viewer_may_not_see(client, settings):
    alice_id, alice = await member(settings, "alice")
    bob_id, bob = await member(settings, "bob")
    carol_id, carol = await member(settings, "carol")  # follows alice, not bob
    await Follow.create(follower_id=alice_id, followee_id=bob_id, state=FollowState.ACCEPTED)
    await Follow.create(follower_id=carol_id, followee_id=alice_id, state=FollowState.ACCEPTED)
    root = await posted(client, alice, status="root")
    hidden = await posted(
        client, bob, status="@alice for followers", visibility="private", in_reply_to_id=root["id"]
    )
    below = await posted(client, alice, status="below it", in_reply_to_id=hidden["id"])

    assert await context_ids(client, root["id"], alice) == ([], [hidden["id"], below["id"]])
    assert await context_ids(client, root["id"], carol) == ([], [below["id"]])
    assert await context_ids(client, below["id"], carol) == ([root["id"]], [])
    response = await client.get(f"/api/v1/statuses/{hidden['id']}/context", headers=carol)
    assert response.status_code == 404


async def test_context_survives_a_reply_cycle(client, settings):
    # Remote data could make posts reply to each other; the walk is bounded either way.
    user = await make_user(settings, "alice")
    account = await user.account
    one = await make_post(account, "one")
    two = await make_post(account, "two")
    await Post.filter(id=one.id).update(in_reply_to_id=two.id)
    await Post.filter(id=two.id).update(in_reply_to_id=one.id)

    ancestors, descendants = await context_ids(client, str(one.id))

    assert ancestors == [str(two.id)]
    assert descendants == []


async def test_context_of_a_direct_thread_is_for_its_participants(client, settings):
    _, alice = await member(settings, "alice")
    _, bob = await member(settings, "bob")
    root = await posted(client, alice, status="@bob psst", visibility="direct")
    reply = await posted(client, bob, status="@alice ok", in_reply_to_id=root["id"])

    assert reply["visibility"] == "direct"
    assert await context_ids(client, root["id"], bob) == ([], [reply["id"]])
    response = await client.get(f"/api/v1/statuses/{root['id']}/context")
    assert response.status_code == 404


async def test_a_reply_to_a_boost_replies_to_the_boosted_post(client, settings):
    alice_id, alice = await member(settings, "alice")
    bob_id, bob = await member(settings, "bob")
    original = await posted(client, alice, status="original")
    boost = await Post.create(
        author_id=bob_id, uri="https://starling.test/boost/1", boost_of_id=int(original["id"])
    )

    reply = await posted(client, bob, status="@alice yes", in_reply_to_id=str(boost.id))

    assert reply["in_reply_to_id"] == original["id"]
    assert reply["in_reply_to_account_id"] == str(alice_id)


async def test_context_leaves_out_muted_accounts(client, settings):
    alice_id, alice = await member(settings, "alice")
    bob_id, bob = await member(settings, "bob")
    root = await posted(client, alice, status="root")
    await posted(client, bob, status="noise", in_reply_to_id=root["id"])
    await Mute.create(account_id=alice_id, target_id=bob_id)

    assert await context_ids(client, root["id"], alice) == ([], [])
