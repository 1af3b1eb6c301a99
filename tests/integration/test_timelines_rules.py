"""What the home timeline holds (followed hashtags, replies, repeated boosts, an author back under
the fan-out limit), and that the push path, the rebuild and the merge on read agree on it."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from quart.typing import TestClientProtocol as QuartClient

from instance.app import create_app
from instance.config import Settings, TimelineSettings
from models.accounts import Account
from models.ids import next_id
from models.posts import Mention, Post, Tag, TagFollow, Visibility
from models.relationships import Block, Follow, FollowState, Mute
from services import timelines
from services.backends import Backends
from services.feed_rules import REBLOG_FALLOFF
from tests.drain import drain
from tests.factories import account_of, bearer, make_user, token_for
from tests.redis_cluster import backends_on_cluster

BIG_LIMIT = 2  # authors with more than 2 local followers are merged at read time
# A scenario marked with it runs twice: the cache on the plain test Redis, and on a 3-node
# Redis Cluster (redis.cache_cluster; the queues stay on the plain Redis).
ON_CLUSTER_TOO = pytest.mark.parametrize("cast", ["single", "cluster"], indirect=True)


@dataclass
class Cast:
    viewer: Account
    token: str
    client: QuartClient
    settings: Settings
    backends: Backends
    tokens: dict[int, str] = field(default_factory=dict)

    async def member(self, name: str, *, followed: bool = False, **follow: bool) -> Account:
        """A local account; ``followed``: the viewer follows it (``follow``: the Follow's flags)."""
        user = await make_user(self.settings, name)
        account = await account_of(user)
        self.tokens[account.id] = await token_for(user, "read write follow")
        if followed:
            await follows(self.viewer, account, **follow)
        return account


@pytest.fixture
async def cast(
    request: pytest.FixtureRequest, settings: Settings, backends: Backends
) -> AsyncIterator[Cast]:
    async with AsyncExitStack() as stack:
        if getattr(request, "param", "single") == "cluster":
            url = request.getfixturevalue("redis_cluster_url")
            backends = await stack.enter_async_context(backends_on_cluster(settings, url))
            settings = backends.settings
        yield await _cast(settings, backends)


async def _cast(settings: Settings, backends: Backends) -> Cast:
    tuned = settings.model_copy(
        update={"timeline": TimelineSettings(fanout_max_followers=BIG_LIMIT)}
    )
    tuned_backends = dataclasses.replace(backends, settings=tuned)
    user = await make_user(tuned, "viewer")
    viewer = await account_of(user)
    cast = Cast(
        viewer=viewer,
        token=await token_for(user, "read write follow"),
        client=create_app(tuned, tuned_backends).test_client(),
        settings=tuned,
        backends=tuned_backends,
    )
    # A timeline that exists before anything is posted (an active user): the push path
    await timelines.rebuild(tuned_backends.redis, tuned, viewer.id)
    return cast


async def follows(follower: Account, followee: Account, **flags: bool) -> None:
    await Follow.create(follower=follower, followee=followee, state=FollowState.ACCEPTED, **flags)


async def remote_account(name: str) -> Account:
    return await Account.create(
        username=name,
        domain="remote.example",
        acct=f"{name}@remote.example",
        uri=f"https://remote.example/users/{name}",
    )


async def write(
    author: Account,
    text: str,
    *,
    tags: tuple[str, ...] = (),
    mentions: tuple[Account, ...] = (),
    reply_to: Post | None = None,
    **columns: object,
) -> Post:
    """A post as posting or the inbox stores it (tags, mentions, reply columns), not fanned out."""
    post_id = next_id()
    uri = f"{author.uri}/statuses/{post_id}"
    post = await Post.create(
        id=post_id,
        author=author,
        uri=uri,
        local=author.domain is None,
        text=text,
        html=f"<p>{html.escape(text)}</p>",
        in_reply_to_id=reply_to.id if reply_to else None,
        in_reply_to_account_id=reply_to.author_id if reply_to else None,  # type: ignore[attr-defined]
        **columns,
    )
    for account in mentions:
        await Mention.create(post=post, account=account)
    for name in tags:
        tag, _ = await Tag.get_or_create(name=name)
        await post.tags.add(tag)
    return post


async def fan_out(cast: Cast, *posts: Post) -> None:
    """What posting does after its commit: enqueue the fan-out jobs; then run them."""
    for post in posts:
        await cast.backends.queue.enqueue_job("fanout", post.id)
    await drain(cast.settings)


async def post(cast: Cast, author: Account, text: str, **kwargs) -> Post:
    written = await write(author, text, **kwargs)
    await fan_out(cast, written)
    return written


async def boost(cast: Cast, booster: Account, original: Post) -> Post:
    written = await Post.create(
        author=booster, uri=f"{booster.uri}/boosts/{original.id}", boost_of=original
    )
    await fan_out(cast, written)
    return written


async def follow_tag(account: Account, name: str) -> None:
    tag, _ = await Tag.get_or_create(name=name)
    await TagFollow.create(account=account, tag=tag)


async def read_all_pages(
    cast: Cast, *, client: QuartClient | None = None, token: str | None = None, limit: int = 3
) -> list[str]:
    """Every page of a home timeline, following the Link rel="next" URLs as clients do."""
    client, token = client or cast.client, token or cast.token
    ids: list[str] = []
    url = f"/api/v1/timelines/home?limit={limit}"
    for _ in range(100):  # bounded: far more pages than these tests hold
        response = await client.get(url, headers=bearer(token))
        assert response.status_code == 200
        page = await response.get_json()
        if not page:
            return ids
        ids += [status["id"] for status in page]
        next_link = response.headers["Link"].split(",")[0]
        parts = urlsplit(next_link[next_link.index("<") + 1 : next_link.index(">")])
        url = f"{parts.path}?{parts.query}"
    raise AssertionError("more pages than expected")


async def forget_timeline(cast: Cast, account: Account) -> None:
    await cast.backends.redis.delete(
        timelines.home_key(account.id), timelines.boosts_key(account.id)
    )


async def three_ways(cast: Cast, account: Account | None = None, *, limit: int = 3) -> list[str]:
    """The home timeline as pushed, as rebuilt from Postgres, and with every author merged on
    read (no one pushed): asserts the three agree and returns it. Run it last: it leaves every
    followed author big (big_authors)."""
    account = account or cast.viewer
    token = cast.tokens.get(account.id, cast.token)
    pushed = await read_all_pages(cast, token=token, limit=limit)

    await forget_timeline(cast, account)
    rebuilt = await read_all_pages(cast, token=token, limit=limit)

    everyone_big = cast.settings.model_copy(
        update={"timeline": TimelineSettings(fanout_max_followers=0)}
    )
    client = create_app(
        everyone_big, dataclasses.replace(cast.backends, settings=everyone_big)
    ).test_client()
    await forget_timeline(cast, account)
    await timelines.recount_big_authors(cast.backends.redis, everyone_big)
    followed = await Follow.filter(follower=account, state=FollowState.ACCEPTED)
    assert all([await timelines.is_big(f.followee_id) for f in followed]), "not merged"
    merged = await read_all_pages(cast, client=client, token=token, limit=limit)

    assert rebuilt == pushed, "rebuild differs from push"
    assert merged == pushed, "merge on read differs from push"
    return pushed


def ids(*posts: Post) -> list[str]:
    """Newest first, as the timeline shows them."""
    return [str(p.id) for p in sorted(posts, key=lambda p: p.id, reverse=True)]


# --- followed hashtags ------------------------------------------------------------------------


async def test_public_posts_with_a_followed_tag_reach_home_from_anyone(cast):
    await follow_tag(cast.viewer, "birds")
    stranger = await cast.member("stranger")
    someone = await cast.member("someone")
    remote = await remote_account("faraway")

    local_post = await post(cast, stranger, "a wren #birds", tags=("birds",))
    remote_post = await post(cast, remote, "a robin #birds", tags=("birds",))
    await post(cast, stranger, "a cat #cats", tags=("cats",))
    await post(cast, stranger, "quiet #birds", tags=("birds",), visibility=Visibility.UNLISTED)
    await post(cast, stranger, "mine #birds", tags=("birds",), visibility=Visibility.FOLLOWERS)
    await post(
        cast,
        stranger,
        "@someone #birds",
        tags=("birds",),
        visibility=Visibility.DIRECT,
        mentions=(someone,),
    )
    await boost(cast, someone, local_post)  # not followed: its boost is not the viewer's

    assert await three_ways(cast) == ids(local_post, remote_post)


async def test_a_followed_tag_reaches_home_even_from_an_author_too_big_to_push(cast):
    await follow_tag(cast.viewer, "birds")
    celebrity = await cast.member("celebrity")
    for n in range(BIG_LIMIT + 1):
        await follows(await cast.member(f"fan{n}"), celebrity)

    tagged = await post(cast, celebrity, "look #birds", tags=("birds",))
    await post(cast, celebrity, "untagged")

    # The viewer does not follow the author: only the push to the tag's followers brings it.
    assert await read_all_pages(cast) == ids(tagged)
    assert await three_ways(cast) == ids(tagged)


async def test_a_public_reply_with_a_followed_tag_ignores_the_reply_rule(cast):
    # Mastodon delivers tag matches through filter_from_tags, which has no reply rule.
    await follow_tag(cast.viewer, "birds")
    friend = await cast.member("friend", followed=True)
    stranger = await cast.member("stranger")
    other = await cast.member("other")
    root = await write(other, "what bird is that?")

    from_stranger = await post(cast, stranger, "a jay #birds", tags=("birds",), reply_to=root)
    from_friend = await post(cast, friend, "a crow #birds", tags=("birds",), reply_to=root)
    await post(cast, friend, "no idea", reply_to=root)  # the reply rule still holds untagged

    assert await three_ways(cast) == ids(from_stranger, from_friend)


async def test_followed_tag_posts_of_muted_and_blocked_authors_stay_hidden(cast):
    await follow_tag(cast.viewer, "birds")
    muted = await cast.member("muted")
    blocked = await cast.member("blocked")
    fine = await cast.member("fine")
    await Mute.create(account=cast.viewer, target=muted)
    await Block.create(account=blocked, target=cast.viewer)

    await post(cast, muted, "shh #birds", tags=("birds",))
    await post(cast, blocked, "go away #birds", tags=("birds",))
    shown = await post(cast, fine, "hello #birds", tags=("birds",))

    assert await three_ways(cast) == ids(shown)


# --- replies --------------------------------------------------------------------------------


async def test_replies_to_people_the_viewer_does_not_follow_stay_out(cast):
    friend = await cast.member("friend", followed=True)
    known = await cast.member("known", followed=True)
    stranger = await cast.member("stranger")
    remote = await remote_account("faraway")
    await follows(cast.viewer, remote)
    strangers_post = await write(stranger, "hot take")
    known_post = await post(cast, known, "question")
    my_post = await post(cast, cast.viewer, "my question")

    # Left out: replies to someone the viewer does not follow, or to a post we do not hold
    await post(cast, friend, "to a stranger", reply_to=strangers_post)
    await post(cast, remote, "to an unknown post", in_reply_to_uri="https://elsewhere.example/n/1")
    shown = [
        known_post,
        my_post,
        await post(cast, friend, "to someone I follow", reply_to=known_post),
        await post(cast, friend, "to me", reply_to=my_post),
        await post(cast, friend, "@viewer look", reply_to=strangers_post, mentions=(cast.viewer,)),
        await post(cast, cast.viewer, "my own reply to a stranger", reply_to=strangers_post),
    ]
    thread_start = await post(cast, friend, "a thread 1/2")
    shown += [thread_start, await post(cast, friend, "2/2", reply_to=thread_start)]

    assert await three_ways(cast) == ids(*shown)


async def test_a_follow_brings_in_the_authors_posts_but_not_their_replies_to_strangers(cast):
    author = await cast.member("author")
    stranger = await cast.member("stranger")
    strangers_post = await write(stranger, "hot take")
    kept = await post(cast, author, "top level")
    await post(cast, author, "to a stranger", reply_to=strangers_post)

    response = await cast.client.post(
        f"/api/v1/accounts/{author.id}/follow", headers=bearer(cast.token)
    )

    assert response.status_code == 200
    assert await three_ways(cast) == ids(kept)


# --- repeated boosts ------------------------------------------------------------------------


@ON_CLUSTER_TOO
async def test_a_boost_of_a_post_just_shown_is_not_shown_again(cast):
    alice = await cast.member("alice", followed=True)
    bob = await cast.member("bob", followed=True)
    carol = await cast.member("carol", followed=True)
    stranger = await cast.member("stranger")

    original = await post(cast, alice, "worth sharing")
    await boost(cast, bob, original)  # the original is right below: left out
    elsewhere = await write(stranger, "from outside")
    first = await boost(cast, bob, elsewhere)
    await boost(cast, carol, elsewhere)  # bob's boost of it is right below: left out
    latest = await post(cast, carol, "something new")

    assert await three_ways(cast) == ids(original, first, latest)


@ON_CLUSTER_TOO
async def test_a_boost_shows_again_once_the_post_is_more_than_forty_entries_down(cast):
    alice = await cast.member("alice", followed=True)
    bob = await cast.member("bob", followed=True)
    carol = await cast.member("carol", followed=True)
    original = await post(cast, alice, "worth sharing")
    filler = [await write(alice, f"filler {n}") for n in range(REBLOG_FALLOFF - 1)]
    await fan_out(cast, *filler)

    await boost(cast, bob, original)  # the original is the 40th entry below: left out
    filler.append(await post(cast, alice, "one more"))
    again = await boost(cast, carol, original)  # now it is the 41st: shown

    assert await three_ways(cast, limit=10) == ids(original, *filler, again)


async def test_the_viewers_own_boost_always_shows(cast):
    # Mastodon would leave it out too (the original is right below); here one's own posts show.
    alice = await cast.member("alice", followed=True)
    bob = await cast.member("bob", followed=True)
    original = await post(cast, alice, "worth sharing")

    mine = await boost(cast, cast.viewer, original)
    await boost(cast, bob, original)  # still a repeat of the original

    assert await three_ways(cast) == ids(original, mine)


@ON_CLUSTER_TOO
async def test_boosts_are_deduplicated_across_pushed_and_merged_authors(cast):
    big = await cast.member("big", followed=True)
    for n in range(BIG_LIMIT):
        await follows(await cast.member(f"fan{n}"), big)  # 3 local followers: merged on read
    small = await cast.member("small", followed=True)

    big_post = await post(cast, big, "merged on read")
    await boost(cast, small, big_post)  # pushed, but the original is just below once merged
    small_post = await post(cast, small, "pushed")
    await boost(cast, big, small_post)  # merged, and the original is just below

    assert await read_all_pages(cast) == ids(big_post, small_post)
    assert await three_ways(cast) == ids(big_post, small_post)


async def test_after_an_unfollow_another_boost_of_the_same_post_shows(cast):
    bob = await cast.member("bob", followed=True)
    carol = await cast.member("carol", followed=True)
    stranger = await cast.member("stranger")
    shared = await write(stranger, "shared by many")
    bobs = await boost(cast, bob, shared)

    response = await cast.client.post(
        f"/api/v1/accounts/{bob.id}/unfollow", headers=bearer(cast.token)
    )
    assert response.status_code == 200
    links = await cast.backends.redis.hgetall(timelines.boosts_key(cast.viewer.id))
    assert str(bobs.id).encode() not in set(links) | set(links.values())
    carols = await boost(cast, carol, shared)

    assert await three_ways(cast) == ids(carols)


async def test_a_follow_keeps_one_entry_per_post_as_a_rebuild_would(cast):
    # Given boosts pushed before the viewer follows the boosted author and an earlier booster
    carol = await cast.member("carol", followed=True)
    bob = await cast.member("bob")
    alice = await cast.member("alice")
    stranger = await cast.member("stranger")
    shared = await write(stranger, "shared")
    earlier = await boost(cast, bob, shared)
    await boost(cast, carol, shared)
    original = await post(cast, alice, "original")
    await boost(cast, carol, original)

    # When the follows bring in the older entries (the boost and the original) below them
    for account in (bob, alice):
        response = await cast.client.post(
            f"/api/v1/accounts/{account.id}/follow", headers=bearer(cast.token)
        )
        assert response.status_code == 200

    # Then the older entry stays and the newer repeat goes, as in id order
    assert await three_ways(cast) == ids(earlier, original)


async def test_polling_with_min_id_does_not_repeat_a_merged_post_as_a_boost(cast):
    big = await cast.member("big", followed=True)
    for n in range(BIG_LIMIT):
        await follows(await cast.member(f"fan{n}"), big)
    small = await cast.member("small", followed=True)
    seen = await post(cast, big, "merged on read")
    assert await read_all_pages(cast) == ids(seen)

    await boost(cast, small, seen)  # pushed; the original is right below it, merged
    newer = await post(cast, small, "news")
    response = await cast.client.get(
        f"/api/v1/timelines/home?min_id={seen.id}", headers=bearer(cast.token)
    )

    assert [status["id"] for status in await response.get_json()] == ids(newer)


# --- an author back under the fan-out limit --------------------------------------------------


@ON_CLUSTER_TOO
async def test_an_author_back_under_the_limit_brings_their_posts_back_to_followers(cast):
    # Given a big author (3 local followers) whose posts are merged on read
    big = await cast.member("big", followed=True)
    picky = await cast.member("picky")
    leaving = await cast.member("leaving")
    await follows(picky, big, show_reblogs=False)
    await follows(leaving, big)
    small = await cast.member("small", followed=True)
    stranger = await cast.member("stranger")
    await timelines.rebuild(cast.backends.redis, cast.settings, picky.id)
    shown_already = await post(cast, small, "pushed earlier")
    strangers_post = await write(stranger, "hot take")

    public = await post(cast, big, "public")
    to_viewer = await post(cast, big, "psst", visibility=Visibility.DIRECT, mentions=(cast.viewer,))
    to_picky = await post(cast, big, "psst", visibility=Visibility.DIRECT, mentions=(picky,))
    await post(cast, big, "to a stranger", reply_to=strangers_post)
    boosted = await boost(cast, big, strangers_post)
    await boost(cast, big, shown_already)  # a repeat: shown_already is just below
    assert await read_all_pages(cast) == ids(shown_already, public, to_viewer, boosted)

    # When a follower leaves and the author, now small, posts again
    await Follow.filter(follower=leaving, followee=big).delete()
    latest = await post(cast, big, "back to normal")

    # Then the big period's posts are back in the timelines, not merged any more
    assert not await timelines.is_big(big.id)
    expected = ids(shown_already, public, to_viewer, boosted, latest)
    assert await read_all_pages(cast) == expected
    assert await read_all_pages(cast, token=cast.tokens[picky.id]) == ids(public, to_picky, latest)
    assert await three_ways(cast, picky) == ids(public, to_picky, latest)
    assert await three_ways(cast) == expected
