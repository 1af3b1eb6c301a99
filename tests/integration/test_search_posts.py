"""Searching posts through /api/v2/search on a real Whoosh index: words, phrases, tags,
``from:``, ranking, paging, and exactly what each searcher may find."""

from __future__ import annotations

import pytest
from tortoise.timezone import now

from models.accounts import Account
from models.posts import Post, Visibility
from models.relationships import Block, Follow, FollowState, Mute
from services.postcache import forget_accounts, forget_posts
from tests.factories import bearer, make_post, member
from tests.integration.search_support import found_texts, fresh_index, indexed, search
from tests.integration.test_federation_inbox import apply_all, create_note
from tests.integration.test_federation_inbox import post as deliver


@pytest.fixture(autouse=True)
async def index(settings, backends):
    await fresh_index(settings)


async def test_words_match_whatever_their_case_accents_and_endings(client, settings):
    alice, token = await member(settings, "alice")
    await make_post(alice, "Running to the Café with friends")
    await make_post(alice, "walking home")
    await indexed(settings)

    for query in ("run café", "RUNS cafe", "friend", "CAFÉ running"):
        assert await found_texts(client, token, query) == ["Running to the Café with friends"]
    assert await found_texts(client, token, "swimming") == []


async def test_every_word_must_match(client, settings):
    alice, token = await member(settings, "alice")
    await make_post(alice, "apples and pears")
    await make_post(alice, "apples alone")
    await indexed(settings)

    assert await found_texts(client, token, "apples pears") == ["apples and pears"]
    assert sorted(await found_texts(client, token, "apples")) == [
        "apples alone",
        "apples and pears",
    ]


async def test_relevance_first_then_the_newer_post(client, settings):
    alice, token = await member(settings, "alice")
    await make_post(alice, "kite maker")  # older, as relevant as the next
    await make_post(alice, "kite flier")
    await make_post(alice, "kite kite kite")  # most relevant
    await indexed(settings)

    assert await found_texts(client, token, "kite") == [
        "kite kite kite",
        "kite flier",
        "kite maker",
    ]


async def test_a_quoted_phrase_matches_those_words_together_in_order(client, settings):
    alice, token = await member(settings, "alice")
    await make_post(alice, "the quick brown fox")
    await make_post(alice, "brown and quick")
    await indexed(settings)

    assert await found_texts(client, token, '"quick brown"') == ["the quick brown fox"]
    assert await found_texts(client, token, '"quick brown') == ["the quick brown fox"]  # unclosed
    assert await found_texts(client, token, "-fox quick") == ["brown and quick"]


async def test_hashtags_by_tag_and_by_word(client, settings):
    _, token = await member(settings, "alice")
    for text in ("I love #Python", "python snakes are long", "#Rust is fine"):
        response = await client.post(
            "/api/v1/statuses", json={"status": text}, headers=bearer(token)
        )
        assert response.status_code == 200
    await indexed(settings)

    tagged = await search(client, token, "#PYTHON", type="statuses")
    assert [s["tags"][0]["name"] for s in tagged["statuses"]] == ["python"]
    worded = await search(client, token, "python", type="statuses")
    assert len(worded["statuses"]) == 2


async def test_japanese_words_and_emoji_only_posts_are_found(client, settings):
    alice, token = await member(settings, "alice")
    await make_post(alice, "東京に行きました")
    await make_post(alice, "京都の秋")
    await make_post(alice, "🎉🎉")
    await indexed(settings)

    assert await found_texts(client, token, "東京") == ["東京に行きました"]
    assert await found_texts(client, token, "京都") == ["京都の秋"]
    assert await found_texts(client, token, "行きました") == ["東京に行きました"]
    assert await found_texts(client, token, "🎉") == ["🎉🎉"]


