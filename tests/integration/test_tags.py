"""Hashtags: the Tag entity and its week of history, following tags, the tags one follows,
the hashtag timeline (any[] / all[] / none[], local / remote, paging, visibility) and search."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from tortoise.timezone import now

from models.accounts import Account
from models.posts import Post, Tag, TagFollow, Visibility
from services import tags
from services.posting import upsert_tags
from tests.factories import (
    account_of,
    bearer,
    make_post,
    make_remote_account,
    make_user,
    member,
    token_for,
)

DAY = 86400


async def tagged(author: Account, *names: str, visibility: Visibility = Visibility.PUBLIC) -> Post:
    """A post by ``author`` carrying ``names`` (remote authors' posts are remote posts)."""
    post = await make_post(author, " ".join(f"#{name}" for name in names), visibility=visibility)
    await post.tags.add(*await upsert_tags(list(names)))
    if author.domain is not None:
        await Post.filter(id=post.id).update(local=False)
    return post


async def backdate(post: Post, days: int) -> None:
    await Post.filter(id=post.id).update(created_at=now() - timedelta(days=days))


async def json_of(response, status: int = 200):
    assert response.status_code == status, await response.get_data(as_text=True)
    return await response.get_json()


async def timeline_ids(client, query: str = "", tag: str = "cats", headers=None) -> list[str]:
    response = await client.get(f"/api/v1/timelines/tag/{tag}?{query}", headers=headers)
    return [status["id"] for status in await json_of(response)]


def link(response, rel: str) -> str:
    """The path and query of the Link header's ``rel`` URL."""
    found = re.search(rf'<https://starling\.test([^>]*)>; rel="{rel}"', response.headers["Link"])
    assert found, response.headers.get("Link")
    return found.group(1)


def midnights() -> list[str]:
    today = int(time.time()) // DAY * DAY
    return [str(today - n * DAY) for n in range(7)]


# --- the Tag entity -----------------------------------------------------------------------


async def test_tag_posted_through_the_api_shows_name_url_and_seven_days(client, settings):
    _, token = await member(settings, "alice")
    await client.post("/api/v1/statuses", json={"status": "Hello #Cats"}, headers=bearer(token))

    entity = await json_of(await client.get("/api/v1/tags/cats"))

    assert set(entity) == {"name", "url", "history"}  # no viewer: no "following"
    assert entity["name"] == "cats"
    assert entity["url"] == "https://starling.test/tags/cats"
    assert [day["day"] for day in entity["history"]] == midnights()
    assert entity["history"][0] == {"day": midnights()[0], "accounts": "1", "uses": "1"}


async def test_history_counts_uses_and_distinct_authors_per_day(client, settings):
    alice = await account_of(await make_user(settings, "alice"))
    bob = await account_of(await make_user(settings, "bob"))
    await tagged(alice, "cats")
    await tagged(alice, "cats")
    await tagged(bob, "cats")
    await backdate(await tagged(bob, "cats"), days=2)
    await backdate(await tagged(bob, "cats"), days=8)  # older than the week

    history = (await json_of(await client.get("/api/v1/tags/cats")))["history"]

    assert [(day["uses"], day["accounts"]) for day in history] == [
        ("3", "2"), ("0", "0"), ("1", "1"), ("0", "0"), ("0", "0"), ("0", "0"), ("0", "0"),
    ]  # fmt: skip


async def test_history_counts_only_public_posts_that_still_exist(client, settings):
    alice = await account_of(await make_user(settings, "alice"))
    await tagged(alice, "cats")
    for visibility in (Visibility.UNLISTED, Visibility.FOLLOWERS, Visibility.DIRECT):
        await tagged(alice, "cats", visibility=visibility)
    deleted = await tagged(alice, "cats")
    await Post.filter(id=deleted.id).update(deleted_at=now())

    history = (await json_of(await client.get("/api/v1/tags/cats")))["history"]

    assert history[0]["uses"] == "1"


async def test_tag_names_are_looked_up_without_case_or_hash(client, settings):
    alice = await account_of(await make_user(settings, "alice"))
    await tagged(alice, "cats")

    entity = await json_of(await client.get("/api/v1/tags/CaTs"))
    hashed = await json_of(await client.get("/api/v1/tags/%23cats"))

    assert entity["name"] == hashed["name"] == "cats"
    assert entity["history"][0]["uses"] == "1"


async def test_unused_valid_tag_shows_with_an_empty_history_as_in_mastodon(client):
    entity = await json_of(await client.get("/api/v1/tags/nobodysaidthis"))

    assert entity["name"] == "nobodysaidthis"
    assert {(day["uses"], day["accounts"]) for day in entity["history"]} == {("0", "0")}
    assert not await Tag.exists(name="nobodysaidthis")  # looking creates nothing


@pytest.mark.parametrize("name", ["tag-name", "2024", "a.b", "_", "%E2%9C%A8", "a" * 256])
@pytest.mark.parametrize("action", ["GET", "follow", "unfollow"])
async def test_names_that_cannot_be_hashtags_are_404(client, settings, name, action):
    _, token = await member(settings, "alice")
    if action == "GET":
        response = await client.get(f"/api/v1/tags/{name}", headers=bearer(token))
    else:
        response = await client.post(f"/api/v1/tags/{name}/{action}", headers=bearer(token))

    assert (await json_of(response, 404))["error"] == "Record not found"
    assert await Tag.all().count() == 0


async def test_following_shows_for_signed_in_viewers_only(client, settings):
    alice = await make_user(settings, "alice")
    await tagged(await account_of(alice), "cats")
    user_token = await token_for(alice, "read")
    app_token = await token_for(None, "read")

    as_user = await json_of(await client.get("/api/v1/tags/cats", headers=bearer(user_token)))
    as_app = await json_of(await client.get("/api/v1/tags/cats", headers=bearer(app_token)))

    assert as_user["following"] is False
    assert "following" not in as_app


# --- following --------------------------------------------------------------------------


async def test_follow_creates_an_unused_tag_and_answers_following_true(client, settings):
    alice, token = await member(settings, "alice")

    entity = await json_of(await client.post("/api/v1/tags/NewTag/follow", headers=bearer(token)))
    shown = await json_of(await client.get("/api/v1/tags/newtag", headers=bearer(token)))

    assert entity["name"] == "newtag"
    assert entity["following"] is True
    assert shown["following"] is True
    tag = await Tag.get(name="newtag")
    assert await TagFollow.filter(account_id=alice.id, tag_id=tag.id).count() == 1


async def test_following_twice_is_one_follow(client, settings):
    alice, token = await member(settings, "alice")

    await client.post("/api/v1/tags/cats/follow", headers=bearer(token))
    again = await json_of(await client.post("/api/v1/tags/cats/follow", headers=bearer(token)))

    assert again["following"] is True
    assert await TagFollow.filter(account_id=alice.id).count() == 1


async def test_unfollow_answers_following_false_and_twice_is_harmless(client, settings):
    alice, token = await member(settings, "alice")
    await client.post("/api/v1/tags/cats/follow", headers=bearer(token))

    first = await json_of(await client.post("/api/v1/tags/cats/unfollow", headers=bearer(token)))
    second = await json_of(await client.post("/api/v1/tags/cats/unfollow", headers=bearer(token)))
    unknown = await client.post("/api/v1/tags/neverused/unfollow", headers=bearer(token))

    assert first["following"] is second["following"] is False
    assert (await json_of(unknown))["following"] is False
    assert await TagFollow.filter(account_id=alice.id).count() == 0
    assert not await Tag.exists(name="neverused")


async def test_one_accounts_follow_is_not_anothers(client, settings):
    _, alice_token = await member(settings, "alice")
    _, bob_token = await member(settings, "bob")
    await client.post("/api/v1/tags/cats/follow", headers=bearer(alice_token))

    as_bob = await json_of(await client.get("/api/v1/tags/cats", headers=bearer(bob_token)))

    assert as_bob["following"] is False


@pytest.mark.parametrize(
    ("scopes", "status"),
    [
        ("read", 403),
        ("write:statuses", 403),
        ("write:follows", 200),
        ("write", 200),
        ("follow", 200),
    ],
)
async def test_follow_and_unfollow_need_write_follows(client, settings, scopes, status):
    _, token = await member(settings, "alice", scopes)

    followed = await client.post("/api/v1/tags/cats/follow", headers=bearer(token))
    unfollowed = await client.post("/api/v1/tags/cats/unfollow", headers=bearer(token))

    assert followed.status_code == unfollowed.status_code == status


@pytest.mark.parametrize(
    ("scopes", "status"), [("write", 403), ("read:statuses", 403), ("read:follows", 200)]
)
async def test_followed_tags_need_read_follows(client, settings, scopes, status):
    _, token = await member(settings, "alice", scopes)

    response = await client.get("/api/v1/followed_tags", headers=bearer(token))

    assert response.status_code == status


async def test_following_needs_a_user(client):
    app_token = await token_for(None, "read write follow")

    anonymous = await client.post("/api/v1/tags/cats/follow")
    as_app = await client.post("/api/v1/tags/cats/follow", headers=bearer(app_token))
    listed = await client.get("/api/v1/followed_tags")

    assert anonymous.status_code == as_app.status_code == listed.status_code == 401
    assert await TagFollow.all().count() == 0


# --- the tags one follows -----------------------------------------------------------------


async def test_followed_tags_page_newest_follow_first_with_link_headers(client, settings):
    _, token = await member(settings, "alice")
    for name in ("ants", "bees", "cats"):
        await client.post(f"/api/v1/tags/{name}/follow", headers=bearer(token))
    follows = {f.tag_id: f.id for f in await TagFollow.all()}
    follow_id = {tag.name: follows[tag.id] for tag in await Tag.all()}

    first = await client.get("/api/v1/followed_tags?limit=2", headers=bearer(token))
    entities = await json_of(first)
    older = await client.get(link(first, "next"), headers=bearer(token))
    newer = await client.get(link(first, "prev"), headers=bearer(token))

    assert [tag["name"] for tag in entities] == ["cats", "bees"]
    assert all(tag["following"] is True for tag in entities)
    assert link(first, "next") == f"/api/v1/followed_tags?limit=2&max_id={follow_id['bees']}"
    assert link(first, "prev") == f"/api/v1/followed_tags?limit=2&min_id={follow_id['cats']}"
    assert [tag["name"] for tag in await json_of(older)] == ["ants"]
    assert await json_of(newer) == []


async def test_followed_tags_default_to_a_hundred(client, settings):
    alice, token = await member(settings, "alice")
    await upsert_tags([f"tag{n}x" for n in range(101)])
    await TagFollow.bulk_create([TagFollow(account=alice, tag=tag) for tag in await Tag.all()])

    page = await json_of(await client.get("/api/v1/followed_tags", headers=bearer(token)))

    assert len(page) == 100


# --- the hashtag timeline -----------------------------------------------------------------


async def test_tag_timeline_shows_public_posts_with_the_tag_newest_first(client, settings):
    alice = await account_of(await make_user(settings, "alice"))
    first = await tagged(alice, "cats")
    await make_post(alice, "no tag here")
    for visibility in (Visibility.UNLISTED, Visibility.FOLLOWERS, Visibility.DIRECT):
        await tagged(alice, "cats", visibility=visibility)
    deleted = await tagged(alice, "cats")
    await Post.filter(id=deleted.id).update(deleted_at=now())
    await tagged(alice, "dogs")
    reply = await tagged(alice, "cats")
    await Post.filter(id=reply.id).update(in_reply_to_id=first.id, in_reply_to_account_id=alice.id)
    await Post.create(author=alice, uri=f"{alice.uri}/boost", boost_of=first)

    assert await timeline_ids(client) == [str(reply.id), str(first.id)]
    assert await timeline_ids(client, tag="CATS") == [str(reply.id), str(first.id)]


async def test_private_posts_stay_out_even_for_their_followers_and_author(client, settings):
    alice, alice_token = await member(settings, "alice")
    _, bob_token = await member(settings, "bob")
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bearer(bob_token))
    for visibility in ("unlisted", "private", "direct"):
        await client.post(
            "/api/v1/statuses",
            json={"status": f"@bob #cats {visibility}", "visibility": visibility},
            headers=bearer(alice_token),
        )

    assert await timeline_ids(client, headers=bearer(bob_token)) == []
    assert await timeline_ids(client, headers=bearer(alice_token)) == []


