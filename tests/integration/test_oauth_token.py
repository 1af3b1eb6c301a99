"""``POST /oauth/token``: the password and client-credentials grants, errors, CORS and limits."""

from __future__ import annotations

import time

import pytest
from tortoise.timezone import now

from models.accounts import Account, User
from services import tokens
from services.oauth import TOKEN_CACHE_KEY
from tests.factories import PASSWORD, bearer, make_app, make_user, token_for


@pytest.fixture
async def toot(backends):
    return await make_app(name="toot", scopes="read write follow")


@pytest.fixture
async def alice(settings, backends):
    return await make_user(settings, "alice")


def password_grant(app, **fields) -> dict[str, str]:
    return {
        "grant_type": "password",
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "username": "alice",
        "password": PASSWORD,
        "scope": "read write",
    } | fields


def client_grant(app, **fields) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": app.client_id,
        "client_secret": app.client_secret,
    } | fields


# Password grant


async def test_password_grant_accepts_the_username(client, toot, alice):
    response = await client.post("/oauth/token", form=password_grant(toot))

    assert response.status_code == 200
    assert (await response.get_json())["scope"] == "read write"


async def test_password_grant_accepts_the_email_address(client, toot, alice):
    # Mastodon's own apps send the e-mail address as "username".
    response = await client.post(
        "/oauth/token", json=password_grant(toot, username="alice@example.com")
    )

    assert response.status_code == 200


async def test_password_grant_token_acts_for_the_user(client, toot, alice):
    body = await (await client.post("/oauth/token", form=password_grant(toot))).get_json()

    me = await client.get(
        "/api/v1/accounts/verify_credentials", headers=bearer(body["access_token"])
    )

    assert (await me.get_json())["username"] == "alice"


async def test_token_answer_has_mastodons_shape_and_is_not_cached(client, toot, alice):
    response = await client.post("/oauth/token", form=password_grant(toot))

    body = await response.get_json()
    assert set(body) == {"access_token", "token_type", "scope", "created_at"}
    assert body["token_type"] == "Bearer"
    assert isinstance(body["created_at"], int)
    assert response.headers["Cache-Control"] == "no-store"


async def test_wrong_password_is_invalid_grant(client, toot, alice):
    response = await client.post("/oauth/token", form=password_grant(toot, password="nope"))

    assert response.status_code == 400
    body = await response.get_json()
    assert body["error"] == "invalid_grant"
    assert body["error_description"]


async def test_unknown_user_is_invalid_grant(client, toot):
    response = await client.post("/oauth/token", form=password_grant(toot, username="bob"))

    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid_grant"


async def test_username_with_a_nul_byte_is_a_400_not_500(client, toot):
    response = await client.post("/oauth/token", form=password_grant(toot, username="a\x00"))

    assert response.status_code == 400
    assert (await response.get_json())["error"] in ("invalid_request", "invalid_grant")


async def test_user_pending_approval_gets_no_token(client, toot, settings, backends):
    await make_user(settings, "carol", approved=False)

    response = await client.post("/oauth/token", form=password_grant(toot, username="carol"))

    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("model", "changed", "message"),
    [
        (User, "disabled_at", "Your login is currently disabled"),
        (Account, "suspended_at", "Your login is currently disabled"),
        (User, "approved", "Your login is currently pending approval"),
    ],
)
async def test_a_token_stops_working_when_its_user_is_barred(
    client, settings, model, changed, message
):
    user = await make_user(settings, "dora")
    token = await token_for(user, "read")
    assert (
        await client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    ).status_code == 200
    # Barred from elsewhere (the row changes; the cached context is gone after its TTL)
    row_id = user.account_id if model is Account else user.id
    await model.filter(id=row_id).update(**{changed: False if changed == "approved" else now()})
    await forget_cached_context(client, token)

    response = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))

    assert response.status_code == 401
    assert (await response.get_json())["error"] == message


async def forget_cached_context(client, token: str) -> None:
    """As when TOKEN_CACHE_TTL has passed: Redis's copy and this process's are gone."""
    digest = tokens.digest(token)
    backends = client.app.extensions["starling"]
    await backends.redis.delete(TOKEN_CACHE_KEY.format(digest))
    backends.tokens.forget([digest])


async def test_missing_password_is_invalid_request(client, toot, alice):
    fields = password_grant(toot)
    del fields["password"]

    response = await client.post("/oauth/token", form=fields)

    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid_request"


# Scopes


async def test_scope_defaults_to_read(client, toot, alice):
    fields = password_grant(toot)
    del fields["scope"]

    response = await client.post("/oauth/token", form=fields)

    assert (await response.get_json())["scope"] == "read"


async def test_scope_beyond_the_apps_registration_is_invalid_scope(client, toot, alice):
    response = await client.post("/oauth/token", form=password_grant(toot, scope="read push"))

    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid_scope"