async def test_from_narrows_to_one_author(client, settings):
    alice, token = await member(settings, "alice")
    bob, _ = await member(settings, "bob")
    remote = await Account.create(
        username="Rob", domain="remote.example", acct="rob@remote.example",
        uri="https://remote.example/users/rob",
    )  # fmt: skip
    await make_post(alice, "tea by alice")
    await make_post(bob, "tea by bob")
    await make_post(remote, "tea by rob")
    await indexed(settings)

    assert await found_texts(client, token, "tea from:me") == ["tea by alice"]
    assert await found_texts(client, token, "from:@bob tea") == ["tea by bob"]
    assert await found_texts(client, token, "tea from:Rob@remote.example") == ["tea by rob"]
    assert await found_texts(client, token, "from:me") == ["tea by alice"]  # Phanpy's probe
    assert await found_texts(client, token, "tea from:nobody") == []
    by_id = await search(client, token, "tea", type="statuses", account_id=str(bob.id))
    assert [s["account"]["id"] for s in by_id["statuses"]] == [str(bob.id)]


@pytest.fixture
async def cast(settings):
    """author posts one post of each visibility; follower follows (accepted), pending asked,
    mentioned is mentioned in the direct and followers-only ones, stranger is nobody."""
    names = ("author", "follower", "pending", "mentioned", "stranger")
    people = {name: await member(settings, name) for name in names}
    author = people["author"][0]
    await Follow.create(follower=people["follower"][0], followee=author, state=FollowState.ACCEPTED)
    await Follow.create(follower=people["pending"][0], followee=author, state=FollowState.PENDING)
    mentioned = [people["mentioned"][0]]
    for visibility in Visibility:
        await make_post(
            author,
            f"secret {visibility.value}",
            visibility=visibility,
            mentions=mentioned if visibility in (Visibility.DIRECT, Visibility.FOLLOWERS) else (),
        )
    await indexed(settings)
    return people


async def test_each_searcher_finds_what_they_may_see(client, cast):
    seen = {
        name: sorted(await found_texts(client, token, "secret"))
        for name, (_, token) in cast.items()
    }

    every = ["secret direct", "secret followers", "secret public", "secret unlisted"]
    assert seen["author"] == every
    assert seen["mentioned"] == every
    assert seen["follower"] == ["secret followers", "secret public", "secret unlisted"]
    assert seen["pending"] == ["secret public", "secret unlisted"]
    assert seen["stranger"] == ["secret public", "secret unlisted"]


async def test_blocks_either_way_and_mutes_hide_posts(client, cast):
    author = cast["author"][0]
    stranger, stranger_token = cast["stranger"]
    follower, follower_token = cast["follower"]
    mentioned, mentioned_token = cast["mentioned"]
    await Block.create(account=author, target=stranger)  # the author blocks the searcher
    await Block.create(account=follower, target=author)  # the searcher blocks the author
    await Mute.create(account=mentioned, target=author)

    for token in (stranger_token, follower_token, mentioned_token):
        assert await found_texts(client, token, "secret") == []


async def test_an_account_that_opted_out_is_found_only_by_followers_and_the_mentioned(client, cast):
    _, token = cast["author"]
    response = await client.patch(
        "/api/v1/accounts/update_credentials", json={"indexable": False}, headers=bearer(token)
    )
    assert (await response.get_json())["indexable"] is False

    assert await found_texts(client, cast["stranger"][1], "secret") == []
    assert await found_texts(client, cast["pending"][1], "secret") == []
    assert len(await found_texts(client, cast["follower"][1], "secret")) == 3
    # Mentioned in the direct and the followers-only post only: those two.
    assert len(await found_texts(client, cast["mentioned"][1], "secret")) == 2
    assert len(await found_texts(client, cast["author"][1], "secret")) == 4


async def test_a_suspended_author_is_gone_at_once_and_back_when_unsuspended(client, backends, cast):
    author = cast["author"][0]
    _, token = cast["stranger"]
    await Account.filter(id=author.id).update(suspended_at=now())
    await forget_accounts(backends.redis, [author.id])  # as a suspension does

    assert await found_texts(client, token, "secret") == []

    await Account.filter(id=author.id).update(suspended_at=None)
    await forget_accounts(backends.redis, [author.id])
    assert len(await found_texts(client, token, "secret")) == 2


