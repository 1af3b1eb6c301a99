"""``POST /oauth/revoke`` (RFC 7009), as Mastodon.py's ``revoke_access_token`` calls it."""

from __future__ import annotations

import pytest

from tests.factories import bearer, make_app, make_user, token_for


@pytest.fixture
async def client_app(backends):
    return await make_app(name="Mastodon.py")


@pytest.fixture
async def alice_token(settings, client_app):
    return await token_for(await make_user(settings), "read", app=client_app)


def revocation(app, token: str) -> dict[str, str]:
    return {"token": token, "client_id": app.client_id, "client_secret": app.client_secret}


async def test_revoked_token_is_rejected_with_401(client, client_app, alice_token):
    response = await client.post("/oauth/revoke", form=revocation(client_app, alice_token))

    after = await client.get("/api/v1/apps/verify_credentials", headers=bearer(alice_token))
    assert response.status_code == 200
    assert await response.get_json() == {}
    assert after.status_code == 401


async def test_revocation_accepts_json(client, client_app, alice_token):
    response = await client.post("/oauth/revoke", json=revocation(client_app, alice_token))

    after = await client.get("/api/v1/apps/verify_credentials", headers=bearer(alice_token))
    assert response.status_code == 200
    assert after.status_code == 401


async def test_revoking_an_unknown_token_answers_200(client, client_app):
    response = await client.post("/oauth/revoke", form=revocation(client_app, "no-such-token"))

    assert response.status_code == 200
    assert await response.get_json() == {}


async def test_revoking_twice_answers_200(client, client_app, alice_token):
    await client.post("/oauth/revoke", form=revocation(client_app, alice_token))

    response = await client.post("/oauth/revoke", form=revocation(client_app, alice_token))

    assert response.status_code == 200


async def test_revocation_requires_the_client_secret(client, client_app, alice_token):
    response = await client.post(
        "/oauth/revoke", form={"token": alice_token, "client_id": client_app.client_id}
    )

    after = await client.get("/api/v1/apps/verify_credentials", headers=bearer(alice_token))
    assert response.status_code == 401
    assert (await response.get_json())["error"] == "invalid_client"
    assert after.status_code == 200


async def test_an_app_cannot_revoke_another_apps_token(client, alice_token):
    other = await make_app(name="Other")

    response = await client.post("/oauth/revoke", form=revocation(other, alice_token))

    after = await client.get("/api/v1/apps/verify_credentials", headers=bearer(alice_token))
    assert response.status_code == 403
    assert after.status_code == 200


async def test_revocation_without_a_token_is_invalid_request(client, client_app):
    response = await client.post("/oauth/revoke", form=revocation(client_app, ""))

    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid_request"
