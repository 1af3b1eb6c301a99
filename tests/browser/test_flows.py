"""Two people meet in a real Chromium: sign up, follow, post, like, boost, reply, and the
notifications — once with JavaScript and once without (plain forms and redirects)."""

from __future__ import annotations

import asyncio
import re

import pytest
from playwright.async_api import Page, Route, expect

from tests.browser.people import post, register, reload_until, sign_in


async def _article(page: Page, text: str):
    return page.locator("article.post", has_text=text).first


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
async def test_two_people_follow_post_like_boost_reply_and_are_notified(new_context, javascript):
    tag = "js" if javascript else "nojs"
    author_name, reader_name = f"author_{tag}", f"reader_{tag}"
    author = await (await new_context(java_script_enabled=javascript)).new_page()
    reader = await (await new_context(java_script_enabled=javascript)).new_page()
    # Given two people who signed up
    await register(author, author_name)
    await register(reader, reader_name)
    # When the reader follows the author
    await reader.goto(f"/@{author_name}")
    await reader.get_by_role("button", name="Follow", exact=True).click()
    await expect(reader.get_by_role("button", name="Unfollow")).to_be_visible()
    # ... the author posts, and the reader sees it on the home timeline
    text = f"Hello from {author_name}, with a #{tag}tag"
    await post(author, text)
    await expect(author.get_by_role("status")).to_have_text("Posted.")
    await reader.goto("/home")
    await reload_until(reader, text)
    # ... likes and boosts it
    card = await _article(reader, text)
    await card.get_by_role("button", name=re.compile("^Like")).click()
    await expect(card.get_by_role("button", name=re.compile("^Liked"))).to_contain_text("1")
    card = await _article(reader, text)
    await card.get_by_role("button", name=re.compile("^Boost")).click()
    await expect(
        (await _article(reader, text)).get_by_role("button", name=re.compile("^Boosted"))
    ).to_contain_text("1")
    # ... and replies on the post's page
    await (await _article(reader, text)).get_by_role("link", name=re.compile("^Reply")).click()
    await expect(reader).to_have_url(re.compile(rf"/@{author_name}/\d+#reply$"))
    reply_box = reader.get_by_label(re.compile("^Reply to"))
    await expect(reply_box).to_have_value(f"@{author_name} ")
    await reply_box.fill(f"@{author_name} nice to meet you")
    await reader.get_by_role("button", name="Reply", exact=True).click()
    await expect(reader.locator(".thread")).to_contain_text("nice to meet you")
    # Then the author sees each of it in the notifications
    await author.goto("/notifications")
    notes = author.locator("main")
    for what in ("followed you", "liked your post", "boosted your post", "mentioned you"):
        await expect(notes).to_contain_text(what)
    await expect(author.locator("main")).to_contain_text(reader_name)


async def test_a_failed_sign_in_says_so(new_context):
    page = await (await new_context()).new_page()

    await sign_in(page, "nobody_here", "wrong password")

    await expect(page.get_by_role("alert")).to_have_text("Invalid username, e-mail or password")
    await expect(page.get_by_label("Username or e-mail")).to_have_value("nobody_here")


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
async def test_a_281_character_post_says_it_is_too_long(new_context, javascript):
    page = await (await new_context(java_script_enabled=javascript)).new_page()
    await register(page, f"long_{'js' if javascript else 'nojs'}")

    await post(page, "a" * 281)

    alert = page.get_by_role("alert")
    if javascript:  # the counter said it first, and the form did not go
        await expect(page.locator("#compose-count")).to_have_text("1 over the limit")
        await expect(alert).to_contain_text("1 character over the limit of 280")
    else:
        await expect(alert).to_contain_text("character limit of 280 exceeded")
    await expect(page.get_by_label("What’s on your mind?")).to_have_value("a" * 281)


