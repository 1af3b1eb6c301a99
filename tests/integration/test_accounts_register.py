"""``POST /api/v1/accounts``: sign-up by an app, answered with a token for the new user."""

from __future__ import annotations

import pytest

from models.accounts import Account, User
from services import accounts as account_service
from services import oauth
from services.instance import set_setting
from tests.integration.accounts_support import (
    app_token,
    assert_credential_account_shape,
    bearer,
    make_user,
    registration,
)
from web.ratelimit import SIGN_UP


async def register(client, body, token, **kwargs):
    return await client.post("/api/v1/accounts", json=body, headers=bearer(token), **kwargs)


def detail_codes(body, field):
    return [detail["error"] for detail in body["details"][field]]


async def test_registration_answers_a_token_that_verifies_credentials(client):
    token = await app_token()

    response = await register(client, registration("newbie"), token)

    assert response.status_code == 200
    issued = (await response.get_json())["access_token"]
    me = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(issued))
    assert me.status_code == 200
    entity = await me.get_json()
    assert_credential_account_shape(entity)
    assert entity["username"] == "newbie"
    assert entity["acct"] == "newbie"


async def test_registration_token_has_the_calling_tokens_scopes_and_token_shape(client):
    token = await app_token("read write:accounts")

    body = await (await register(client, registration(), token)).get_json()

    assert body["token_type"] == "Bearer"
    assert body["scope"] == "read write:accounts"
    assert isinstance(body["created_at"], int)
    assert isinstance(body["access_token"], str)


async def test_registration_accepts_a_form_body_as_mastodon_py_sends_it(client):
    token = await app_token()
    form = registration("formy") | {"agreement": "1", "client_id": "x", "client_secret": "y"}

    response = await client.post("/api/v1/accounts", form=form, headers=bearer(token))

    assert response.status_code == 200
    assert await Account.filter(acct="formy").exists()


async def test_username_taken_in_another_case_is_422_err_taken(client, settings):
    await make_user(settings, "alice")
    token = await app_token()

    response = await register(client, registration("ALICE", email="other@example.com"), token)

    assert response.status_code == 422
    body = await response.get_json()
    assert body["error"].startswith("Validation failed")
    assert detail_codes(body, "username") == ["ERR_TAKEN"]


async def test_email_taken_in_another_case_is_422_err_taken(client, settings):
    await make_user(settings, "alice")
    token = await app_token()

    response = await register(client, registration("bob", email="ALICE@example.com"), token)

    assert response.status_code == 422
    assert detail_codes(await response.get_json(), "email") == ["ERR_TAKEN"]


async def test_short_password_is_422_err_too_short(client):
    token = await app_token()

    response = await register(client, registration(password="short"), token)

    assert response.status_code == 422
    assert detail_codes(await response.get_json(), "password") == ["ERR_TOO_SHORT"]


async def test_missing_agreement_is_422_err_accepted(client):
    token = await app_token()
    body = registration()
    del body["agreement"]

    response = await register(client, body, token)

    assert response.status_code == 422
    assert detail_codes(await response.get_json(), "agreement") == ["ERR_ACCEPTED"]


@pytest.mark.parametrize(
    ("username", "code"),
    [
        ("", "ERR_BLANK"),
        ("no-dashes", "ERR_INVALID"),
        ("x" * 31, "ERR_TOO_LONG"),
        ("Admin", "ERR_RESERVED"),
    ],
)
async def test_bad_username_is_422_with_its_code(client, username, code):
    token = await app_token()

    response = await register(client, registration(username, email="a@example.com"), token)

    assert response.status_code == 422
    assert detail_codes(await response.get_json(), "username") == [code]


async def test_every_invalid_field_is_reported_at_once(client):
    token = await app_token()
    body = {"username": "ok_name", "email": "not-an-email", "password": "x", "agreement": False}

    response = await register(client, body, token)

    details = (await response.get_json())["details"]
    assert set(details) == {"email", "password", "agreement"}


async def test_wrong_json_type_is_422_not_500(client):
    token = await app_token()

    response = await register(client, registration(username=12345), token)

    assert response.status_code == 422


async def test_registration_without_a_token_is_401(client):
    response = await client.post("/api/v1/accounts", json=registration())

    assert response.status_code == 401
    assert not await Account.exists()


async def test_registration_with_a_read_only_token_is_403(client):
    token = await app_token("read")

    response = await register(client, registration(), token)

    assert response.status_code == 403
    assert not await Account.exists()


async def test_registration_with_invalid_json_is_400(client):
    token = await app_token()
    headers = bearer(token) | {"Content-Type": "application/json"}

    response = await client.post("/api/v1/accounts", data=b'{"username": ', headers=headers)

    assert response.status_code == 400


async def test_registration_is_rate_limited_per_ip(client):
    token = await app_token()
    statuses = []
    for number in range(SIGN_UP.count + 1):
        response = await register(client, registration(f"user{number}"), token)
        statuses.append(response.status_code)

    assert statuses == [200] * SIGN_UP.count + [429]


async def test_registration_is_refused_when_sign_ups_are_closed(client):
    await set_setting("registration_mode", "closed")
    token = await app_token()

    response = await register(client, registration(), token)

    assert response.status_code == 403
    assert not await Account.exists()


async def test_registration_in_approval_mode_waits_for_a_moderator(client):
    await set_setting("registration_mode", "approved")
    token = await app_token()

    body = await (await register(client, registration("waiting"), token)).get_json()

    user = await User.get(account__acct="waiting")
    assert user.approved is False
    me = await client.get(
        "/api/v1/accounts/verify_credentials", headers=bearer(body["access_token"])
    )
    assert me.status_code == 401


async def test_a_failure_after_the_account_insert_leaves_no_account(
    settings, backends, monkeypatch
):
    async def broken_issue_token(**_kwargs):
        raise RuntimeError("token store down")

    monkeypatch.setattr(oauth, "issue_token", broken_issue_token)
    new = account_service.NewAccount(
        username="halfway", email="halfway@example.com", password="long enough", agreement=True
    )

    with pytest.raises(RuntimeError):
        await account_service.register(settings, new, application_id=None, scopes=frozenset())

    assert not await Account.filter(acct="halfway").exists()
    assert not await User.filter(email="halfway@example.com").exists()
