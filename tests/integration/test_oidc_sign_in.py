"""Signing in with a third-party OpenID provider, end to end against a real one
(oidc-provider-mock on a loopback port): accounts created, reused, a username asked for."""

from __future__ import annotations

import pytest

from models.accounts import Identity, User
from services.instance import set_setting
from tests.factories import make_user
from tests.integration.oidc_support import (
    app_with,
    at_provider,
    path_of,
    provider,
    set_user,
    sign_in_with_mock,
    start,
)
from tests.integration.ui_support import HTML, form_to, get_page, location, text_of

CAROL = {
    "preferred_username": "carol",
    "name": "Carol Example",
    "email": "carol@example.com",
    "email_verified": True,
}


@pytest.fixture
def client(settings, backends, mock_provider):
    mock = provider("mock", mock_provider, label="Mock ID")
    return app_with(settings, backends, mock).test_client()


async def test_the_sign_in_page_offers_each_provider(client):
    html = await get_page(client, "/login?next=/notifications")

    assert "Sign in with Mock ID" in html
    assert 'href="/auth/oidc/mock?next=/notifications"' in html
    assert 'name="password"' in html  # password sign-in stays available


async def test_the_provider_gets_a_pkce_challenge_a_state_and_a_nonce(client, settings):
    authorize_url = await start(client, "mock")

    assert "code_challenge_method=S256" in authorize_url
    assert "code_challenge=" in authorize_url
    assert "state=" in authorize_url
    assert "nonce=" in authorize_url
    assert "redirect_uri=https%3A%2F%2Fstarling.test%2Fauth%2Foidc%2Fmock%2Fcallback" in (
        authorize_url
    )


async def test_a_first_sign_in_creates_an_account(client, mock_provider):
    subject = await set_user(mock_provider, CAROL)

    response = await sign_in_with_mock(client, subject, next_path="/notifications")

    assert location(response) == "/notifications"
    assert "@carol" in await get_page(client, "/home")
    user = await User.get(account__acct="carol").prefetch_related("account")
    assert user.password_hash is None
    assert user.email == "carol@example.com"  # verified by the provider, and free
    assert user.account.display_name == "Carol Example"
    identity = await Identity.get(user=user)
    assert (identity.issuer, identity.subject) == (mock_provider, subject)


async def test_a_second_sign_in_reuses_the_account(client, mock_provider):
    subject = await set_user(mock_provider, CAROL)
    await sign_in_with_mock(client, subject)
    await client.post("/logout", form=form_to(await get_page(client, "/home"), "/logout").fields)

    response = await sign_in_with_mock(client, subject)

    assert location(response) == "/home"
    assert await User.all().count() == 1
    assert await Identity.all().count() == 1
    user = await User.get(account__acct="carol")
    assert user.last_sign_in_at is not None


async def test_a_taken_username_asks_for_another(client, settings, mock_provider):
    alice = await make_user(settings, "alice")
    subject = await set_user(mock_provider, {**CAROL, "preferred_username": "alice"})

    response = await sign_in_with_mock(client, subject)

    assert location(response) == "/auth/oidc/mock/username"
    html = await get_page(client, "/auth/oidc/mock/username")
    assert "Username has already been taken." in html
    form = form_to(html, "/auth/oidc/mock/username")
    taken = await client.post(form.action, form=form.fields | {"username": "alice"}, headers=HTML)
    assert taken.status_code == 422
    assert "Username has already been taken." in await text_of(taken)

    chosen = await client.post(form.action, form=form.fields | {"username": "alice_two"})

    assert location(chosen) == "/home"
    user = await User.get(account__acct="alice_two")
    assert await Identity.filter(user=user, subject=subject).exists()
    assert not await Identity.filter(user_id=alice.id).exists()  # never linked to alice


async def test_a_preferred_username_is_normalised_to_our_rules(client, mock_provider):
    subject = await set_user(mock_provider, {**CAROL, "preferred_username": "Zoë.Müller"})

    response = await sign_in_with_mock(client, subject)

    assert location(response) == "/home"
    assert await User.filter(account__username="Zoe_Muller").exists()