@pytest.fixture
async def menagerie(settings):
    """Posts oldest first: cats; cats+dogs; dogs; cats+birds; birds. Returns their ids."""
    alice = await account_of(await make_user(settings, "alice"))
    posts = [
        await tagged(alice, *names)
        for names in (("cats",), ("cats", "dogs"), ("dogs",), ("cats", "birds"), ("birds",))
    ]
    return [str(post.id) for post in posts]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", [3, 1, 0]),
        ("any[]=dogs", [3, 2, 1, 0]),
        ("any[]=dogs&any[]=birds", [4, 3, 2, 1, 0]),
        ("any=birds", [4, 3, 1, 0]),  # one value without brackets, as Mastodon reads it
        ("all[]=dogs", [1]),
        ("all=Dogs", [1]),
        ("none[]=dogs", [3, 0]),
        ("none[]=dogs&none[]=birds", [0]),
        ("any[]=dogs&none[]=birds", [2, 1, 0]),
        ("any[]=dogs&all[]=birds", [3]),
        ("any[]=neverused", [3, 1, 0]),
        ("none[]=neverused", [3, 1, 0]),
        ("all[]=neverused", []),  # no post can have a tag nobody used
    ],
)
async def test_tag_timeline_combines_any_all_and_none(client, menagerie, query, expected):
    assert await timeline_ids(client, query) == [menagerie[n] for n in expected]


