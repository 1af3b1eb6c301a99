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
    assert body["userinfo_endpoint"] == f"{BASE}/oauth/userinfo"
    assert body["service_documentation"] == "https://docs.joinmastodon.org/"


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


# Mastodon 4.3's scopes (docs.joinmastodon.org/api/oauth-scopes), written out on purpose.
MASTODON_SCOPES = {
    "read", "write", "follow", "push", "profile", "admin:read", "admin:write",
    "read:accounts", "read:blocks", "read:bookmarks", "read:favourites", "read:filters",
    "read:follows", "read:lists", "read:mutes", "read:notifications", "read:search",
    "read:statuses",
    "write:accounts", "write:blocks", "write:bookmarks", "write:conversations",
    "write:favourites", "write:filters", "write:follows", "write:lists", "write:media",
    "write:mutes", "write:notifications", "write:reports", "write:statuses",
    "admin:read:accounts", "admin:read:reports", "admin:read:domain_allows",
    "admin:read:domain_blocks", "admin:read:ip_blocks", "admin:read:email_domain_blocks",
    "admin:read:canonical_email_blocks",
    "admin:write:accounts", "admin:write:reports", "admin:write:domain_allows",
    "admin:write:domain_blocks", "admin:write:ip_blocks", "admin:write:email_domain_blocks",
    "admin:write:canonical_email_blocks",
}  # fmt: skip


async def test_metadata_lists_exactly_mastodons_scopes(client):
    body = await metadata(client)

    assert "write:follow" not in body["scopes_supported"]  # not a Mastodon scope
    assert len(body["scopes_supported"]) == len(set(body["scopes_supported"]))
    assert set(body["scopes_supported"]) == MASTODON_SCOPES


async def test_every_listed_scope_can_be_registered_by_an_app(client):
    scopes = " ".join((await metadata(client))["scopes_supported"])

    response = await client.post(
        "/api/v1/apps",
        json={"client_name": "all", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": scopes},
    )

    assert response.status_code == 200
    assert set((await response.get_json())["scopes"]) == MASTODON_SCOPES