async def test_deleted_and_edited_posts_are_searched_as_they_are_now(client, backends, settings):
    alice, token = await member(settings, "alice")
    gone = await make_post(alice, "ephemeral words")
    edited = await make_post(alice, "first draft")
    await indexed(settings)

    response = await client.delete(f"/api/v1/statuses/{gone.id}", headers=bearer(token))
    assert response.status_code == 200
    # An edit, whichever path makes it (a peer's Update does this): the index follows the row.
    await Post.filter(id=edited.id).update(html="<p>final version</p>", edited_at=now())
    await forget_posts(backends.redis, [edited.id])
    await indexed(settings)

    assert await found_texts(client, token, "ephemeral") == []
    assert await found_texts(client, token, "draft") == []
    assert await found_texts(client, token, "final") == ["final version"]


async def test_remote_posts_delivered_to_the_inbox_are_searchable_if_their_author_allows(
    peer_client, fed, fediverse, settings
):
    alice, _ = await member(settings, "alice")
    _, token = await member(settings, "searcher")
    server = fediverse.server("remote.example")
    rob = server.actor("rob", indexable=True)
    quiet = server.actor("quiet")  # no "indexable": Mastodon reads that as an opt-out
    for actor in (rob, quiet):
        # Mentioning alice, so the inbox keeps the post (nobody here follows them).
        note = create_note(
            actor, f"{actor.id}/statuses/1", "<p>hi <b>fediverse</b></p>", [alice.uri]
        )
        assert (await deliver(peer_client, actor, note)).status_code == 202
    await apply_all(fed)
    await indexed(settings)

    found = await search(peer_client, token, "fediverse", type="statuses")
    assert [s["uri"] for s in found["statuses"]] == [f"{rob.id}/statuses/1"]


@pytest.mark.parametrize(
    "query",
    ['AND (', '"unclosed', "OR", "*", "?", "field:value", "from:", "#", "-", '""', "\\", "(((",
     "a" * 2000, "NOT NOT", "title:[a TO", "🙂" * 50, "\x7f", "from:me from:me", "#" * 40],
)  # fmt: skip
async def test_malformed_queries_give_results_or_none_never_an_error(client, settings, query):
    alice, token = await member(settings, "alice")
    await make_post(alice, "and or not")
    await indexed(settings)

    results = await search(client, token, query)
    assert set(results) == {"accounts", "statuses", "hashtags"}


async def test_offset_limit_and_id_ranges_page_the_results(client, settings):
    alice, token = await member(settings, "alice")
    posts = [await make_post(alice, f"page item {n}") for n in range(5)]
    await indexed(settings)
    ids = [str(p.id) for p in reversed(posts)]  # equal relevance: newest first

    everything = await search(client, token, "page", type="statuses")
    assert [s["id"] for s in everything["statuses"]] == ids
    first = await search(client, token, "page", type="statuses", limit=2)
    second = await search(client, token, "page", type="statuses", limit=2, offset=2)
    assert [s["id"] for s in first["statuses"] + second["statuses"]] == ids[:4]
    ranged = await search(client, token, "page", type="statuses", max_id=ids[1], min_id=ids[4])
    assert [s["id"] for s in ranged["statuses"]] == ids[2:4]


async def test_without_a_token_posts_are_not_searched_and_offset_or_resolve_is_401(
    client, settings
):
    alice, _ = await member(settings, "alice")
    await make_post(alice, "public words")
    await indexed(settings)

    anonymous = await search(client, None, "words")
    assert anonymous["statuses"] == []
    for extra in ({"offset": "1", "type": "accounts"}, {"resolve": "true"}):
        response = await client.get("/api/v2/search", query_string={"q": "x", **extra})
        assert response.status_code == 401
        assert "error" in await response.get_json()
    missing = await client.get("/api/v2/search")
    assert missing.status_code == 400