async def test_a_form_posted_without_its_csrf_token_says_why(new_context):
    page = await (await new_context()).new_page()
    await register(page, "csrf_victim")
    await page.get_by_label("What’s on your mind?").fill("forged?")

    await page.locator("#compose input[name=csrf_token]").evaluate("node => node.remove()")
    await page.get_by_role("button", name="Post", exact=True).click()

    await expect(page.get_by_role("heading", name="Form expired")).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("This form has expired")


async def _reader_following(new_context, author_name: str, reader_name: str):  # type: ignore[no-untyped-def]
    """Two people signed up in their own browsers, the reader following the author."""
    author = await (await new_context()).new_page()
    reader = await (await new_context()).new_page()
    await register(author, author_name)
    await register(reader, reader_name)
    await reader.goto(f"/@{author_name}")
    await reader.get_by_role("button", name="Follow", exact=True).click()
    await expect(reader.get_by_role("button", name="Unfollow")).to_be_visible()
    return author, reader


async def _delete_own_post(page: Page, username: str, text: str) -> None:
    """From the author's profile, as a person would: Delete, confirm, see it said."""
    await page.goto(f"/@{username}")
    page.on("dialog", lambda dialog: dialog.accept())
    mine = page.locator("article.post", has_text=text).first
    await mine.get_by_role("button", name=re.compile("^Delete")).click()
    await expect(page.get_by_role("status")).to_have_text("Post deleted.")


async def test_posts_and_notifications_arrive_without_a_reload(new_context):
    author, reader = await _reader_following(new_context, "live_author", "live_reader")
    # Given the reader's home and the author's notifications are open
    await reader.goto("/home")
    await author.goto("/notifications")
    await expect(author.get_by_text("followed you")).to_be_visible()
    # When the author posts (from another tab), the reader's home shows it as it comes
    writer = await author.context.new_page()
    await post(writer, "Live from the author")
    await expect(reader.locator("article.post", has_text="Live from the author")).to_be_visible()
    # ... and the reader's like reaches the author's open notifications page
    card = reader.locator("article.post", has_text="Live from the author").first
    await card.get_by_role("button", name=re.compile("^Like")).click()
    await expect(author.get_by_text("liked your post")).to_be_visible()
    # ... and, on any other page, the badge in the navigation counts what came
    await writer.goto("/public/local")
    await card.get_by_role("button", name=re.compile("^Boost")).click()
    await expect(writer.locator("[data-unread]")).to_have_text("1")
    # Then a deleted post leaves the reader's home without a reload too
    await _delete_own_post(writer, "live_author", "Live from the author")
    await expect(reader.locator("article.post", has_text="Live from the author")).to_have_count(0)


async def test_a_post_deleted_while_the_feed_refreshes_does_not_come_back(new_context):
    author, reader = await _reader_following(new_context, "race_author", "race_reader")
    await reader.goto("/home")
    await post(author, "Soon gone")
    await expect(reader.locator("article.post", has_text="Soon gone")).to_be_visible()
    # Given the reader's next refresh of its feed is slow: its page is fetched (with the
    # post still in it) and held back until the post has been deleted
    release, fetched = asyncio.Event(), asyncio.Event()

    async def slow(route: Route) -> None:
        response = await route.fetch()
        fetched.set()
        await release.wait()
        await route.fulfill(response=response)

    await reader.route("**/home*", slow)
    await post(author, "Still here")  # the update that starts the refresh
    await asyncio.wait_for(fetched.wait(), 10)
    # When the author deletes the first post, the reader's feed drops it at once ...
    await _delete_own_post(author, "race_author", "Soon gone")
    await expect(reader.locator("article.post", has_text="Soon gone")).to_have_count(0)
    # ... and the refresh, rendered before the delete, brings the new post but not that one
    release.set()
    await expect(reader.locator("article.post", has_text="Still here")).to_be_visible()
    await expect(reader.locator("article.post", has_text="Soon gone")).to_have_count(0)
