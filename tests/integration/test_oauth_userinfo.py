"""``/oauth/userinfo``: OpenID Connect claims for the token's account, as Mastodon 4.4 serves
them (``iss sub name preferred_username profile picture``), for a token with ``profile``."""

from __future__ import annotations

import pytest

from tests.factories import bearer, make_user, token_for

BASE = "https://starling.test"


async def _profile_token(client, settings) -> dict[str, str]:
    user = await make_user(settings, "alice")
    headers = bearer(await token_for(user, "profile"))
    response = await client.patch(
        "/api/v1/accounts/update_credentials",
        json={"display_name": "Alice A."},
        headers=bearer(await token_for(user, "write:accounts")),
    )
    assert response.status_code == 200
    return headers


@pytest.mark.parametrize("method", ["GET", "POST"])  # OpenID Connect allows both
async def test_userinfo_names_the_account_as_its_actor(client, settings, method):
    headers = await _profile_token(client, settings)

    response = await client.open("/oauth/userinfo", method=method, headers=headers)

    assert response.status_code == 200
    claims = await response.get_json()
    assert claims == {
        "iss": f"{BASE}/",
        "sub": f"{BASE}/users/alice",
        "name": "Alice A.",
        "preferred_username": "alice",
        "profile": f"{BASE}/@alice",
        "picture": claims["picture"],
    }
    account = await (
        await client.get("/api/v1/accounts/verify_credentials", headers=headers)
    ).get_json()
    assert claims["picture"] == account["avatar"]
    assert claims["sub"] == account["uri"]


async def test_userinfo_issuer_is_the_metadata_issuer(client, settings):
    headers = await _profile_token(client, settings)
    metadata = await (await client.get("/.well-known/oauth-authorization-server")).get_json()

    claims = await (await client.get(metadata["userinfo_endpoint"], headers=headers)).get_json()

    assert claims["iss"] == metadata["issuer"]


async def test_userinfo_needs_the_profile_scope_even_with_read(client, settings):
    user = await make_user(settings, "bob")

    response = await client.get(
        "/oauth/userinfo", headers=bearer(await token_for(user, "read write follow"))
    )

    assert response.status_code == 403
    assert "error" in await response.get_json()


async def test_userinfo_without_a_token_is_401(client):
    response = await client.get("/oauth/userinfo")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_userinfo_needs_a_user_not_an_app(client):
    response = await client.get("/oauth/userinfo", headers=bearer(await token_for(None, "profile")))

    assert response.status_code == 401


async def test_userinfo_is_readable_from_browser_clients(client, settings):
    headers = await _profile_token(client, settings)

    response = await client.get(
        "/oauth/userinfo", headers={**headers, "Origin": "https://elk.zone"}
    )

    assert response.headers["Access-Control-Allow-Origin"] == "*"