async def test_tag_timeline_can_be_local_or_remote(client, settings):
    alice = await account_of(await make_user(settings, "alice"))
    local = str((await tagged(alice, "cats")).id)
    remote = str((await tagged(await make_remote_account(), "cats")).id)

    assert await timeline_ids(client, "local=true") == [local]
    assert await timeline_ids(client, "remote=true") == [remote]
    # Both, like neither, mean every origin (Mastodon's PublicFeed)
    assert await timeline_ids(client, "local=true&remote=true") == [remote, local]
    assert await timeline_ids(client) == [remote, local]


async def test_tag_timeline_with_only_media_is_empty(client, settings):
    await tagged(await account_of(await make_user(settings, "alice")), "cats")

    assert await timeline_ids(client, "only_media=true") == []


@pytest.mark.parametrize("tag", ["neverused", "tag-name"])
async def test_tag_timeline_of_no_such_tag_is_an_empty_list(client, tag):
    assert await timeline_ids(client, tag=tag) == []


@pytest.fixture
async def five_cats(settings):
    alice = await account_of(await make_user(settings, "alice"))
    return [str((await tagged(alice, "cats")).id) for _ in range(5)][::-1]  # newest first


async def test_tag_timeline_pages_with_max_id_since_id_and_min_id(client, five_cats):
    ids = five_cats

    assert await timeline_ids(client, "limit=2") == ids[:2]
    assert await timeline_ids(client, f"limit=2&max_id={ids[1]}") == ids[2:4]
    assert await timeline_ids(client, f"limit=2&since_id={ids[4]}") == ids[:2]
    assert await timeline_ids(client, f"limit=2&min_id={ids[4]}") == ids[2:4]
    assert await timeline_ids(client, "limit=400") == ids


