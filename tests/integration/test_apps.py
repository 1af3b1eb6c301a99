"""Registering apps and verifying them, as Mastodon clients call ``/api/v1/apps``."""

from __future__ import annotations

import pytest

from models.oauth import Application
from services import tokens
from tests.factories import bearer, make_app, make_user, token_for

OOB = "urn:ietf:wg:oauth:2.0:oob"


async def register(client, **fields):
    body = {"client_name": "Test App", "redirect_uris": OOB} | fields
    return await client.post("/api/v1/apps", json=body)


async def test_registration_answers_the_application_with_its_credentials(client):
    response = await register(
        client,
        redirect_uris="https://app.example/cb",
        scopes="read write",
        website="https://app.example",
    )

    assert response.status_code == 200
    body = await response.get_json()
    assert isinstance(body["id"], str)
    assert body["name"] == "Test App"
    assert body["website"] == "https://app.example"
    assert body["scopes"] == ["read", "write"]
    assert body["redirect_uri"] == "https://app.example/cb"
    assert body["redirect_uris"] == ["https://app.example/cb"]
    assert isinstance(body["vapid_key"], str)
    assert body["client_id"]
    assert body["client_secret"]
    assert body["client_secret_expires_at"] == 0


async def test_client_secret_is_stored_only_hashed(client):
    body = await (await register(client)).get_json()

    stored = await Application.get(client_id=body["client_id"])
    assert stored.client_secret_hash == tokens.digest(body["client_secret"])
    assert body["client_secret"] not in stored.client_secret_hash


async def test_scopes_default_to_read(client):
    body = await (await register(client)).get_json()

    assert body["scopes"] == ["read"]


async def test_newline_separated_redirect_uris_are_registered_separately(client):
    # Mastodon.py joins a list of redirect URIs with newlines.
    response = await register(client, redirect_uris="https://a.example/cb\nmyapp://cb")

    body = await response.get_json()
    assert body["redirect_uris"] == ["https://a.example/cb", "myapp://cb"]
    assert body["redirect_uri"] == "https://a.example/cb\nmyapp://cb"


async def test_form_encoded_redirect_uris_array_is_accepted(client):
    response = await client.post(
        "/api/v1/apps",
        data="client_name=Form+App&redirect_uris[]=https://a.example/cb&redirect_uris[]=myapp://cb",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 200
    assert (await response.get_json())["redirect_uris"] == ["https://a.example/cb", "myapp://cb"]


@pytest.mark.parametrize(
    "uri",
    [
        OOB,
        "https://app.example:8443/oauth/cb?from=starling",
        "http://localhost:4000/callback",
        "http://127.0.0.1:8080/cb",
        "myapp://cb",
        "com.example.app:/oauth2redirect",
    ],
)
async def test_redirect_uris_mastodon_accepts_are_accepted(client, uri):
    response = await register(client, redirect_uris=uri)

    assert response.status_code == 200
    assert (await response.get_json())["redirect_uris"] == [uri]


@pytest.mark.parametrize(
    "uri",
    [
        "/relative/path",
        "app.example/cb",
        "https://app.example/cb#fragment",
        "javascript:alert(1)",
        "data:text/html,hi",
        "https://",
        "https://app.example:99999/cb",
        "",
    ],
)
async def test_invalid_redirect_uris_are_rejected_with_422(client, uri):
    response = await register(client, redirect_uris=uri)

    assert response.status_code == 422
    assert "Redirect URI" in (await response.get_json())["error"]


async def test_unknown_scope_is_rejected_with_422(client):
    response = await register(client, scopes="read launch:missiles")

    assert response.status_code == 422
    assert "launch:missiles" in (await response.get_json())["error"]


async def test_client_name_is_required(client):
    response = await client.post("/api/v1/apps", json={"redirect_uris": OOB})

    assert response.status_code == 422


async def test_blank_client_name_is_rejected(client):
    response = await register(client, client_name="   ")

    assert response.status_code == 422


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("{not json", "application/json"),
        ('["a", "list"]', "application/json"),
        ('{"client_name": 5, "redirect_uris": "myapp://cb"}', "application/json"),
        ('{"client_name": "x", "redirect_uris": {"a": 1}}', "application/json"),
        ("client_name=x", "text/plain"),
        ('{"client_name": "a\\u0000b", "redirect_uris": "myapp://cb"}', "application/json"),
        (
            '{"client_name": "x", "redirect_uris": "myapp://cb", "website": "http://[::1"}',
            "application/json",
        ),
    ],
)
async def test_malformed_registration_is_a_client_error_not_500(client, data, content_type):
    response = await client.post("/api/v1/apps", data=data, headers={"Content-Type": content_type})

    assert response.status_code in (400, 422)
    assert (await response.get_json())["error"]


async def test_verify_credentials_shows_the_app_without_secrets(client):
    app = await make_app(name="Verifier", scopes="read write")
    token = await token_for(None, "read", app=app)

    response = await client.get("/api/v1/apps/verify_credentials", headers=bearer(token))

    assert response.status_code == 200
    body = await response.get_json()
    assert body["name"] == "Verifier"
    assert body["id"] == str(app.id)
    assert body["scopes"] == ["read", "write"]
    assert "client_secret" not in body


async def test_verify_credentials_accepts_a_user_token(client, settings):
    user = await make_user(settings)
    token = await token_for(user, "read")

    response = await client.get("/api/v1/apps/verify_credentials", headers=bearer(token))

    assert response.status_code == 200


async def test_verify_credentials_without_a_token_is_401(client):
    response = await client.get("/api/v1/apps/verify_credentials")

    assert response.status_code == 401


async def test_verify_credentials_with_an_unknown_token_is_401(client):
    response = await client.get("/api/v1/apps/verify_credentials", headers=bearer("nope"))

    assert response.status_code == 401


async def test_token_lacking_the_read_scope_is_403(client):
    token = await token_for(None, "write")

    response = await client.get("/api/v1/apps/verify_credentials", headers=bearer(token))

    assert response.status_code == 403
