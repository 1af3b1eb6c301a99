"""Every page of the web UI renders what a person came for, signed in or not."""

from __future__ import annotations

import re

import pytest

from models.accounts import Account
from models.posts import Visibility
from services import interactions, posting, relationships
from services.instance import set_setting
from services.postcache import forget_accounts
from services.posting import NewPost
from tests.drain import drain
from tests.factories import make_remote_account, member
from tests.integration.ui_support import HTML, get_page, location, sign_in, sign_up, text_of

AS2 = "application/activity+json"


@pytest.fixture
async def cast(settings, backends):
    """alice follows bob; bob posted, alice replied and liked it; bob has a hashtag post."""
    alice, _ = await member(settings, "alice")
    bob, _ = await member(settings, "bob")
    await relationships.follow(backends, alice.id, bob.id)
    post = await posting.create_post(backends, bob.id, NewPost(text="Hello from bob #birds"))
    reply = await posting.create_post(
        backends, alice.id, NewPost(text="@bob welcome!", in_reply_to_id=post)
    )
    await interactions.like(backends, alice.id, post)
    await drain(settings)
    return {"alice": alice, "bob": bob, "post": post, "reply": reply}


async def test_the_landing_page_names_the_instance_and_offers_sign_up_and_in(client, cast):
    html = await get_page(client, "/")

    assert "<h1>Starling Test</h1>" in html
    assert 'href="/register"' in html
    assert 'href="/login"' in html
    assert "Hello from bob" in html  # recent local posts


async def test_a_signed_in_visitor_of_the_landing_page_goes_home(client, cast):
    await sign_in(client)

    assert location(await client.get("/", headers=HTML)) == "/home"


async def test_home_shows_followed_posts_with_counts_and_a_compose_box(client, cast):
    await sign_in(client)

    html = await get_page(client, "/home")

    assert 'action="/statuses"' in html
    assert 'data-limit="280"' in html
    assert "Hello from bob" in html
    assert "Liked</span>" in html  # alice liked it
    assert re.search(r"Liked</span> <span class=\"count\">1</span>", html)


async def test_home_needs_a_signed_in_user(client, cast):
    assert location(await client.get("/home", headers=HTML)) == "/login?next=/home"


async def test_home_pages_with_load_more(client, settings, backends):
    alice, _ = await member(settings, "alice")
    for n in range(25):
        await posting.create_post(backends, alice.id, NewPost(text=f"post number {n}"))
    await sign_in(client)

    first = await get_page(client, "/home")
    more = re.search(r'href="(/home\?max_id=\d+)" data-more', first)
    second = await get_page(client, more.group(1).replace("&amp;", "&"))

    assert "post number 24" in first
    assert "post number 4<" not in first
    assert "post number 4<" in second
    assert "post number 24" not in second
    assert "data-more" not in second


@pytest.mark.parametrize(("path", "title"), [("/public/local", "Local"), ("/public", "Federated")])
async def test_public_timelines_are_readable_signed_out(client, cast, path, title):
    html = await get_page(client, path)

    assert f'<h1 class="page-title">{title}</h1>' in html
    assert "Hello from bob" in html
    assert "welcome!" not in html  # replies stay in their threads


async def test_the_profile_shows_bio_counts_and_posts(client, cast, backends):
    html = await get_page(client, "/@bob")

    assert "<h1>bob</h1>" in html
    assert "@bob@starling.test" in html
    assert "<strong>1</strong> post<" in html
    assert "<strong>1</strong> follower<" in html
    assert "Hello from bob" in html
    assert "Sign in to follow" in html


async def test_the_profile_shows_the_viewers_follow_state(client, cast):
    await sign_in(client)

    html = await get_page(client, "/@bob")

    assert 'action="/accounts/{}/unfollow"'.format(cast["bob"].id) in html
    assert ">Unfollow</button>" in html


async def test_the_profile_of_a_locked_account_offers_a_request(client, cast, backends):
    await Account.filter(id=cast["bob"].id).update(locked=True)
    await forget_accounts(backends.redis, [cast["bob"].id])
    await member(backends.settings, "carol")
    await sign_in(client, "carol")

    html = await get_page(client, "/@bob")

    assert "Request to follow" in html


async def test_followers_and_following_lists(client, cast):
    followers = await get_page(client, "/@bob/followers")
    following = await get_page(client, "/@alice/following")

    assert 'href="/@alice"' in followers
    assert 'href="/@bob"' in following


async def test_a_remote_profile_is_shown_at_user_at_host(client, settings, backends):
    rob = await make_remote_account("rob", "remote.example")
    await Account.filter(id=rob.id).update(display_name="Rob Remote")

    html = await get_page(client, "/@rob@remote.example")

    assert "<h1>Rob Remote</h1>" in html
    assert "@rob@remote.example" in html
    assert 'href="https://remote.example/users/rob"' in html


