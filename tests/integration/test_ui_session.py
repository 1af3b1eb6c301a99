"""Signing in and out of the web UI: the session cookie, the password check, its rate limit."""

from __future__ import annotations

import orjson
import pytest
from tortoise.timezone import now

from models.accounts import Account
from models.oauth import AccessToken
from services.instance import set_setting
from tests.factories import PASSWORD, bearer, make_user, token_for
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

BAD_LOGIN = "Invalid username, e-mail or password"


@pytest.fixture
async def alice(settings, backends):
    return await make_user(settings, "alice")


async def test_signing_in_opens_the_home_timeline(client, alice):
    response = await sign_in(client)

    assert location(response) == "/home"
    assert "What’s on your mind?" in await get_page(client, "/home")


async def test_signing_in_with_the_email_address_works_too(client, alice):
    await sign_in(client, login="alice@example.com")

    assert (await client.get("/home", headers=HTML)).status_code == 200


async def test_session_cookie_is_http_only_same_site_lax_and_secure(client, alice):
    response = await sign_in(client)

    cookie = next(c for c in response.headers.getlist("Set-Cookie") if "starling_session=" in c)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie  # the test instance is https


async def test_sign_in_returns_to_the_page_that_asked_for_it(client, alice):
    redirected = await client.get("/notifications", headers=HTML)
    assert location(redirected) == "/login?next=/notifications"

    response = await submit(
        client, "/login?next=/notifications", "/login", login="alice", password=PASSWORD
    )

    assert location(response) == "/notifications"


async def test_sign_in_never_sends_the_browser_to_another_site(client, alice):
    response = await submit(
        client, "/login?next=//evil.example/x", "/login", login="alice", password=PASSWORD
    )

    assert location(response) == "/home"


async def test_a_wrong_password_and_an_unknown_account_get_the_same_answer(client, alice):
    wrong = await submit(client, "/login", "/login", login="alice", password="not it at all")
    unknown = await submit(client, "/login", "/login", login="nobody", password="not it at all")

    assert wrong.status_code == unknown.status_code == 422
    wrong_html, unknown_html = await text_of(wrong), await text_of(unknown)
    assert BAD_LOGIN in wrong_html
    # The same page, but for the name typed back into the field
    assert wrong_html.replace('value="alice"', 'value="nobody"') == unknown_html
    assert "starling_session" not in str(wrong.headers.getlist("Set-Cookie"))


async def test_sign_in_attempts_are_rate_limited_per_address(client, alice):
    form = form_to(await get_page(client, "/login"), "/login")
    statuses = []
    for _ in range(30):
        response = await client.post(
            "/login", form=form.fields | {"login": "alice", "password": "wrong!!!"}, headers=HTML
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            break

    # 25 in five minutes (one more comes back every 12 s), then a page that says why
    assert statuses[:25] == [422] * 25
    assert statuses[-1] == 429
    assert "Too many attempts" in await text_of(response)
    assert "Retry-After" in response.headers
    # the right password does not get through either
    right = await client.post(
        "/login", form=form.fields | {"login": "alice", "password": PASSWORD}, headers=HTML
    )
    assert right.status_code == 429


async def test_signing_out_ends_the_session_on_the_server(app, client, alice):
    await sign_in(client)
    old = next(c.value for c in client.cookie_jar if c.name == "starling_session")

    response = await submit(client, "/home", "/logout")

    assert location(response) == "/"
    # A copy of the old cookie no longer signs anyone in
    replay = await app.test_client().get(
        "/home", headers=HTML | {"Cookie": f"starling_session={old}"}
    )
    assert location(replay).startswith("/login")


async def test_a_password_change_signs_out_the_other_sessions_only(app, client, alice):
    # Given alice signed in on two browsers, and an app holding a token for her
    other = app.test_client()
    await sign_in(client)
    await sign_in(other)
    token = await token_for(alice)
    # When she changes her password on the first
    response = await submit(
        client,
        "/settings",
        "/settings/password",
        current_password=PASSWORD,
        new_password="a brand new secret",
        confirm_password="a brand new secret",
    )
    # Then the other browser is signed out, this one is not, and the app keeps its token
    assert location(response) == "/settings"
    assert "Password changed. 1 other session signed out." in await get_page(client, "/settings")
    assert location(await other.get("/home", headers=HTML)).startswith("/login")
    me = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert me.status_code == 200
    assert await AccessToken.filter(revoked_at__isnull=False).count() == 0
    # And the new password is the one that works
    fresh = app.test_client()
    assert (await sign_in(fresh, password="a brand new secret")).status_code == 303


async def test_a_password_change_needs_the_current_password(client, alice):
    await sign_in(client)

    response = await submit(
        client,
        "/settings",
        "/settings/password",
        current_password="not my password",
        new_password="a brand new secret",
        confirm_password="a brand new secret",
    )

    assert "Current password is invalid" in await get_page(client, location(response))


async def test_a_suspended_account_is_signed_out_at_its_next_check(client, alice, backends):
    await sign_in(client)
    await Account.filter(id=alice.account_id).update(suspended_at=now())
    # A minute later, when the session checks its login again
    redis = backends.redis
    # Every session key, not the flash keys ("websession:[^f]*" also skipped the sessions
    # whose digest starts with an "f": one run in 16 failed)
    sessions = [
        k for k in await redis.keys("websession:*") if not k.startswith(b"websession:flash:")
    ]
    for key in sessions:
        stored = orjson.loads(await redis.get(key))
        await redis.set(key, orjson.dumps(stored | {"checked_at": 0}))

    assert location(await client.get("/home", headers=HTML)).startswith("/login")


# Signing up


async def test_signing_up_creates_the_account_and_signs_in(client, backends):
    response = await sign_up(client, "newbie")

    assert location(response) == "/home"
    assert 'href="/@newbie"' in await get_page(client, "/home")  # signed in as newbie


async def test_sign_up_errors_are_shown_next_to_their_fields(client, alice):
    response = await sign_up(client, "bob", email="not-an-address", password="short")

    html = await text_of(response)
    assert response.status_code == 422
    assert 'id="email-error">Email is invalid' in html
    assert 'id="password-error">Password is too short' in html
    assert 'value="bob"' in html  # what was typed is kept


async def test_a_taken_username_is_refused(client, alice):
    response = await sign_up(client, "alice", email="other@example.com")

    assert response.status_code == 422
    assert "Username has already been taken" in await text_of(response)


async def test_closed_sign_ups_say_so(client, backends):
    await set_setting("registration_mode", "closed")

    html = await get_page(client, "/register")

    assert "Sign-ups are closed" in html
