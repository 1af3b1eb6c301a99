"""Every action of the web UI as a plain form: it does what it says and comes back (303)."""

from __future__ import annotations

import pytest

from models.posts import Post
from models.relationships import Block, Follow, FollowState, Like, Mute
from services import posting
from services.posting import NewPost
from tests.drain import drain
from tests.factories import member
from tests.integration.ui_support import (
    HTML,
    form_to,
    get_page,
    location,
    sign_in,
    submit,
    text_of,
)
from web.ui.render import BACKGROUND_HEADER


@pytest.fixture
async def pair(settings, backends):
    alice, _ = await member(settings, "alice")
    bob, _ = await member(settings, "bob")
    post = await posting.create_post(backends, bob.id, NewPost(text="Bob's first post"))
    return alice, bob, post


async def test_posting_from_home_shows_the_post_on_home(client, pair, settings):
    await sign_in(client)

    response = await submit(
        client, "/home", "/statuses", status="Hello, world", spoiler_text="", visibility="public"
    )

    assert location(response) == "/home"
    await drain(settings)
    html = await get_page(client, "/home")
    assert "Posted." in html
    assert "<p>Hello, world</p>" in html


async def test_a_post_over_280_characters_is_refused_and_kept(client, pair):
    await sign_in(client)

    response = await submit(client, "/home", "/statuses", status="x" * 281)

    html = await get_page(client, location(response))
    assert 'role="alert">Text character limit of 280 exceeded' in html
    assert "x" * 281 + "</textarea>" in html  # nothing typed is lost
    assert await Post.filter(text="x" * 281).count() == 0


async def test_a_content_warning_and_visibility_are_kept(client, pair):
    await sign_in(client)

    await submit(
        client, "/home", "/statuses", status="spoilers", spoiler_text="film", visibility="followers"
    )

    post = await Post.get(text="spoilers")
    assert post.spoiler_text == "film"
    assert post.visibility == "followers"


async def test_replying_from_the_post_page(client, pair):
    _, _, post = pair
    await sign_in(client)

    response = await submit(client, f"/@bob/{post}", "/statuses", status="@bob nice one")

    assert location(response) == f"/@bob/{post}"
    assert "nice one" in await get_page(client, f"/@bob/{post}")
    assert (await Post.get(text="@bob nice one")).in_reply_to_id == post


async def test_like_and_unlike(client, pair):
    _, _, post = pair
    await sign_in(client)
    page = f"/@bob/{post}"

    liked = await submit(client, page, f"/statuses/{post}/like")
    assert location(liked) == page
    assert await Like.filter(post_id=post).count() == 1
    assert 'class="action like on"' in await get_page(client, page)

    await submit(client, page, f"/statuses/{post}/unlike")
    assert await Like.filter(post_id=post).count() == 0


async def test_boost_and_unboost(client, pair):
    alice, _, post = pair
    await sign_in(client)
    page = f"/@bob/{post}"

    await submit(client, page, f"/statuses/{post}/boost")
    assert await Post.filter(author_id=alice.id, boost_of_id=post).count() == 1
    assert "Boosted</span>" in await get_page(client, page)

    await submit(client, page, f"/statuses/{post}/unboost")
    assert await Post.filter(author_id=alice.id, boost_of_id=post).count() == 0


async def test_deleting_ones_own_post(client, pair, backends):
    alice, _, _ = pair
    mine = await posting.create_post(backends, alice.id, NewPost(text="regrettable"))
    await sign_in(client)

    response = await submit(client, f"/@alice/{mine}", f"/statuses/{mine}/delete")

    assert location(response) == "/home"
    assert "Post deleted." in await get_page(client, "/home")
    await get_page(client, f"/@alice/{mine}", status=404)


async def test_a_feed_refreshed_in_another_tab_leaves_the_message_for_the_page_opened(
    client, pair, backends
):
    alice, _, _ = pair
    mine = await posting.create_post(backends, alice.id, NewPost(text="regrettable"))
    await sign_in(client)
    await submit(client, f"/@alice/{mine}", f"/statuses/{mine}/delete")

    # Before the page the delete leads to, another tab's live feed fetches its items
    refreshed = await client.get("/notifications", headers=HTML | {BACKGROUND_HEADER: "1"})

    assert "Post deleted." not in await text_of(refreshed)
    assert "Post deleted." in await get_page(client, "/home")


