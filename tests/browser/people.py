"""What a person does in the browser, step by step, as helpers the flows share."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time

from playwright.async_api import Page, expect

from tests.instances import ROOT, RunningInstance

PASSWORD = "a long enough password"


async def register(page: Page, username: str) -> None:
    await page.goto("/register")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("E-mail").fill(f"{username}@example.com")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.locator("#agreement").check()
    await page.get_by_role("button", name="Sign up").click()
    await expect(page).to_have_url(re.compile(r".*/home$"))


async def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    await page.goto("/login")
    await page.get_by_label("Username or e-mail").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def post(page: Page, text: str) -> None:
    await page.goto("/home")
    await page.get_by_label("What’s on your mind?").fill(text)
    await page.get_by_role("button", name="Post", exact=True).click()


async def reload_until(page: Page, text: str, seconds: float = 15) -> None:
    """The fan-out runs in the worker: reload (bounded) until ``text`` shows."""
    deadline = time.monotonic() + seconds
    while await page.get_by_text(text).count() == 0:
        assert time.monotonic() < deadline, f"{text!r} never showed on {page.url}"
        await asyncio.sleep(0.3)
        await page.reload()


def starling(instance: RunningInstance, *args: str) -> subprocess.CompletedProcess[str]:
    """A ``starling`` command against the running test instance, as its operator types it."""
    return subprocess.run(
        [sys.executable, "-m", "instance.cli", *args],
        cwd=ROOT, env=instance.env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def create_admin(instance: RunningInstance, username: str) -> None:
    email = f"{username}@example.com"
    made = starling(instance, "create-user", username, email, "--password", PASSWORD, "--admin")
    assert made.returncode == 0, made.stderr