async def test_tag_timeline_link_headers_keep_the_filters(client, five_cats):
    ids = five_cats

    first = await client.get("/api/v1/timelines/tag/cats?limit=2&none[]=dogs")
    older = await client.get(link(first, "next"))

    assert (
        link(first, "next") == f"/api/v1/timelines/tag/cats?limit=2&none%5B%5D=dogs&max_id={ids[1]}"
    )
    assert (
        link(first, "prev") == f"/api/v1/timelines/tag/cats?limit=2&none%5B%5D=dogs&min_id={ids[0]}"
    )
    assert [status["id"] for status in await json_of(older)] == ids[2:4]


async def test_tag_timeline_hides_blocked_muted_suspended_and_silenced_authors(client, settings):
    _, token = await member(settings, "viewer")
    authors = {
        name: await account_of(await make_user(settings, name))
        for name in ("blocked", "muted", "suspended", "silenced", "friend")
    }
    posts = {name: str((await tagged(author, "cats")).id) for name, author in authors.items()}
    await client.post(f"/api/v1/accounts/{authors['blocked'].id}/block", headers=bearer(token))
    await client.post(f"/api/v1/accounts/{authors['muted'].id}/mute", headers=bearer(token))
    await Account.filter(id=authors["suspended"].id).update(suspended_at=now())
    await Account.filter(id=authors["silenced"].id).update(silenced_at=now())

    seen = await timeline_ids(client, headers=bearer(token))
    anonymous = await timeline_ids(client)

    assert seen == [posts["friend"]]
    assert anonymous == [posts["friend"], posts["muted"], posts["blocked"]]


