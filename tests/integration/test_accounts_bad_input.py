"""Bad input to the accounts endpoints is a client error with a JSON body, never a 500."""

from __future__ import annotations

import pytest

from models.accounts import Account
from tests.integration.accounts_support import (
    app_token,
    bearer,
    make_user,
    registration,
    user_token,
)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (registration(email="a\x00b@example.com"), "email"),
        (registration(reason="hi\x00"), "reason"),
        (registration(password="abcdefgh\x00ij"), "password"),
        (registration(locale="e\x00n"), "locale"),
        (registration("a\x00", email="a@example.com"), "username"),
        (registration(email="x" * 100_000 + "@example.com"), "email"),
        (registration(reason="x" * 421), "reason"),
        ({"username": None}, "username"),
        (registration(agreement="maybe"), "agreement"),
    ],
)
async def test_bad_registration_field_is_422_naming_the_field(client, body, field):
    token = await app_token()

    response = await client.post("/api/v1/accounts", json=body, headers=bearer(token))

    assert response.status_code == 422
    assert field in (await response.get_json())["details"]
    assert not await Account.exists()


@pytest.mark.parametrize("body", [[1, 2], "a string", 42])
async def test_registration_body_that_is_not_an_object_is_400(client, body):
    token = await app_token()

    response = await client.post("/api/v1/accounts", json=body, headers=bearer(token))

    assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        {"display_name": "a\x00"},
        {"note": "b\x00"},
        {"source": "not an object"},
        {"source": {"privacy": 5}},
        {"bot": [True]},
    ],
)
async def test_bad_profile_update_is_422(client, settings, body):
    token = await user_token(await make_user(settings))

    response = await client.patch(
        "/api/v1/accounts/update_credentials", json=body, headers=bearer(token)
    )

    assert response.status_code == 422


@pytest.mark.parametrize(("acct", "status"), [("a\x00", 422), ("x" * 5000, 422), ("@", 404)])
async def test_bad_lookup_is_a_client_error(client, acct, status):
    response = await client.get("/api/v1/accounts/lookup", query_string={"acct": acct})

    assert response.status_code == status


@pytest.mark.parametrize("path", ["/api/v1/accounts/%00", "/api/v1/accounts/" + "9" * 500])
async def test_account_path_with_garbage_is_404(client, path):
    response = await client.get(path)

    assert response.status_code == 404
