"""An OpenID sign-in completing a Mastodon app's authorization, and an instance whose only
sign-in is through providers (``auth.password_sign_in = false``)."""

from __future__ import annotations

import html as html_lib
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from models.accounts import User
from tests.factories import PASSWORD, REDIRECT_URI, bearer, make_app, make_user
from tests.integration.oidc_support import (
    app_with,
    at_provider,
    path_of,
    provider,
    set_user,
)
from tests.integration.test_oauth_code_flow import pkce_pair
from tests.integration.ui_support import HTML, form_to, get_page, location, text_of

OIDC_LINK = re.compile(r'href="(/auth/oidc/mock\?next=[^"]+)"')


def providers_client(settings, backends, mock_provider, *, password_sign_in: bool = True):
    mock = provider("mock", mock_provider, label="Mock ID")
    return app_with(settings, backends, mock, password_sign_in=password_sign_in).test_client()


@pytest.fixture
def client(settings, backends, mock_provider):
    return providers_client(settings, backends, mock_provider)


@pytest.fixture
def oidc_only(settings, backends, mock_provider):
    return providers_client(settings, backends, mock_provider, password_sign_in=False)


async def through_provider(client, page_html: str, subject: str):
    """Click "Sign in with Mock ID" on a page and approve at the provider as ``subject``."""
    link = html_lib.unescape(OIDC_LINK.search(page_html).group(1))
    started = await client.get(link, headers=HTML)
    assert started.status_code == 302
    callback = await at_provider(started.headers["Location"], sub=subject)
    return await client.get(path_of(callback), headers=HTML)


async def authorize_with_oidc(client, mock_provider, app, challenge: str) -> str:
    """A Mastodon app's authorization page completed by an OpenID sign-in: answers the code."""
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "read write",
        "state": "app-state",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "force_login": "true",
    }
    page = await get_page(client, f"/oauth/authorize?{urlencode(query)}")
    assert "Sign in with Mock ID" in page
    subject = await set_user(mock_provider, {"preferred_username": "carol"})

    back = await through_provider(client, page, subject)

    landed = location(back)
    assert landed.startswith("/oauth/authorize?")
    assert "force_login" not in landed  # else it would ask for a password again
    consent = await get_page(client, landed)
    assert "Signed in as" in consent
    form = form_to(consent, "/oauth/authorize")
    answer = await client.post(form.action, form=form.fields | {"decision": "authorize"})
    assert answer.status_code == 302
    sent = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}
    assert sent["state"] == "app-state"
    return sent["code"]


async def test_an_app_authorization_completes_through_a_provider(client, mock_provider):
    app = await make_app(name="Phanpy", scopes="read write")
    verifier, challenge = pkce_pair()

    code = await authorize_with_oidc(client, mock_provider, app, challenge)

    token = await client.post(
        "/oauth/token",
        form={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "code_verifier": verifier,
        },
    )
    assert token.status_code == 200, await token.get_data(as_text=True)
    access_token = (await token.get_json())["access_token"]
    me = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(access_token))
    assert me.status_code == 200
    assert (await me.get_json())["username"] == "carol"


async def test_next_cannot_leave_the_site(client, mock_provider):
    subject = await set_user(mock_provider, {"preferred_username": "carol"})
    started = await client.get("/auth/oidc/mock?next=//evil.example/x", headers=HTML)
    callback = await at_provider(started.headers["Location"], sub=subject)

    response = await client.get(path_of(callback), headers=HTML)

    assert location(response) == "/home"


# Password sign-in turned off


async def test_without_passwords_the_sign_in_page_shows_only_providers(oidc_only):
    page = await get_page(oidc_only, "/login")

    assert 'name="password"' not in page
    assert "Sign in with Mock ID" in page
    assert "Signing in creates your account" in page
    assert 'name="password"' not in await get_page(oidc_only, "/register")


async def test_without_passwords_a_provider_still_signs_in(oidc_only, mock_provider):
    subject = await set_user(mock_provider, {"preferred_username": "carol"})

    response = await through_provider(oidc_only, await get_page(oidc_only, "/login"), subject)

    assert location(response) == "/home"


async def test_without_passwords_password_sign_ins_are_refused(oidc_only, settings):
    await make_user(settings, "alice")
    await get_page(oidc_only, "/login")
    csrf = next(c.value for c in oidc_only.cookie_jar if c.name == "starling_csrf")
    fields = {"csrf_token": csrf, "login": "alice", "password": PASSWORD}

    web = await oidc_only.post("/login", form=fields, headers=HTML)
    signup = await oidc_only.post(
        "/register",
        form=fields | {"username": "newbie", "email": "n@example.com", "agreement": "on"},
        headers=HTML,
    )
    app = await make_app(scopes="read")
    grant = await oidc_only.post(
        "/oauth/token",
        form={
            "grant_type": "password",
            "username": "alice",
            "password": PASSWORD,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
        },
    )

    assert web.status_code == 403
    assert "Passwords are not used on this server" in await text_of(web)
    assert signup.status_code == 403
    assert await User.filter(account__acct="newbie").count() == 0
    assert grant.status_code == 400
    assert (await grant.get_json())["error"] == "invalid_grant"


async def test_without_passwords_the_app_authorization_page_offers_providers(oidc_only):
    app = await make_app(scopes="read")
    query = {"response_type": "code", "client_id": app.client_id, "redirect_uri": REDIRECT_URI}

    page = await get_page(oidc_only, f"/oauth/authorize?{urlencode(query)}")
    refused = await oidc_only.post(
        "/oauth/authorize",
        form=form_to(page, "/oauth/authorize").fields
        | {"decision": "authorize", "login": "alice", "password": PASSWORD},
        headers=HTML,
    )

    assert 'name="password"' not in page
    assert "Sign in with Mock ID" in page
    assert refused.status_code == 403
