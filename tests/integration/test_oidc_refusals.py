"""What an OpenID sign-in refuses, each with a page that says why (4xx, or 503 when the
provider cannot be reached), never a 500: a forged state, a token for another client, a bad
signature, an expired token, another sign-in's nonce, another issuer."""

from __future__ import annotations

import httpx
import pytest

from models.accounts import Identity, User
from tests.instances import free_port
from tests.integration.oidc_support import (
    app_with,
    at_provider,
    path_of,
    provider,
    set_user,
    sign_in_with_fake,
    start,
)
from tests.integration.ui_support import HTML, get_page, location, text_of


@pytest.fixture
def client(settings, backends, fake_issuer, mock_provider):
    providers = (
        provider("fake", fake_issuer.url, label="Fake ID"),
        provider("mock", mock_provider),
    )
    return app_with(settings, backends, *providers).test_client()


async def refused(response, status: int = 400) -> str:
    html = await text_of(response)
    assert response.status_code == status, html[:300]
    assert await User.all().count() == 0
    return html


async def test_a_well_formed_token_signs_in(client, fake_issuer):
    fake_issuer.claims = {"preferred_username": "fay"}

    response = await sign_in_with_fake(client, fake_issuer)

    assert location(response) == "/home"
    assert await Identity.filter(issuer=fake_issuer.url, subject="fake-subject").exists()
    exchange = fake_issuer.token_requests[0]
    assert exchange["grant_type"] == ["authorization_code"]
    assert "client_secret" not in exchange  # sent with HTTP Basic, authlib's default
    assert len(exchange["code_verifier"][0]) >= 43  # PKCE: the verifier of the S256 challenge


async def test_a_forged_state_is_refused(client):
    await start(client, "mock")

    response = await client.get("/auth/oidc/mock/callback?state=forged&code=x", headers=HTML)

    assert "not started in this browser" in await refused(response)


async def test_a_missing_state_is_refused(client):
    await start(client, "mock")

    response = await client.get("/auth/oidc/mock/callback?code=x", headers=HTML)

    assert "not started in this browser" in await refused(response)


async def test_a_callback_in_another_browser_is_refused(client, mock_provider):
    subject = await set_user(mock_provider, {"preferred_username": "mallory"})
    callback = await at_provider(await start(client, "mock"), sub=subject)
    victim = client.app.test_client()  # login CSRF: someone else's browser gets the link

    response = await victim.get(path_of(callback), headers=HTML)

    assert "not started in this browser" in await refused(response)


async def test_a_state_is_used_once(client, fake_issuer):
    fake_issuer.claims = {"preferred_username": "fay"}
    authorize_url = await start(client, "fake")
    async with httpx.AsyncClient() as http:
        callback = (await http.get(authorize_url)).headers["Location"]
    assert location(await client.get(path_of(callback), headers=HTML)) == "/home"

    replayed = await client.app.test_client().get(path_of(callback), headers=HTML)
    same_browser = await client.get(path_of(callback), headers=HTML)

    assert replayed.status_code == 400
    assert same_browser.status_code == 400
    assert "not started in this browser" in await text_of(same_browser)


async def test_a_token_for_another_client_is_refused(client, fake_issuer):
    fake_issuer.audience = "some-other-app"

    response = await sign_in_with_fake(client, fake_issuer)

    assert "The ID token from Fake ID was issued for another application." in await refused(
        response
    )


async def test_a_token_signed_with_another_key_is_refused(client, fake_issuer):
    fake_issuer.sign_with_other_key = True  # same kid, key the issuer does not publish

    response = await sign_in_with_fake(client, fake_issuer)

    assert "The ID token from Fake ID has no valid signature." in await refused(response)


async def test_an_expired_token_is_refused(client, fake_issuer):
    fake_issuer.expires_in = -3600

    response = await sign_in_with_fake(client, fake_issuer)

    assert "The ID token from Fake ID has expired." in await refused(response)


async def test_another_sign_ins_nonce_is_refused(client, fake_issuer):
    fake_issuer.nonce = "a-nonce-from-another-sign-in"

    response = await sign_in_with_fake(client, fake_issuer)

    assert "The ID token from Fake ID does not belong to this sign-in." in await refused(response)


async def test_a_token_from_another_issuer_is_refused(client, fake_issuer):
    fake_issuer.issuer_claim = "https://evil.example"

    response = await sign_in_with_fake(client, fake_issuer)

    assert "The ID token from Fake ID comes from another issuer." in await refused(response)


async def test_discovery_naming_another_issuer_is_refused(client, fake_issuer):
    fake_issuer.discovery_issuer = "https://evil.example"

    response = await client.get("/auth/oidc/fake", headers=HTML)

    html = await refused(response, 503)
    assert "Fake ID is misconfigured: its discovery document names the issuer" in html


async def test_an_unreachable_provider_is_a_clear_503(settings, backends):
    down = provider("down", f"http://127.0.0.1:{free_port()}", label="Down ID")
    client = app_with(settings, backends, down).test_client()

    html = await get_page(client, "/auth/oidc/down", 503)

    assert "Down ID cannot be reached right now." in html