async def test_follow_and_unfollow(client, pair):
    alice, bob, _ = pair
    await sign_in(client)

    response = await submit(client, "/@bob", f"/accounts/{bob.id}/follow")
    assert location(response) == "/@bob"
    assert await Follow.filter(follower_id=alice.id, followee_id=bob.id).count() == 1
    assert ">Unfollow</button>" in await get_page(client, "/@bob")

    await submit(client, "/@bob", f"/accounts/{bob.id}/unfollow")
    assert await Follow.filter(follower_id=alice.id, followee_id=bob.id).count() == 0


async def _alice_asks_locked_bob(app, client, bob):
    """bob locks his account on his browser; alice asks to follow him on hers."""
    bob_browser = app.test_client()
    await sign_in(bob_browser, "bob")
    await submit(bob_browser, "/settings", "/settings/profile", locked="on")
    await sign_in(client)
    await submit(client, "/@bob", f"/accounts/{bob.id}/follow")
    return bob_browser


async def test_a_follow_request_is_accepted_from_the_requests_page(app, client, pair):
    alice, bob, _ = pair

    bob_browser = await _alice_asks_locked_bob(app, client, bob)

    assert "Requested</button>" in await get_page(client, "/@bob")
    assert 'href="/@alice"' in await get_page(bob_browser, "/follow_requests")
    await submit(bob_browser, "/follow_requests", f"/accounts/{alice.id}/authorize")

    follow = await Follow.get(follower_id=alice.id, followee_id=bob.id)
    assert follow.state == FollowState.ACCEPTED


async def test_a_follow_request_can_be_rejected(app, client, pair):
    alice, bob, _ = pair
    bob_browser = await _alice_asks_locked_bob(app, client, bob)

    await submit(bob_browser, "/follow_requests", f"/accounts/{alice.id}/reject")

    assert await Follow.filter(follower_id=alice.id).count() == 0


async def test_block_and_unblock_from_the_blocks_list(client, pair):
    alice, bob, _ = pair
    await sign_in(client)

    await submit(client, "/@bob", f"/accounts/{bob.id}/block")
    assert await Block.filter(account_id=alice.id, target_id=bob.id).count() == 1
    assert 'href="/@bob"' in await get_page(client, "/settings/blocks")

    await submit(client, "/settings/blocks", f"/accounts/{bob.id}/unblock")
    assert await Block.filter(account_id=alice.id).count() == 0


async def test_mute_and_unmute_from_the_mutes_list(client, pair):
    alice, bob, _ = pair
    await sign_in(client)

    await submit(client, "/@bob", f"/accounts/{bob.id}/mute")
    assert await Mute.filter(account_id=alice.id, target_id=bob.id).count() == 1

    await submit(client, "/settings/mutes", f"/accounts/{bob.id}/unmute")
    assert await Mute.filter(account_id=alice.id).count() == 0


async def test_saving_the_profile(client, pair):
    await sign_in(client)

    response = await submit(
        client,
        "/settings",
        "/settings/profile",
        display_name="Alice A.",
        note="I like birds.",
        discoverable="on",
    )

    html = await get_page(client, location(response))
    assert "Profile saved." in html
    profile = await get_page(client, "/@alice")
    assert "<h1>Alice A.</h1>" in profile
    assert "<p>I like birds.</p>" in profile


async def test_following_a_hashtag(client, pair):
    await sign_in(client)

    response = await submit(client, "/tags/birds", "/tags/birds/follow")

    assert "You follow #birds." in await get_page(client, location(response))
    assert "Unfollow #birds" in await get_page(client, "/tags/birds")


async def test_an_action_by_a_visitor_asks_to_sign_in(client, pair):
    _, _, post = pair
    form = form_to(await get_page(client, "/login"), "/login")

    response = await client.post(
        f"/statuses/{post}/like", form={"csrf_token": form.fields["csrf_token"]}, headers=HTML
    )

    assert location(response).startswith("/login")
    assert await Like.filter(post_id=post).count() == 0