async def test_an_invalid_username_is_refused_on_the_form(client, mock_provider):
    subject = await set_user(mock_provider, {**CAROL, "preferred_username": "admin"})  # reserved
    assert location(await sign_in_with_mock(client, subject)) == "/auth/oidc/mock/username"
    form = form_to(await get_page(client, "/auth/oidc/mock/username"), "/auth/oidc/mock/username")

    refused = await client.post(form.action, form=form.fields | {"username": "no spaces"})

    assert refused.status_code == 422
    assert "letters, numbers and underscores" in await text_of(refused)
    assert await User.all().count() == 0


async def test_the_username_form_needs_the_browser_that_signed_in(client, mock_provider):
    subject = await set_user(mock_provider, {**CAROL, "preferred_username": "admin"})
    assert location(await sign_in_with_mock(client, subject)) == "/auth/oidc/mock/username"
    other_browser = client.app.test_client()

    html = await get_page(other_browser, "/auth/oidc/mock/username", 400)

    assert "not started in this browser" in html


async def test_an_e_mail_address_never_links_an_existing_account(client, settings, mock_provider):
    alice = await make_user(settings, "alice")  # alice@example.com
    claims = {"preferred_username": "alice_elsewhere", "email": "alice@example.com"}
    subject = await set_user(mock_provider, {**claims, "email_verified": True})

    response = await sign_in_with_mock(client, subject)

    assert location(response) == "/home"
    user = await User.get(account__acct="alice_elsewhere")
    assert user.id != alice.id
    assert user.email.endswith("@oidc.invalid")  # alice's address stays alice's
    assert not await Identity.filter(user_id=alice.id).exists()


async def test_denying_consent_at_the_provider_is_a_clear_refusal(client):
    callback = await at_provider(await start(client, "mock"), action="deny")
    assert "error=access_denied" in callback  # (the mock leaves the state out here)

    response = await client.get(path_of(callback), headers=HTML)

    assert response.status_code == 403
    assert "The sign-in with Mock ID was cancelled." in await text_of(response)
    assert await User.all().count() == 0


async def test_closed_sign_ups_refuse_new_accounts(client, mock_provider):
    await set_setting("registration_mode", "closed")
    subject = await set_user(mock_provider, CAROL)

    response = await sign_in_with_mock(client, subject)

    assert response.status_code == 403
    assert "Sign-ups are closed" in await text_of(response)
    assert await User.all().count() == 0


async def test_closed_sign_ups_still_let_existing_identities_in(client, mock_provider):
    subject = await set_user(mock_provider, CAROL)
    await sign_in_with_mock(client, subject)
    await set_setting("registration_mode", "closed")

    response = await sign_in_with_mock(client, subject)

    assert location(response) == "/home"


async def test_approval_mode_asks_why_and_creates_a_pending_account(client, mock_provider):
    await set_setting("registration_mode", "approved")
    subject = await set_user(mock_provider, CAROL)

    response = await sign_in_with_mock(client, subject)

    assert location(response) == "/auth/oidc/mock/username"
    html = await get_page(client, "/auth/oidc/mock/username")
    assert 'name="reason"' in html
    form = form_to(html, "/auth/oidc/mock/username")
    assert form.fields["username"] == "carol"
    sent = await client.post(form.action, form=form.fields | {"reason": "I like birds"})
    assert "will review your account" in await text_of(sent)
    user = await User.get(account__acct="carol")
    assert not user.approved
    assert user.registration_reason == "I like birds"
    await get_page(client, "/home", 303)  # not signed in

    again = await sign_in_with_mock(client, subject)
    assert "will review your account" in await text_of(again)


async def test_an_unknown_provider_is_not_found(client):
    await get_page(client, "/auth/oidc/nobody", 404)
    await get_page(client, "/auth/oidc/nobody/callback?state=x&code=y", 404)
