"""``GET /api/v1/statuses/:id``: who may read which post."""

from __future__ import annotations

from typing import Any

import pytest
from quart.typing import TestClientProtocol as Client

from instance.config import Settings
from models.relationships import Follow, FollowState
from tests.factories import bearer, make_user, token_for


async def member(settings: Settings, name: str) -> tuple[int, dict[str, str]]:
    """A local account id and its bearer headers."""
    user = await make_user(settings, name)
    return user.account_id, bearer(await token_for(user, "read write follow"))


async def posted(client: Client, headers: dict[str, str], **fields: Any) -> str:
    response = await client.post("/api/v1/statuses", json=fields, headers=headers)
    assert response.status_code == 200, await response.get_json()
    return (await response.get_json())["id"]


async def status_of(client: Client, post_id: str, headers: dict[str, str] | None = None) -> int:
    return (await client.get(f"/api/v1/statuses/{post_id}", headers=headers or {})).status_code


@pytest.mark.parametrize("visibility", ["public", "unlisted"])
async def test_public_and_unlisted_posts_are_readable_without_a_token(client, settings, visibility):
    _, alice = await member(settings, "alice")
    post_id = await posted(client, alice, status="hello world", visibility=visibility)

    response = await client.get(f"/api/v1/statuses/{post_id}")

    assert response.status_code == 200
    entity = await response.get_json()
    assert (entity["id"], entity["visibility"]) == (post_id, visibility)
    assert entity["account"]["acct"] == "alice"


async def test_a_followers_only_post_is_hidden_from_strangers(client, settings):
    _, alice = await member(settings, "alice")
    _, stranger = await member(settings, "stranger")
    post_id = await posted(client, alice, status="friends only", visibility="private")

    assert await status_of(client, post_id) == 404
    assert await status_of(client, post_id, stranger) == 404
    assert await status_of(client, post_id, alice) == 200


async def test_a_followers_only_post_is_readable_by_an_accepted_follower(client, settings):
    alice_id, alice = await member(settings, "alice")
    fan_id, fan = await member(settings, "fan")
    await Follow.create(follower_id=fan_id, followee_id=alice_id, state=FollowState.ACCEPTED)
    post_id = await posted(client, alice, status="friends only", visibility="private")

    assert await status_of(client, post_id, fan) == 200


async def test_a_pending_follow_request_does_not_open_a_followers_only_post(client, settings):
    alice_id, alice = await member(settings, "alice")
    asker_id, asker = await member(settings, "asker")
    await Follow.create(follower_id=asker_id, followee_id=alice_id, state=FollowState.PENDING)
    post_id = await posted(client, alice, status="friends only", visibility="private")

    assert await status_of(client, post_id, asker) == 404


async def test_a_direct_post_is_readable_by_the_mentioned_only(client, settings):
    alice_id, alice = await member(settings, "alice")
    fan_id, fan = await member(settings, "fan")
    _, bob = await member(settings, "bob")
    await Follow.create(follower_id=fan_id, followee_id=alice_id, state=FollowState.ACCEPTED)
    post_id = await posted(client, alice, status="@bob just you", visibility="direct")

    assert await status_of(client, post_id, bob) == 200
    assert await status_of(client, post_id, alice) == 200
    assert await status_of(client, post_id, fan) == 404
    assert await status_of(client, post_id) == 404


@pytest.mark.parametrize(
    "raw_id", ["12345", "abc", "-1", "0", "1.5", "99999999999999999999", "9223372036854775808"]
)
async def test_unknown_or_malformed_ids_are_404(client, raw_id):
    for path in (f"/api/v1/statuses/{raw_id}", f"/api/v1/statuses/{raw_id}/context"):
        response = await client.get(path)

        assert response.status_code == 404
        assert (await response.get_json())["error"]


async def test_a_token_without_read_scope_may_not_read(client, settings):
    user = await make_user(settings, "alice")
    alice = bearer(await token_for(user, "read write"))
    write_only = bearer(await token_for(user, "write"))
    post_id = await posted(client, alice, status="hi")

    assert await status_of(client, post_id, write_only) == 403


async def test_the_author_sees_its_own_post_flags(client, settings):
    _, alice = await member(settings, "alice")
    post_id = await posted(client, alice, status="mine", language="en")

    entity = await (await client.get(f"/api/v1/statuses/{post_id}", headers=alice)).get_json()

    assert entity["language"] == "en"
    assert entity["url"].endswith(f"/@alice/{post_id}")
    assert entity["uri"] == f"https://starling.test/users/alice/statuses/{post_id}"
    assert (entity["favourited"], entity["reblogged"], entity["pinned"]) == (False, False, False)