# --- search -------------------------------------------------------------------------------


@pytest.fixture
async def cat_tags(settings, backends):
    """ "cat" used first, then "cats", then "catalog"; "category" and "dog" never used."""
    alice = await account_of(await make_user(settings, "alice"))
    for name in ("cat", "cats", "catalog"):
        await tagged(alice, name)
    await upsert_tags(["category", "dog"])
    return alice


async def names_found(query: str, limit: int = 10, offset: int = 0, **options) -> list[str]:
    return [tag.name for tag in await tags.search_tags(query, limit, offset, **options)]


async def test_search_puts_the_exact_name_first_then_the_most_recently_used(cat_tags):
    assert await names_found("cat") == ["cat", "catalog", "cats", "category"]
    assert await names_found("cats") == ["cats"]
    assert await names_found("cat", limit=2, offset=1) == ["catalog", "cats"]


@pytest.mark.parametrize("query", ["#cat", "CAT", "  #Cat "])
async def test_search_ignores_a_leading_hash_and_case(cat_tags, query):
    assert await names_found(query) == ["cat", "catalog", "cats", "category"]


@pytest.mark.parametrize("query", ["", "#", "zebra", "-", "%", "_"])
async def test_search_without_matches_is_empty(cat_tags, query):
    assert await names_found(query) == []


async def test_search_ignores_accents(backends):
    await upsert_tags(["café", "cafeteria", "cafés"])

    assert await names_found("cafe") == ["café", "cafés", "cafeteria"]  # unused: shortest first
    assert await names_found("CAFÉ") == ["café", "cafés", "cafeteria"]
    assert await names_found("cafes") == ["cafés"]


async def test_search_excluding_unreviewed_tags_keeps_the_exact_match_only(cat_tags):
    assert await names_found("cat", exclude_unreviewed=True) == ["cat"]
    assert await names_found("ca", exclude_unreviewed=True) == []


async def test_search_results_carry_history_and_the_viewers_follows(client, settings, cat_tags):
    viewer, token = await member(settings, "viewer")
    await client.post("/api/v1/tags/cats/follow", headers=bearer(token))

    found = await tags.search_tags("cat", 10, 0, viewer_id=viewer.id)
    anonymous = await tags.search_tags("cat", 10, 0)

    assert {tag.name: tag.following for tag in found} == {
        "cat": False, "catalog": False, "cats": True, "category": False,
    }  # fmt: skip
    assert {tag.following for tag in anonymous} == {None}
    assert [day.uses for day in found[0].history] == [1, 0, 0, 0, 0, 0, 0]
