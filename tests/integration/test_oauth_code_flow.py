"""The authorization-code grant through the HTML page, as a browser and a Mastodon app do it."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.factories import PASSWORD, REDIRECT_URI, bearer, make_app, make_user

OOB = "urn:ietf:wg:oauth:2.0:oob"


@dataclass
class Form:
    action: str = ""
    hidden: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.form = Form()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.form.action = values.get("action", "")
        elif tag == "input" and values.get("type") == "hidden":
            self.form.hidden[values["name"]] = values.get("value", "")


def parse_form(html: str) -> Form:
    parser = _FormParser()
    parser.feed(html)
    return parser.form


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_query(app, **overrides) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "read write",
        "state": "s-123",
    } | overrides


async def open_page(client, app, **overrides):
    page = await client.get("/oauth/authorize", query_string=authorize_query(app, **overrides))
    assert page.status_code == 200, await page.get_data(as_text=True)
    return parse_form(await page.get_data(as_text=True))


async def submit(client, form: Form, **fields):
    body = form.hidden | {"login": "alice", "password": PASSWORD, "decision": "authorize"}
    return await client.post(form.action, form=body | fields)


async def authorize(client, app, *, fields=None, **overrides):
    """GET the page, POST it back signed in; the response (a 302 when all went well)."""
    form = await open_page(client, app, **overrides)
    return await submit(client, form, **(fields or {}))


def redirect_params(response) -> dict[str, str]:
    assert response.status_code == 302, response.status_code
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    return {key: values[0] for key, values in query.items()}


async def exchange(client, app, code, **fields):
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
    }
    return await client.post("/oauth/token", form=body | fields)


@pytest.fixture
async def alice(settings, backends):
    return await make_user(settings, "alice")


@pytest.fixture
async def phanpy(backends):
    return await make_app(name="Phanpy", scopes="read write follow push")


# The page


async def test_page_names_the_app_and_the_requested_scopes(client, phanpy):
    page = await client.get("/oauth/authorize", query_string=authorize_query(phanpy))

    html = await page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Phanpy" in html
    assert "wants: <strong>read write</strong>" in html


async def test_page_escapes_what_the_app_registered(client):
    app = await make_app(name="<script>alert(1)</script>")

    page = await client.get("/oauth/authorize", query_string=authorize_query(app))

    html = await page.get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


async def test_page_carries_every_parameter_in_hidden_fields(client, phanpy):
    _, challenge = pkce_pair()

    form = await open_page(
        client, phanpy, code_challenge=challenge, code_challenge_method="S256", force_login="true"
    )

    assert form.action == "/oauth/authorize"
    assert form.hidden["client_id"] == phanpy.client_id
    assert form.hidden["redirect_uri"] == REDIRECT_URI
    assert form.hidden["state"] == "s-123"
    assert form.hidden["code_challenge"] == challenge
    assert form.hidden["force_login"] == "true"
    assert form.hidden["csrf_token"]


async def test_page_cannot_be_framed_or_cached(client, phanpy):
    page = await client.get("/oauth/authorize", query_string=authorize_query(phanpy))

    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"


# Requests that must not redirect anywhere


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/callback",
        REDIRECT_URI + "/more",
        REDIRECT_URI + "?extra=1",
        REDIRECT_URI.upper(),
    ],
)
async def test_unregistered_redirect_uri_gets_a_400_page_not_a_redirect(
    client, phanpy, redirect_uri
):
    page = await client.get(
        "/oauth/authorize", query_string=authorize_query(phanpy, redirect_uri=redirect_uri)
    )

    assert page.status_code == 400
    assert "Location" not in page.headers
    assert "redirect_uri" in await page.get_data(as_text=True)


async def test_unknown_client_id_gets_a_400_page(client, phanpy):
    page = await client.get(
        "/oauth/authorize", query_string=authorize_query(phanpy, client_id="nobody")
    )

    assert page.status_code == 400
    assert page.mimetype == "text/html"


async def test_client_id_with_a_nul_byte_gets_a_400_page(client, phanpy):
    page = await client.get(
        "/oauth/authorize", query_string=authorize_query(phanpy, client_id="a\x00b")
    )

    assert page.status_code == 400


async def test_scope_the_app_did_not_register_gets_a_400_page(client):
    app = await make_app(scopes="read")

    page = await client.get(
        "/oauth/authorize", query_string=authorize_query(app, scope="read write")
    )

    assert page.status_code == 400


async def test_unknown_scope_gets_a_400_page(client, phanpy):
    page = await client.get(
        "/oauth/authorize", query_string=authorize_query(phanpy, scope="read teleport")
    )

    assert page.status_code == 400


async def test_plain_pkce_method_gets_a_400_page(client, phanpy):
    page = await client.get(
        "/oauth/authorize",
        query_string=authorize_query(
            phanpy, code_challenge="x" * 43, code_challenge_method="plain"
        ),
    )

    assert page.status_code == 400


async def test_response_type_other_than_code_gets_a_400_page(client, phanpy):
    page = await client.get(
        "/oauth/authorize", query_string=authorize_query(phanpy, response_type="token")
    )

    assert page.status_code == 400


# Signing in and consenting


async def test_code_flow_with_pkce_gives_a_working_user_token(client, phanpy, alice):
    # Given an phanpy that started PKCE
    verifier, challenge = pkce_pair()
    # When alice signs in on the page and the phanpy exchanges the code
    response = await authorize(
        client, phanpy, code_challenge=challenge, code_challenge_method="S256"
    )
    params = redirect_params(response)
    token_response = await exchange(client, phanpy, params["code"], code_verifier=verifier)
    # Then the token acts for alice with the scopes she granted
    assert params["state"] == "s-123"
    assert response.headers["Location"].startswith(REDIRECT_URI + "?")
    body = await token_response.get_json()
    assert token_response.status_code == 200, body
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "read write"
    me = await client.get(
        "/api/v1/accounts/verify_credentials", headers=bearer(body["access_token"])
    )
    assert (await me.get_json())["username"] == "alice"


async def test_sign_in_on_the_page_accepts_the_email_address(client, phanpy, alice):
    response = await authorize(client, phanpy, fields={"login": "alice@example.com"})

    assert "code" in redirect_params(response)


async def test_wrong_verifier_is_rejected(client, phanpy, alice):
    _, challenge = pkce_pair()
    other_verifier, _ = pkce_pair()
    response = await authorize(
        client, phanpy, code_challenge=challenge, code_challenge_method="S256"
    )

    token_response = await exchange(
        client, phanpy, redirect_params(response)["code"], code_verifier=other_verifier
    )

    assert token_response.status_code == 400
    assert (await token_response.get_json())["error"] == "invalid_grant"


async def test_verifier_is_required_when_a_challenge_was_given(client, phanpy, alice):
    _, challenge = pkce_pair()
    response = await authorize(
        client, phanpy, code_challenge=challenge, code_challenge_method="S256"
    )

    token_response = await exchange(client, phanpy, redirect_params(response)["code"])

    assert token_response.status_code == 400
    assert (await token_response.get_json())["error"] == "invalid_grant"


async def test_code_cannot_be_replayed(client, phanpy, alice):
    code = redirect_params(await authorize(client, phanpy))["code"]
    first = await exchange(client, phanpy, code)

    second = await exchange(client, phanpy, code)

    assert first.status_code == 200
    assert second.status_code == 400
    assert (await second.get_json())["error"] == "invalid_grant"


async def test_code_requires_the_same_redirect_uri(client, phanpy, alice):
    code = redirect_params(await authorize(client, phanpy))["code"]

    response = await exchange(client, phanpy, code, redirect_uri="https://phanpy.example/other")

    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid_grant"


async def test_redirect_uri_may_be_left_out_when_the_app_registered_one(client, phanpy, alice):
    form = await open_page(client, phanpy, redirect_uri="")
    code = redirect_params(await submit(client, form))["code"]

    response = await exchange(client, phanpy, code, redirect_uri="")

    assert response.status_code == 200


async def test_csrf_cookie_is_http_only_and_same_site(client, phanpy):
    page = await client.get("/oauth/authorize", query_string=authorize_query(phanpy))

    cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie


async def test_code_of_one_app_is_useless_to_another(client, phanpy, alice):
    code = redirect_params(await authorize(client, phanpy))["code"]
    other = await make_app(name="Other")

    response = await exchange(client, other, code)

    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid_grant"


async def test_deny_redirects_with_access_denied_and_the_state(client, phanpy, alice):
    form = await open_page(client, phanpy)

    response = await client.post(form.action, form=form.hidden | {"decision": "deny"})

    assert redirect_params(response) == {"error": "access_denied", "state": "s-123"}


async def test_wrong_password_shows_the_form_again_without_a_code(client, phanpy, alice):
    response = await authorize(client, phanpy, fields={"password": "wrong password"})

    html = await response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Invalid username, e-mail or password" in html
    assert parse_form(html).hidden["client_id"] == phanpy.client_id


async def test_post_without_the_csrf_cookie_is_refused(client, phanpy, alice):
    form = await open_page(client, phanpy)
    client.cookie_jar.clear()

    response = await submit(client, form)

    assert response.status_code == 403
    assert "Location" not in response.headers


async def test_post_with_a_forged_csrf_field_is_refused(client, phanpy, alice):
    form = await open_page(client, phanpy)

    response = await submit(client, form, csrf_token="A" * 43)

    assert response.status_code == 403


async def test_out_of_band_redirect_shows_the_code_on_a_page(client, alice):
    app = await make_app(redirect_uris=[OOB])

    response = await authorize(client, app, redirect_uri=OOB)

    html = await response.get_data(as_text=True)
    assert response.status_code == 200
    code = html.split('id="code">', 1)[1].split("<", 1)[0]
    token_response = await exchange(client, app, code, redirect_uri=OOB)
    assert token_response.status_code == 200


async def test_custom_scheme_redirect_receives_the_code(client, alice):
    app = await make_app(redirect_uris=["myapp://oauth"])

    response = await authorize(client, app, redirect_uri="myapp://oauth")

    assert response.headers["Location"].startswith("myapp://oauth?code=")


async def test_registered_query_is_kept_when_the_code_is_added(client, alice):
    uri = "https://app.example/cb?instance=starling"
    app = await make_app(redirect_uris=[uri])

    response = await authorize(client, app, redirect_uri=uri)

    assert response.headers["Location"].startswith(uri + "&code=")


async def test_login_with_a_nul_byte_shows_the_form_again(client, phanpy, alice):
    response = await authorize(client, phanpy, fields={"login": "alice\x00"})

    assert response.status_code == 422


async def test_tampered_hidden_redirect_uri_is_refused_with_a_400_page(client, phanpy, alice):
    form = await open_page(client, phanpy)

    response = await submit(client, form, redirect_uri="https://evil.example/cb")

    assert response.status_code == 400
    assert "Location" not in response.headers


async def test_malformed_post_is_a_client_error_not_500(client, phanpy):
    await open_page(client, phanpy)

    response = await client.post(
        "/oauth/authorize",
        data=b"--x\r\nContent-Disposition: form-data; name=\xff\r\n\r\n--",
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )

    assert 400 <= response.status_code < 500


async def test_sign_in_attempts_on_the_page_are_rate_limited(client, phanpy, alice):
    form = await open_page(client, phanpy)
    statuses = []
    for _ in range(25 + 1):  # web.ratelimit.SIGN_IN allows 25 per 5 minutes
        response = await client.post(form.action, form=form.hidden | {"decision": "deny"})
        statuses.append(response.status_code)

    assert statuses[:25] == [302] * 25
    assert statuses[25] == 429
    assert "X-RateLimit-Limit" in response.headers
