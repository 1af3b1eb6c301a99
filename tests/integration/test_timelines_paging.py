"""Mastodon's paging on timelines: max_id, since_id, min_id, limit, and Link headers."""

from __future__ import annotations

import pytest

from services import timelines
from tests.drain import drain
from tests.factories import account_of, bearer, make_post, make_user, token_for


@pytest.fixture
async def five_posts(settings, backends):
    """Alice's home timeline holding five of her own posts; returns (token, ids newest first)."""
    alice = await make_user(settings, "alice")
    account = await account_of(alice)
    await timelines.rebuild(backends.redis, settings, account.id)
    ids = []
    for n in range(5):
        post = await make_post(account, f"post {n}")
        await backends.queue.enqueue_job("fanout", post.id)
        ids.append(str(post.id))
    await drain(settings)
    return await token_for(alice, "read"), list(reversed(ids))


async def get_ids(client, token, query):
    response = await client.get(f"/api/v1/timelines/home?{query}", headers=bearer(token))
    assert response.status_code == 200
    return [status["id"] for status in await response.get_json()], response


async def test_limit_defaults_to_twenty_and_is_capped_at_forty(client, five_posts):
    token, ids = five_posts
    assert (await get_ids(client, token, ""))[0] == ids
    assert (await get_ids(client, token, "limit=2"))[0] == ids[:2]
    assert (await get_ids(client, token, "limit=400"))[0] == ids


async def test_max_id_pages_backwards(client, five_posts):
    token, ids = five_posts
    assert (await get_ids(client, token, f"max_id={ids[1]}&limit=2"))[0] == ids[2:4]


async def test_since_id_gives_the_newest_above_it(client, five_posts):
    token, ids = five_posts
    assert (await get_ids(client, token, f"since_id={ids[4]}&limit=2"))[0] == ids[:2]


async def test_min_id_gives_the_page_just_above_it(client, five_posts):
    token, ids = five_posts
    assert (await get_ids(client, token, f"min_id={ids[4]}&limit=2"))[0] == ids[2:4]


async def test_link_header_points_to_the_next_and_previous_pages(client, five_posts, settings):
    token, ids = five_posts
    _, response = await get_ids(client, token, "limit=2")
    link = response.headers["Link"]
    assert (
        f'<{settings.base_url}/api/v1/timelines/home?limit=2&max_id={ids[1]}>; rel="next"' in link
    )
    assert (
        f'<{settings.base_url}/api/v1/timelines/home?limit=2&min_id={ids[0]}>; rel="prev"' in link
    )


async def test_empty_page_has_no_link_header(client, five_posts):
    token, ids = five_posts
    page, response = await get_ids(client, token, f"max_id={ids[4]}")
    assert page == []
    assert "Link" not in response.headers


@pytest.mark.parametrize("query", ["max_id=abc", "limit=many", "since_id=-5"])
async def test_bad_paging_parameters_are_422(client, five_posts, query):
    token, _ = five_posts
    response = await client.get(f"/api/v1/timelines/home?{query}", headers=bearer(token))
    assert response.status_code == 422
    assert "error" in await response.get_json()


@pytest.fixture
async def muted_first(settings, client):
    """Public posts: bob's 3 oldest, carol's 5, bob's 3 newest; the reader mutes bob. Returns
    (the reader's headers, carol's ids newest first, the id just below every post)."""
    reader = await make_user(settings, "reader")
    bob = await account_of(await make_user(settings, "bob"))
    carol = await account_of(await make_user(settings, "carol"))
    posts = [await make_post(bob, f"early {n}") for n in range(3)]
    posts += [await make_post(carol, f"carol {n}") for n in range(5)]
    posts += [await make_post(bob, f"late {n}") for n in range(3)]
    headers = bearer(await token_for(reader, "read write follow"))
    response = await client.post(f"/api/v1/accounts/{bob.id}/mute", headers=headers)
    assert response.status_code == 200
    carols = [str(post.id) for post in reversed(posts) if post.author_id == carol.id]
    return headers, carols, posts[0].id - 1


async def _public_ids(client, headers, query):
    response = await client.get(f"/api/v1/timelines/public?{query}", headers=headers)
    assert response.status_code == 200
    return [status["id"] for status in await response.get_json()]


async def test_a_page_whose_newest_posts_are_hidden_is_filled_from_older_ones(client, muted_first):
    headers, carols, _ = muted_first
    assert await _public_ids(client, headers, "limit=3") == carols[:3]


async def test_a_min_id_page_whose_oldest_posts_are_hidden_is_filled_from_newer_ones(
    client, muted_first
):
    headers, carols, below_all = muted_first
    assert await _public_ids(client, headers, f"min_id={below_all}&limit=3") == carols[2:]
