"""Browser tests: Debian's Chromium driven by Playwright against a real running instance.

Chromium comes from apt (Playwright's own download cannot reach its CDN here); the session
installs it when missing, and axe-core from npm into tests/browser/.cache/ the same way.
Screenshots go to tests/browser/screenshots/ (git-ignored, like the cache).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, async_playwright, expect
from redis.asyncio import Redis

from tests.browser.axe import install_axe
from tests.instances import RunningInstance, fresh_instance

# What a person waits for: clicks and navigations (each context's default) and the checks of
# what a page shows (expect's own default is 5 s) alike. A loaded CI box took over 5 s to show
# "Post deleted." after the delete's redirect, with nothing wrong.
WAIT_MS = 10_000
expect.set_options(timeout=WAIT_MS)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
INSTANCE_REDIS_DB = 8  # 11 is test_cli's
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CACHE = Path(__file__).resolve().parent / ".cache"


def install_chromium() -> str:
    """Debian's chromium, installed with apt-get the first time (about 25 s)."""
    if not Path(CHROMIUM).exists():
        apt = shutil.which("apt-get")
        assert apt, "chromium is missing and apt-get is not available to install it"
        installed = subprocess.run([apt, "install", "-y", "chromium"], capture_output=True)
        if installed.returncode != 0:  # stale package lists: refresh them once
            subprocess.run([apt, "update", "-qq"], check=True, capture_output=True)
            subprocess.run([apt, "install", "-y", "chromium"], check=True, capture_output=True)
    assert Path(CHROMIUM).exists()
    return CHROMIUM


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return install_chromium()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script, installed with npm on the first run (about a second)."""
    return install_axe(CACHE / "axe").read_text()


@pytest.fixture(scope="session")
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()


@pytest.fixture(scope="session")
async def instance(
    service_urls: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningInstance]:
    """One instance (web + worker, real migrations) for the browser tests."""
    async with fresh_instance(
        service_urls, "browser", INSTANCE_REDIS_DB, tmp_path_factory.mktemp("ui")
    ) as running:
        yield running


@pytest.fixture(autouse=True)
async def fresh_rate_limits(instance: RunningInstance) -> None:
    """Each test signs up and in from 127.0.0.1: start it with a full per-IP budget."""
    redis = Redis.from_url(instance.env["STARLING_REDIS_URL"])
    keys = await redis.keys("ratelimit:*")
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


@pytest.fixture
async def new_context(browser: Browser, instance: RunningInstance):
    """Open browser contexts (a person each) on the instance; closed after the test."""
    opened: list[BrowserContext] = []

    async def open_context(**options) -> BrowserContext:
        context = await browser.new_context(base_url=instance.base_url, **options)
        context.set_default_timeout(WAIT_MS)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        await context.close()