async def test_unknown_scope_is_invalid_scope(client, toot, alice):
    response = await client.post("/oauth/token", form=password_grant(toot, scope="read fly"))

    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid_scope"


async def test_granular_scope_within_a_registered_top_level_scope_is_granted(client, toot, alice):
    response = await client.post(
        "/oauth/token", form=password_grant(toot, scope="read:statuses write:media")
    )

    assert (await response.get_json())["scope"] == "read:statuses write:media"


# Client credentials


async def test_client_credentials_token_can_verify_the_app(client, toot):
    body = await (await client.post("/oauth/token", form=client_grant(toot))).get_json()

    response = await client.get(
        "/api/v1/apps/verify_credentials", headers=bearer(body["access_token"])
    )

    assert response.status_code == 200
    assert (await response.get_json())["name"] == "toot"


async def test_client_credentials_token_cannot_act_for_a_user(client, toot):
    body = await (await client.post("/oauth/token", form=client_grant(toot))).get_json()

    response = await client.get(
        "/api/v1/accounts/verify_credentials", headers=bearer(body["access_token"])
    )

    assert response.status_code == 401


async def test_client_may_authenticate_with_http_basic(client, toot):
    response = await client.post(
        "/oauth/token",
        form={"grant_type": "client_credentials"},
        auth=(toot.client_id, toot.client_secret),
    )

    assert response.status_code == 200


async def test_wrong_client_secret_is_invalid_client_401(client, toot):
    response = await client.post("/oauth/token", form=client_grant(toot, client_secret="x"))

    assert response.status_code == 401
    assert (await response.get_json())["error"] == "invalid_client"


async def test_wrong_basic_credentials_are_challenged(client, toot):
    response = await client.post(
        "/oauth/token", form={"grant_type": "client_credentials"}, auth=(toot.client_id, "x")
    )

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")


# Malformed requests


async def test_refresh_token_grant_is_unsupported(client, toot):
    response = await client.post(
        "/oauth/token", form=client_grant(toot, grant_type="refresh_token", refresh_token="r")
    )

    assert response.status_code == 400
    assert (await response.get_json())["error"] == "unsupported_grant_type"


async def test_missing_grant_type_is_invalid_request(client, toot):
    fields = client_grant(toot)
    del fields["grant_type"]

    response = await client.post("/oauth/token", form=fields)

    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        ('{"grant_type": ["password"]}', "application/json"),
        ('{"grant_type": "password", "username": 5, "password": {}}', "application/json"),
        ("grant_type=password", "text/plain"),
    ],
)
async def test_malformed_body_is_invalid_request_not_500(client, data, content_type):
    response = await client.post("/oauth/token", data=data, headers={"Content-Type": content_type})

    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid_request"


# CORS, for browser clients such as Phanpy and Elk


async def test_token_answer_allows_any_origin(client, toot):
    response = await client.post(
        "/oauth/token", form=client_grant(toot), headers={"Origin": "https://phanpy.social"}
    )

    assert response.headers["Access-Control-Allow-Origin"] == "*"


async def test_preflight_allows_the_authorization_header(client):
    response = await client.options(
        "/oauth/token",
        headers={
            "Origin": "https://elk.zone",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )

    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()


# Rate limits


async def test_password_attempts_are_limited_like_sign_ins(client, toot, alice):
    statuses = []
    for _ in range(25 + 1):  # web.ratelimit.SIGN_IN allows 25 per 5 minutes
        response = await client.post("/oauth/token", form=password_grant(toot, password="no"))
        statuses.append(response.status_code)

    assert statuses[:25] == [400] * 25
    assert statuses[25] == 429
    assert response.headers["Retry-After"]
    assert "X-RateLimit-Remaining" in response.headers


async def test_other_grants_do_not_count_as_sign_ins(client, toot):
    statuses = set()
    for _ in range(25 + 1):
        response = await client.post("/oauth/token", form=client_grant(toot))
        statuses.add(response.status_code)

    assert statuses == {200}


async def test_token_endpoint_is_limited_per_address(client, toot):
    statuses = []
    started = time.monotonic()
    for _ in range(300 + 60):  # web.ratelimit.TOKEN allows 300 per 5 minutes
        response = await client.post("/oauth/token", form=client_grant(toot, client_secret="x"))
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
    elapsed = time.monotonic() - started

    assert statuses[:300] == [401] * 300
    assert statuses[-1] == 429
    # The budget refills at one request a second while the loop runs: a slow machine gets
    # that many more before the 429, never fewer than 300.
    assert len(statuses) <= 300 + 1 + int(elapsed) + 1
    assert response.headers["X-RateLimit-Limit"] == "300"
    assert response.headers["X-RateLimit-Remaining"] == "0"
