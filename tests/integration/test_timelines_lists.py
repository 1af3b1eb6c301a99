"""The public timelines and an account's posts, with visibility enforced per viewer."""

from __future__ import annotations

from models.posts import Post, Visibility
from models.relationships import Follow, FollowState
from tests.factories import account_of, bearer, make_post, make_user, token_for


async def ids_of(response) -> list[str]:
    assert response.status_code == 200
    return [status["id"] for status in await response.get_json()]


async def test_public_timeline_shows_only_public_top_level_originals(client, settings):
    author = await account_of(await make_user(settings, "author"))
    public = await make_post(author, "for everyone")
    await make_post(author, "quiet", visibility=Visibility.UNLISTED)
    await make_post(author, "friends", visibility=Visibility.FOLLOWERS)
    await make_post(author, "secret", visibility=Visibility.DIRECT)
    reply = await make_post(author, "a reply")
    await Post.filter(id=reply.id).update(
        in_reply_to_id=public.id, in_reply_to_account_id=author.id
    )
    await Post.create(author=author, uri=f"{author.uri}/boost", boost_of=public)

    assert await ids_of(await client.get("/api/v1/timelines/public")) == [str(public.id)]
    assert await ids_of(await client.get("/api/v1/timelines/public?local=true")) == [str(public.id)]
    assert await ids_of(await client.get("/api/v1/timelines/public?remote=true")) == []


async def test_account_statuses_follow_the_visibility_rules(client, settings):
    author = await account_of(await make_user(settings, "author"))
    stranger_user = await make_user(settings, "stranger")
    follower_user = await make_user(settings, "follower")
    await Follow.create(
        follower=await account_of(follower_user), followee=author, state=FollowState.ACCEPTED
    )
    public = await make_post(author, "hello")
    unlisted = await make_post(author, "quiet", visibility=Visibility.UNLISTED)
    private = await make_post(author, "friends", visibility=Visibility.FOLLOWERS)
    await make_post(author, "secret", visibility=Visibility.DIRECT)
    url = f"/api/v1/accounts/{author.id}/statuses"

    anonymous = await ids_of(await client.get(url))
    stranger = await ids_of(await client.get(url, headers=bearer(await token_for(stranger_user))))
    follower = await ids_of(await client.get(url, headers=bearer(await token_for(follower_user))))

    assert anonymous == stranger == [str(unlisted.id), str(public.id)]
    assert follower == [str(private.id), str(unlisted.id), str(public.id)]


async def test_account_statuses_can_leave_out_boosts_and_replies_but_keep_threads(client, settings):
    author = await account_of(await make_user(settings, "author"))
    other = await account_of(await make_user(settings, "other"))
    original = await make_post(other, "theirs")
    first = await make_post(author, "thread start")
    self_reply = await make_post(author, "thread continues")
    await Post.filter(id=self_reply.id).update(
        in_reply_to_id=first.id, in_reply_to_account_id=author.id
    )
    reply = await make_post(author, "replying to other")
    await Post.filter(id=reply.id).update(
        in_reply_to_id=original.id, in_reply_to_account_id=other.id
    )
    boost = await Post.create(author=author, uri=f"{author.uri}/boost", boost_of=original)
    url = f"/api/v1/accounts/{author.id}/statuses"

    everything = await ids_of(await client.get(url))
    trimmed = await ids_of(await client.get(f"{url}?exclude_replies=true&exclude_reblogs=true"))

    assert everything == [str(p.id) for p in (boost, reply, self_reply, first)]
    assert trimmed == [str(self_reply.id), str(first.id)]


async def test_boost_in_account_statuses_is_a_wrapper_around_the_original(client, settings):
    author = await account_of(await make_user(settings, "author"))
    other = await account_of(await make_user(settings, "other"))
    original = await make_post(other, "theirs")
    boost = await Post.create(author=author, uri=f"{author.uri}/boost", boost_of=original)

    [status] = await (await client.get(f"/api/v1/accounts/{author.id}/statuses")).get_json()

    assert status["id"] == str(boost.id)
    assert status["account"]["username"] == "author"
    assert status["reblog"]["id"] == str(original.id)
    assert status["reblog"]["account"]["username"] == "other"


async def test_pinned_statuses_answer_an_empty_list(client, settings):
    author = await account_of(await make_user(settings, "author"))
    await make_post(author, "not pinned")
    response = await client.get(f"/api/v1/accounts/{author.id}/statuses?pinned=true")
    assert await ids_of(response) == []


async def test_statuses_of_an_unknown_account_are_404(client):
    for raw in ("123456789", "abc", "99999999999999999999"):
        response = await client.get(f"/api/v1/accounts/{raw}/statuses")
        assert response.status_code == 404
