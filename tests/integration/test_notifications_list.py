"""``GET /api/v1/notifications``: entities, filters, pages, and what is left out."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from models.accounts import Account
from models.notifications import Notification, NotificationType
from models.posts import Post
from models.relationships import Block, Mute
from services import notify
from services.postcache import forget_posts
from tests.factories import account_of, bearer, make_post, make_user, token_for

LINK = re.compile(r'<([^>]+)>; rel="(\w+)"')


async def _user(settings, name: str, scopes: str = "read write follow"):
    user = await make_user(settings, name)
    return await account_of(user), bearer(await token_for(user, scopes))


async def _mention(author: Account, recipient: Account, text: str = "hi") -> Post:
    post = await make_post(author, f"@{recipient.username} {text}", mentions=[recipient])
    await notify.notify(NotificationType.MENTION, recipient.id, author.id, post.id)
    return post


def _links(response, settings) -> dict[str, str]:
    header = response.headers.get("Link", "")
    return {rel: url.removeprefix(settings.base_url) for url, rel in LINK.findall(header)}


async def _types(response) -> list[str]:
    return [entity["type"] for entity in await response.get_json()]


async def test_notifications_are_mastodon_entities_newest_first(client, settings):
    alice, headers = await _user(settings, "alice")
    bob, bob_headers = await _user(settings, "bob")
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob_headers)
    post = await _mention(bob, alice)

    response = await client.get("/api/v1/notifications", headers=headers)

    assert response.status_code == 200
    mention, follow = await response.get_json()
    assert set(mention) == {"id", "type", "group_key", "created_at", "account", "status"}
    assert (mention["type"], mention["account"]["id"]) == ("mention", str(bob.id))
    assert mention["status"]["id"] == str(post.id)
    assert mention["status"]["mentions"][0]["id"] == str(alice.id)
    assert mention["created_at"].endswith("Z")
    assert follow["type"] == "follow"
    assert "status" not in follow
    assert int(mention["id"]) > int(follow["id"])


def _hour(entity: dict) -> int:
    created = datetime.fromisoformat(entity["created_at"].replace("Z", "+00:00"))
    return int(created.timestamp()) // 3600


async def test_group_keys_group_likes_and_boosts_by_post_and_follows_by_type(client, settings):
    # Mastodon's keys: "{type}-{post}-{hour}" for likes and boosts, "follow-{hour}", and
    # "ungrouped-{id}" for the types that do not group; clients group on them.
    alice, headers = await _user(settings, "alice")
    bob, bob_headers = await _user(settings, "bob")
    _carol, carol_headers = await _user(settings, "carol")
    liked, other = await make_post(alice, "liked"), await make_post(alice, "other")
    for fan in (bob_headers, carol_headers):
        await client.post(f"/api/v1/statuses/{liked.id}/favourite", headers=fan)
        await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=fan)
    await client.post(f"/api/v1/statuses/{other.id}/favourite", headers=bob_headers)
    await client.post(f"/api/v1/statuses/{liked.id}/reblog", headers=carol_headers)
    await _mention(bob, alice)

    entities = await (await client.get("/api/v1/notifications", headers=headers)).get_json()

    def keys(kind: str, post_id: int | None = None) -> list[str]:
        return [
            e["group_key"]
            for e in entities
            if e["type"] == kind and (post_id is None or e["status"]["id"] == str(post_id))
        ]

    likes, (other_like,) = keys("favourite", liked.id), keys("favourite", other.id)
    assert len(likes) == 2
    assert len(set(likes)) == 1  # one group for the likes of one post
    assert other_like not in likes
    like = next(e for e in entities if e["group_key"] == other_like)
    assert other_like == f"favourite-{other.id}-{_hour(like)}"
    follows = keys("follow")
    assert len(follows) == 2
    assert len(set(follows)) == 1
    assert follows[0].startswith("follow-")
    assert keys("reblog")[0].startswith(f"reblog-{liked.id}-")  # the boosted post, not the boost
    mention = next(e for e in entities if e["type"] == "mention")
    assert mention["group_key"] == f"ungrouped-{mention['id']}"


async def test_types_keeps_only_those_types(client, settings):
    alice, headers = await _user(settings, "alice")
    bob, bob_headers = await _user(settings, "bob")
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob_headers)
    await _mention(bob, alice)

    many = await client.get("/api/v1/notifications?types[]=follow", headers=headers)
    one = await client.get("/api/v1/notifications?types=mention", headers=headers)

    assert await _types(many) == ["follow"]
    assert await _types(one) == ["mention"]


async def test_exclude_types_leaves_those_out(client, settings):
    alice, headers = await _user(settings, "alice")
    bob, bob_headers = await _user(settings, "bob")
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob_headers)
    await _mention(bob, alice)

    response = await client.get(
        "/api/v1/notifications?exclude_types[]=mention&exclude_types[]=reblog", headers=headers
    )

    assert await _types(response) == ["follow"]


async def test_account_id_keeps_one_actors_notifications(client, settings):
    alice, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")
    carol, _ = await _user(settings, "carol")
    await _mention(bob, alice)
    await _mention(carol, alice)

    response = await client.get(f"/api/v1/notifications?account_id={carol.id}", headers=headers)

    assert [n["account"]["id"] for n in await response.get_json()] == [str(carol.id)]


async def test_notifications_page_through_next_links(client, settings):
    alice, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")
    posts = [await _mention(bob, alice, f"n{i}") for i in range(5)]

    seen, path = [], "/api/v1/notifications?limit=2"
    for _ in range(3):
        response = await client.get(path, headers=headers)
        seen += [n["status"]["id"] for n in await response.get_json()]
        path = _links(response, settings)["next"]

    assert seen == [str(p.id) for p in reversed(posts)]
    assert await (await client.get(path, headers=headers)).get_json() == []


async def test_links_carry_notification_ids(client, settings):
    alice, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")
    for i in range(3):
        await _mention(bob, alice, f"n{i}")
    ids = (
        await Notification.filter(recipient_id=alice.id)
        .order_by("-id")
        .values_list("id", flat=True)
    )

    response = await client.get("/api/v1/notifications?limit=2", headers=headers)

    links = _links(response, settings)
    assert f"max_id={ids[1]}" in links["next"]
    assert f"min_id={ids[0]}" in links["prev"]


async def test_min_id_reads_the_page_just_above(client, settings):
    alice, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")
    for i in range(4):
        await _mention(bob, alice, f"n{i}")
    ids = (
        await Notification.filter(recipient_id=alice.id).order_by("id").values_list("id", flat=True)
    )

    response = await client.get(f"/api/v1/notifications?min_id={ids[0]}&limit=2", headers=headers)

    assert [n["id"] for n in await response.get_json()] == [str(ids[2]), str(ids[1])]


async def test_a_notification_from_an_account_now_blocked_is_left_out(client, settings):
    alice, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")
    await _mention(bob, alice)

    await Block.create(account=alice, target=bob)

    assert await (await client.get("/api/v1/notifications", headers=headers)).get_json() == []


async def test_a_mute_hiding_notifications_leaves_them_out(client, settings):
    alice, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")
    carol, _ = await _user(settings, "carol")
    await _mention(bob, alice)
    await _mention(carol, alice)

    await Mute.create(account=alice, target=bob, hide_notifications=True)
    await Mute.create(account=alice, target=carol, hide_notifications=False)

    response = await client.get("/api/v1/notifications", headers=headers)
    assert [n["account"]["id"] for n in await response.get_json()] == [str(carol.id)]


async def test_a_muted_account_following_you_notifies_nothing(client, settings):
    alice, headers = await _user(settings, "alice")
    bob, bob_headers = await _user(settings, "bob")
    await client.post(f"/api/v1/accounts/{bob.id}/mute", headers=headers)

    follow = await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob_headers)

    assert (await follow.get_json())["following"] is True
    assert not await Notification.exists()


async def test_a_notification_about_a_deleted_post_is_left_out(client, settings, backends):
    alice, headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")
    post = await _mention(bob, alice)
    await client.get("/api/v1/notifications", headers=headers)  # cache the post

    await Post.filter(id=post.id).update(deleted_at=datetime.now(UTC))
    await forget_posts(backends.redis, [post.id])

    assert await (await client.get("/api/v1/notifications", headers=headers)).get_json() == []


async def test_acting_on_yourself_notifies_nothing(client, settings):
    alice, headers = await _user(settings, "alice")

    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=headers)
    await client.post(f"/api/v1/accounts/{alice.id}/mute", headers=headers)
    await _mention(alice, alice)

    assert await (await client.get("/api/v1/notifications", headers=headers)).get_json() == []


async def test_each_user_sees_only_their_own_notifications(client, settings):
    alice, _ = await _user(settings, "alice")
    bob, bob_headers = await _user(settings, "bob")
    await _mention(bob, alice)

    response = await client.get("/api/v1/notifications", headers=bob_headers)

    assert await response.get_json() == []


async def test_notifications_need_a_token(client):
    assert (await client.get("/api/v1/notifications")).status_code == 401


@pytest.mark.parametrize("scopes", ["read:accounts write", "write:notifications"])
async def test_notifications_need_read_notifications(client, settings, scopes):
    _, headers = await _user(settings, "alice", scopes)

    response = await client.get("/api/v1/notifications", headers=headers)

    assert response.status_code == 403


@pytest.mark.parametrize("query", ["limit=abc", "max_id=xyz"])
async def test_malformed_paging_is_422(client, settings, query):
    _, headers = await _user(settings, "alice")

    response = await client.get(f"/api/v1/notifications?{query}", headers=headers)

    assert response.status_code == 422
