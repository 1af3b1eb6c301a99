"""A screenshot of each main page at phone and desktop widths, light and dark, for a person
to look at (tests/browser/screenshots/), and checks any page must pass: no control without a
label, no horizontal scrolling at 375 px, no console errors (a CSP violation is one), and no
serious or critical axe-core finding (contrast AA, names, landmarks)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.axe import axe_violations
from tests.browser.conftest import SCREENSHOTS
from tests.browser.people import create_admin, post, register, reload_until, sign_in, starling
from tests.instances import RunningInstance

WIDTHS = {"phone": {"width": 375, "height": 812}, "desktop": {"width": 1280, "height": 900}}

UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea, button'))
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !(el.tagName === 'BUTTON' && el.textContent.trim()))
  .map(el => el.outerHTML.slice(0, 80))"""

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"

ADMIN = "shot_admin"


@pytest.fixture(scope="module")
async def scene(browser: Browser, instance: RunningInstance) -> dict[str, str]:
    """Two people, a follow, posts with a content warning and a hashtag, a like, a reply and
    a report, and an admin; answers the paths the pages are shot at."""
    poster_context = await browser.new_context(base_url=instance.base_url)
    fan_context = await browser.new_context(base_url=instance.base_url)
    try:
        post_url = await _set_the_scene(
            await poster_context.new_page(), await fan_context.new_page()
        )
    finally:
        await poster_context.close()
        await fan_context.close()
    create_admin(instance, ADMIN)
    blocked = starling(
        instance, "domains", "block", "spam-farm.example", "--severity", "suspend",
        "--public-comment", "Sends nothing but spam", "--private-comment", "See report 12",
        "--reject-media",
    )  # fmt: skip
    assert blocked.returncode == 0, blocked.stderr
    async with httpx.AsyncClient(base_url=instance.base_url) as client:
        fan = await client.get("/api/v1/accounts/lookup", params={"acct": "shot_fan"})
    return {"post": post_url, "profile": "/@shot_poster", "fan_id": fan.json()["id"]}


async def _set_the_scene(poster: Page, fan: Page) -> str:
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
    await _report(poster, "shot_fan")
    return post_url


async def _report(reporter: Page, username: str) -> None:
    await reporter.goto(f"/@{username}")
    await reporter.locator("article.post").first.get_by_role("link", name="Report").click()
    await reporter.get_by_label("Anything the moderators should know").fill(
        "Keeps asking for photos of my birdwatching spots, which I keep private."
    )
    await reporter.get_by_role("button", name="Send report").click()
    await expect(reporter.get_by_role("status")).to_be_visible()


class Shooter:
    """Checks and shoots pages, gathering what is wrong so one run lists all of it."""

    def __init__(self, width: str, scheme: str, axe_source: str) -> None:
        self.suffix, self.axe_source = f"{width}-{scheme}", axe_source
        self.errors: list[str] = []
        self.problems: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    async def shoot(self, page: Page, path: str, name: str) -> None:
        await page.goto(path)
        await page.wait_for_load_state("networkidle")
        name = f"{name}-{self.suffix} {path}"
        if unlabelled := await page.evaluate(UNLABELLED):
            self.problems.append(f"{name}: controls without a label: {unlabelled}")
        if (overflow := await page.evaluate(OVERFLOW)) > 0:
            self.problems.append(f"{name}: {overflow} px wider than the screen")
        self.problems += [f"{name}: console: {error}" for error in self.errors]
        self.errors.clear()
        SCREENSHOTS.mkdir(exist_ok=True)
        await page.screenshot(path=SCREENSHOTS / f"{name.split()[0]}.png", full_page=True)
        self.problems += [f"{name}: {v}" for v in await axe_violations(page, self.axe_source)]

    def assert_all_well(self) -> None:
        assert not self.problems, "\n".join(["Pages to fix:", *self.problems])


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", list(WIDTHS))
async def test_main_pages_at_each_width_and_scheme(new_context, scene, axe_source, width, scheme):
    options = {"viewport": WIDTHS[width], "color_scheme": scheme}
    visitor = await (await new_context(**options)).new_page()
    member = await (await new_context(**options)).new_page()
    shooter = Shooter(width, scheme, axe_source)
    shooter.watch(visitor)
    shooter.watch(member)
    for path, name in [("/", "landing"), ("/login", "login"), ("/register", "register")]:
        await shooter.shoot(visitor, path, name)
    await shooter.shoot(visitor, scene["post"], "post-signed-out")
    await sign_in(member, "shot_poster")
    pages = [
        ("/home", "home"),
        (scene["profile"], "profile"),
        (scene["post"], "post"),
        ("/notifications", "notifications"),
        ("/public/local", "local"),
        ("/public", "federated"),
        ("/tags/birds", "hashtag"),
        ("/search?q=shot", "search"),
        ("/settings", "settings"),
        (f"/report/{scene['fan_id']}", "report"),
    ]
    for path, name in pages:
        await shooter.shoot(member, path, name)
    shooter.assert_all_well()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", list(WIDTHS))
async def test_admin_pages_at_each_width_and_scheme(new_context, scene, axe_source, width, scheme):
    options = {"viewport": WIDTHS[width], "color_scheme": scheme}
    admin = await (await new_context(**options)).new_page()
    shooter = Shooter(width, scheme, axe_source)
    shooter.watch(admin)
    await sign_in(admin, ADMIN)
    await expect(admin).to_have_url(re.compile(r".*/home$"))
    await admin.goto("/admin/reports")
    report = admin.locator(".admin-table a").first
    pages = [
        ("/admin", "admin-dashboard"),
        ("/admin/accounts", "admin-accounts"),
        (f"/admin/accounts/{scene['fan_id']}", "admin-account"),
        ("/admin/reports", "admin-reports"),
        (await report.get_attribute("href"), "admin-report"),
        ("/admin/domains", "admin-domains"),
        ("/admin/settings", "admin-settings"),
    ]
    for path, name in pages:
        await shooter.shoot(admin, path, name)
    shooter.assert_all_well()