async def test_an_unknown_profile_is_a_404_page(client, cast):
    html = await get_page(client, "/@nobody", status=404)

    assert "There is nothing here" in html


async def test_the_post_page_shows_the_thread_and_a_reply_box(client, cast):
    await sign_in(client)

    html = await get_page(client, f"/@bob/{cast['post']}")

    assert "Hello from bob" in html
    assert "welcome!" in html
    assert f'name="in_reply_to_id" value="{cast["post"]}"' in html
    assert "@bob </textarea>" in html


async def test_the_post_page_is_readable_signed_out_with_previews_and_the_note_link(
    client, cast, settings
):
    html = await get_page(client, f"/@bob/{cast['post']}")

    uri = f"https://starling.test/users/bob/statuses/{cast['post']}"
    assert f'<link rel="alternate" type="application/activity+json" href="{uri}">' in html
    assert '<meta property="og:description" content="Hello from bob #birds">' in html
    assert f'<meta property="og:url" content="https://starling.test/@bob/{cast["post"]}">' in html
    assert "Sign in</a> to reply" in html


async def test_post_and_profile_urls_still_serve_activitypub_to_peers(client, cast):
    note = await client.get(f"/@bob/{cast['post']}", headers={"Accept": AS2})
    actor = await client.get("/@bob", headers={"Accept": AS2})

    assert (await note.get_json())["type"] == "Note"
    assert (await actor.get_json())["type"] == "Person"
    page = await client.get("/@bob", headers=HTML)
    assert "Accept" in page.headers["Vary"]


async def test_a_post_under_the_wrong_author_is_a_404(client, cast):
    await get_page(client, f"/@alice/{cast['post']}", status=404)


async def test_a_followers_only_post_is_hidden_from_strangers(client, cast, backends):
    secret = await posting.create_post(
        backends, cast["bob"].id, NewPost(text="only followers", visibility=Visibility.FOLLOWERS)
    )

    await get_page(client, f"/@bob/{secret}", status=404)
    await sign_in(client)  # alice follows bob
    assert "only followers" in await get_page(client, f"/@bob/{secret}")


async def test_notifications_list_likes_and_mentions(client, cast):
    await sign_in(client, "bob")

    html = await get_page(client, "/notifications")

    assert "liked your post" in html
    assert "mentioned you" in html
    assert "followed you" in html


async def test_the_hashtag_page_lists_its_posts(client, cast):
    html = await get_page(client, "/tags/birds")

    assert "<h1>#birds</h1>" in html
    assert "Hello from bob" in html


async def test_search_finds_people_and_hashtags(client, cast):
    html = await get_page(client, "/search?q=bir")

    assert 'href="/tags/birds"' in html
    assert "to search posts" in html  # signed out: no post search


async def test_settings_show_the_profile_form_with_current_values(client, cast):
    await sign_in(client)

    html = await get_page(client, "/settings")

    assert 'name="display_name"' in html
    assert 'name="note"' in html
    assert 'id="locked" name="locked"' in html
    assert 'id="indexable" name="indexable" checked' in html
    assert 'action="/settings/password"' in html


@pytest.mark.parametrize(
    ("path", "empty"),
    [
        ("/follow_requests", "No follow requests."),
        ("/settings/blocks", "You block nobody."),
        ("/settings/mutes", "You mute nobody."),
    ],
)
async def test_account_lists_of_settings(client, cast, path, empty):
    await sign_in(client)

    assert empty in await get_page(client, path)


async def test_default_avatars_differ_per_account_and_are_cached(client, cast):
    first = await client.get(f"/avatars/{cast['alice'].id}.svg")
    second = await client.get(f"/avatars/{cast['bob'].id}.svg")

    assert first.mimetype == "image/svg+xml"
    assert await first.get_data() != await second.get_data()
    assert "max-age=31536000" in first.headers["Cache-Control"]
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    html = await get_page(client, "/@bob")
    assert f'src="/avatars/{cast["bob"].id}.svg"' in html


async def test_static_files_are_fingerprinted_cached_and_shared(client, cast):
    html = await get_page(client, "/")
    css = re.search(r'href="(/static/starling\.css\?v=[0-9a-f]+)"', html).group(1)
    js = re.search(r'src="(/static/starling\.js\?v=[0-9a-f]+)"', html).group(1)

    for url in (css, js, "/static/favicon.svg"):
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "immutable" in (await client.get(css)).headers["Cache-Control"]
    assert 'rel="icon"' in html


async def test_an_approval_mode_sign_up_waits_for_a_moderator(client, backends):
    await set_setting("registration_mode", "approved")
    assert "A moderator reviews each new account" in await get_page(client, "/register")

    response = await sign_up(client, "newbie", reason="I like birds")

    assert "will review your account" in await text_of(response)
    assert location(await client.get("/home", headers=HTML)).startswith("/login")
