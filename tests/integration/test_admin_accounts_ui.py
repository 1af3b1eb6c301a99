"""/admin/accounts in the web UI: staff find and moderate accounts with CSRF-protected forms;
everyone else finds nothing there (404)."""

from __future__ import annotations

import pytest

from models.accounts import Account, Role, User
from services import instance as instance_service
from tests.factories import PASSWORD, make_remote_account, make_user
from tests.integration.ui_support import (
    HTML,
    form_to,
    get_page,
    location,
    sign_in,
    sign_up,
    submit,
    text_of,
)


@pytest.fixture
async def cast(settings):
    boss = await make_user(settings, "boss", role=Role.ADMIN)
    mallory = await make_user(settings, "mallory", email="mallory@spam.example")
    return boss, mallory


async def test_an_admin_suspends_an_account_from_its_page(client, cast):
    _, mallory = cast
    await sign_in(client, "boss")
    page = f"/admin/accounts/{mallory.account_id}"  # type: ignore[attr-defined]

    response = await submit(client, page, f"{page}/suspend")

    assert location(response) == page
    html = await get_page(client, page)
    assert "Account suspended" in html
    assert "Lift the suspension" in html
    assert (await Account.get(id=mallory.account_id)).suspended_at is not None  # type: ignore[attr-defined]


async def test_an_action_without_the_csrf_token_is_refused(client, cast):
    _, mallory = cast
    await sign_in(client, "boss")
    page = f"/admin/accounts/{mallory.account_id}"  # type: ignore[attr-defined]
    fields = form_to(await get_page(client, page), f"{page}/suspend").fields

    response = await client.post(
        f"{page}/suspend", form=fields | {"csrf_token": "x" * 43}, headers=HTML
    )

    assert response.status_code == 403
    assert (await Account.get(id=mallory.account_id)).suspended_at is None  # type: ignore[attr-defined]


async def test_the_list_filters_by_origin_status_and_text(client, cast):
    await make_remote_account("rob", "one.example")
    await sign_in(client, "boss")

    everyone = await get_page(client, "/admin/accounts")
    remote = await get_page(client, "/admin/accounts?origin=remote")
    by_mail = await get_page(client, "/admin/accounts?q=spam.example")

    assert "@mallory@" in everyone
    assert "@rob@one.example" in everyone
    assert "@rob@one.example" in remote
    assert "@mallory@" not in remote
    assert "@mallory@" in by_mail
    assert "@boss@" not in by_mail
    assert "No account matches" in await get_page(client, "/admin/accounts?status=suspended")


async def test_the_admin_navigation_links_every_admin_page(client, cast):
    await sign_in(client, "boss")

    html = await get_page(client, "/admin/accounts")

    for path in (
        "/admin",
        "/admin/accounts",
        "/admin/reports",
        "/admin/domains",
        "/admin/settings",
    ):
        assert f'href="{path}"' in html
    assert 'href="/admin"' in await get_page(client, "/home")  # the way in, for staff


async def test_non_staff_and_visitors_get_404(client, settings, cast):
    _, mallory = cast
    page = f"/admin/accounts/{mallory.account_id}"  # type: ignore[attr-defined]
    assert (await client.get("/admin/accounts", headers=HTML)).status_code == 404
    await make_user(settings, "alice")
    await sign_in(client, "alice")

    assert (await client.get("/admin/accounts", headers=HTML)).status_code == 404
    assert (await client.get(page, headers=HTML)).status_code == 404
    home = await get_page(client, "/home")
    assert 'href="/admin"' not in home
    fields = form_to(home, "/logout").fields  # a valid CSRF token, from a page alice may see
    response = await client.post(f"{page}/suspend", form=fields, headers=HTML)
    assert response.status_code == 404
    assert (await Account.get(id=mallory.account_id)).suspended_at is None  # type: ignore[attr-defined]


async def test_only_admins_change_roles(client, settings, cast):
    _, mallory = cast
    await make_user(settings, "modest", role=Role.MODERATOR)
    page = f"/admin/accounts/{mallory.account_id}"  # type: ignore[attr-defined]
    await sign_in(client, "modest")
    html = await get_page(client, page)
    assert f"{page}/role" not in html
    fields = form_to(html, f"{page}/silence").fields
    refused = await client.post(f"{page}/role", form=fields | {"role": "admin"}, headers=HTML)
    assert refused.status_code == 404

    await client.post("/logout", form=fields, headers=HTML)
    await sign_in(client, "boss")
    response = await submit(client, page, f"{page}/role", role="moderator")

    assert location(response) == page
    assert (await User.get(id=mallory.id)).role is Role.MODERATOR


async def test_a_pending_sign_up_cannot_sign_in_until_approved(client, settings, cast):
    await instance_service.set_setting("registration_mode", "approved")
    await sign_up(client, "newbie", reason="birds")
    await client.post("/logout", form={}, headers=HTML)

    refused = await submit(
        client, "/login", "/login", login="newbie", password="long enough secret"
    )
    assert refused.status_code == 422
    assert "pending approval" in await text_of(refused)

    newbie = await User.get(account__username="newbie")
    await sign_in(client, "boss", PASSWORD)
    page = f"/admin/accounts/{newbie.account_id}"  # type: ignore[attr-defined]
    assert "newbie" in await get_page(client, "/admin/accounts?status=pending")
    assert location(await submit(client, page, f"{page}/approve")) == page
    assert (await User.get(id=newbie.id)).approved


async def test_rejecting_a_sign_up_deletes_it(client, settings, cast):
    waiting = await make_user(settings, "waiting", approved=False)
    await sign_in(client, "boss")
    page = f"/admin/accounts/{waiting.account_id}"  # type: ignore[attr-defined]

    response = await submit(client, page, f"{page}/reject")

    assert location(response) == "/admin/accounts?status=pending"
    assert "rejected" in await get_page(client, "/admin/accounts?status=pending")
    assert not await User.filter(id=waiting.id).exists()


async def test_staff_see_sign_ups_among_their_notifications(client, settings, cast):
    await instance_service.set_setting("registration_mode", "approved")
    await sign_up(client, "newbie", reason="birds")
    newbie = await User.get(account__username="newbie")

    await sign_in(client, "boss")
    html = await get_page(client, "/notifications")

    assert "signed up" in html
    assert f'href="/admin/accounts/{newbie.account_id}"' in html  # type: ignore[attr-defined]
