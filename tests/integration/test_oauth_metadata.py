"""``/.well-known/oauth-authorization-server`` (RFC 8414), as Mastodon 4.3 publishes it."""

from __future__ import annotations

BASE = "https://starling.test"


async def metadata(client) -> dict:
    response = await client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    return await response.get_json()


async def test_metadata_names_our_endpoints_from_the_base_url(client):
    body = await metadata(client)

    assert body["issuer"] == f"{BASE}/"
    assert body["authorization_endpoint"] == f"{BASE}/oauth/authorize"
    assert body["token_endpoint"] == f"{BASE}/oauth/token"
    assert body["revocation_endpoint"] == f"{BASE}/oauth/revoke"
    assert body["app_registration_endpoint"] == f"{BASE}/api/v1/apps"


async def test_metadata_offers_the_code_flow_with_s256_only(client):
    body = await metadata(client)

    assert body["response_types_supported"] == ["code"]
    assert body["code_challenge_methods_supported"] == ["S256"]


async def test_metadata_lists_grants_client_auth_and_scopes(client):
    body = await metadata(client)

    assert set(body["grant_types_supported"]) == {
        "authorization_code",
        "password",
        "client_credentials",
    }
    assert set(body["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    assert {"read", "write", "follow", "push", "read:statuses"} <= set(body["scopes_supported"])


async def test_metadata_is_readable_from_browser_clients(client):
    response = await client.get(
        "/.well-known/oauth-authorization-server", headers={"Origin": "https://elk.zone"}
    )

    assert response.headers["Access-Control-Allow-Origin"] == "*"
