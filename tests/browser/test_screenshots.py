"""A screenshot of each main page at phone and desktop widths, light and dark, for a person
to look at (tests/browser/screenshots/), and checks any page must pass: no control without a
label, no horizontal scrolling at 375 px, no console errors (a CSP violation is one)."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.people import post, register, reload_until
from tests.instances import RunningInstance

WIDTHS = {"phone": {"width": 375, "height": 812}, "desktop": {"width": 1280, "height": 900}}

UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea, button'))
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !(el.tagName === 'BUTTON' && el.textContent.trim()))
  .map(el => el.outerHTML.slice(0, 80))"""

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture(scope="module")
async def scene(browser: Browser, instance: RunningInstance) -> tuple[str, str]:
    """Two people, a follow, posts with a content warning and a hashtag, a like and a reply;
    answers the reply's post page and the poster's profile."""
    poster_context = await browser.new_context(base_url=instance.base_url)
    fan_context = await browser.new_context(base_url=instance.base_url)
    try:
        return await _set_the_scene(await poster_context.new_page(), await fan_context.new_page())
    finally:
        await poster_context.close()
        await fan_context.close()


async def _set_the_scene(poster: Page, fan: Page) -> tuple[str, str]:
    await register(poster, "shot_poster")
    await register(fan, "shot_fan")
    await poster.goto("/settings")
    await poster.get_by_label("Display name").fill("Poppy Poster")
    await poster.get_by_label("Bio").fill("Birdwatcher. I post about #birds and the weather.")
    await poster.get_by_role("button", name="Save profile").click()
    await fan.goto("/@shot_poster")
    await fan.get_by_role("button", name="Follow", exact=True).click()
    await expect(fan.get_by_role("button", name="Unfollow")).to_be_visible()
    await post(poster, "Spotted a kingfisher by the river this morning! #birds")
    await post(poster, "A long one: " + "the light on the water was something else, " * 5)
    await poster.goto("/home")
    await poster.locator("summary", has_text="Content warning").click()
    await poster.get_by_label("Content warning").fill("Spoilers for the finale")
    await poster.get_by_label("What’s on your mind?").fill("The twist was that the birds did it.")
    await poster.get_by_role("button", name="Post", exact=True).click()
    await fan.goto("/home")
    await reload_until(fan, "Spotted a kingfisher")
    card = fan.locator("article.post", has_text="kingfisher").first
    await card.get_by_role("button", name="Like").click()
    await expect(card.get_by_role("button", name="Liked")).to_be_visible()
    await card.get_by_role("link", name="Reply").click()
    await fan.get_by_label("Reply to Poppy Poster").fill("@shot_poster Lucky you! Photos?")
    await fan.get_by_role("button", name="Reply", exact=True).click()
    await expect(fan.locator(".thread")).to_contain_text("Lucky you")
    post_url = fan.url.split("#")[0]
    return post_url, "/@shot_poster"


async def _check_and_shoot(page: Page, name: str, errors: list[str]) -> None:
    await page.wait_for_load_state("networkidle")
    assert await page.evaluate(UNLABELLED) == [], f"{name}: controls without a label"
    assert await page.evaluate(OVERFLOW) <= 0, f"{name}: wider than the screen"
    assert errors == [], f"{name}: {errors}"
    SCREENSHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", list(WIDTHS))
async def test_main_pages_at_each_width_and_scheme(new_context, scene, width, scheme):
    post_url, profile = scene
    options = {"viewport": WIDTHS[width], "color_scheme": scheme}
    visitor = await (await new_context(**options)).new_page()
    member = await (await new_context(**options)).new_page()
    errors: list[str] = []
    for page in (visitor, member):
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
    for path, name in [("/", "landing"), ("/login", "login"), ("/register", "register")]:
        await visitor.goto(path)
        await _check_and_shoot(visitor, f"{name}-{width}-{scheme}", errors)
    await member.goto("/login")
    await member.get_by_label("Username or e-mail").fill("shot_poster")
    await member.get_by_label("Password").fill("a long enough password")
    await member.get_by_role("button", name="Sign in").click()
    pages = [
        ("/home", "home"),
        (profile, "profile"),
        (post_url, "post"),
        ("/notifications", "notifications"),
        ("/public/local", "local"),
        ("/tags/birds", "hashtag"),
        ("/search?q=shot", "search"),
        ("/settings", "settings"),
    ]
    for path, name in pages:
        await member.goto(path)
        await _check_and_shoot(member, f"{name}-{width}-{scheme}", errors)
