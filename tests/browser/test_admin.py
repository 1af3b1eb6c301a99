"""An admin moderates in a real Chromium: finds an account at /admin/accounts and suspends it
(then its profile answers 404 and its owner is signed out and cannot sign in again), and
blocks a domain at /admin/domains (listed there and by /api/v1/instance/domain_blocks) and
lifts the block — once with JavaScript (confirm dialogs) and once without (plain forms)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Dialog, Page, expect

from tests.browser.people import create_admin, post, register, reload_until, sign_in
from tests.instances import RunningInstance

JS = pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])


async def _signed_in_admin(new_context, instance: RunningInstance, name: str, js: bool) -> Page:
    create_admin(instance, name)
    admin = await (await new_context(java_script_enabled=js)).new_page()
    await sign_in(admin, name)
    await expect(admin).to_have_url(re.compile(r".*/home$"))
    return admin


def _accept_dialogs(page: Page) -> list[str]:
    """Accept every confirm() the page asks, and answer what they said."""
    asked: list[str] = []

    async def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        await dialog.accept()

    page.on("dialog", accept)
    return asked


async def _public_domain_blocks(instance: RunningInstance) -> list[dict]:
    async with httpx.AsyncClient(base_url=instance.base_url) as client:
        listed = await client.get("/api/v1/instance/domain_blocks")
    assert listed.status_code == 200
    return listed.json()


@JS
async def test_an_admin_suspends_an_account_from_the_admin_pages(new_context, instance, javascript):
    tag = "js" if javascript else "nojs"
    spammer_name = f"spammer_{tag}"
    spammer = await (await new_context(java_script_enabled=javascript)).new_page()
    await register(spammer, spammer_name)
    await post(spammer, f"Cheap followers here, {tag} edition")
    admin = await _signed_in_admin(new_context, instance, f"moderator_{tag}", javascript)
    asked = _accept_dialogs(admin)
    await admin.goto("/public/local")
    await reload_until(admin, f"Cheap followers here, {tag} edition")
    # Given the admin finds the account at /admin/accounts
    main_nav = admin.get_by_role("navigation", name="Main")
    await main_nav.get_by_role("link", name="Administration").click()
    admin_nav = admin.get_by_role("navigation", name="Administration")
    await admin_nav.get_by_role("link", name="Accounts").click()
    await admin.get_by_label("Name, domain, e-mail or IP").fill(spammer_name)
    await admin.get_by_role("button", name="Filter").click()
    rows = admin.locator(".admin-table tbody tr")
    await expect(rows).to_have_count(1)
    await rows.get_by_role("link", name=spammer_name).click()
    # When they suspend it (confirming, when the page asks)
    await admin.get_by_role("button", name="Suspend").click()
    await expect(admin.get_by_role("status")).to_have_text(
        "Account suspended: hidden everywhere, signed out."
    )
    assert asked == (
        [
            f"Suspend @{spammer_name}@{instance.domain}? They are signed out and "
            "everything they wrote is hidden until you lift it."
        ]
        if javascript
        else []
    )
    await expect(admin.locator(".status-tag", has_text="suspended")).to_be_visible()
    await expect(admin.get_by_role("button", name="Lift the suspension")).to_be_visible()
    # Then its profile answers 404, and its posts are gone from the local timeline
    visitor = await (await new_context()).new_page()
    profile = await visitor.goto(f"/@{spammer_name}")
    assert profile is not None
    assert profile.status == 404
    await visitor.goto("/public/local")
    await expect(visitor.get_by_text(f"Cheap followers here, {tag} edition")).to_have_count(0)
    # ... its owner's open session is over, and signing in again is refused
    await spammer.goto("/home")
    await expect(spammer).to_have_url(re.compile(r"/login"))
    await sign_in(spammer, spammer_name)
    await expect(spammer.get_by_role("alert")).to_contain_text("disabled")
    await expect(spammer).to_have_url(re.compile(r"/login"))


@JS
async def test_an_admin_blocks_a_domain_and_lifts_the_block(new_context, instance, javascript):
    tag = "js" if javascript else "nojs"
    domain = f"spam-{tag}.example"
    admin = await _signed_in_admin(new_context, instance, f"gatekeeper_{tag}", javascript)
    asked = _accept_dialogs(admin)
    # When the admin blocks a domain with severity "suspend"
    await admin.goto("/admin")
    await admin.get_by_role("link", name="Domain blocks").click()
    await admin.get_by_label("Domain", exact=True).fill(domain)
    await admin.get_by_role("radio", name=re.compile("^Suspend")).check()
    await admin.get_by_label(re.compile("^Public comment")).fill("A spam factory")
    await admin.get_by_role("button", name="Block", exact=True).click()
    # Then it is listed on the page and by the public API
    await expect(admin.get_by_role("status")).to_have_text(f"{domain} is blocked (suspend).")
    row = admin.locator(".admin-table tbody tr", has_text=domain)
    await expect(row).to_contain_text("suspend")
    await expect(row).to_contain_text("A spam factory")
    listed = {block["domain"]: block for block in await _public_domain_blocks(instance)}
    assert (listed[domain]["severity"], listed[domain]["comment"]) == ("suspend", "A spam factory")
    # When the block is lifted, it is gone from both
    await row.get_by_role("button", name="Lift").click()
    await expect(admin.get_by_role("status")).to_have_text(f"{domain} is no longer blocked.")
    assert asked == ([f"Lift the block on {domain}?"] if javascript else [])
    await expect(admin.locator(".admin-table tbody tr", has_text=domain)).to_have_count(0)
    assert domain not in {block["domain"] for block in await _public_domain_blocks(instance)}
