"""``/oauth/authorize``, ``/oauth/token`` and ``/oauth/revoke`` as Mastodon clients expect them.

The token and revoke endpoints answer RFC 6749 errors (``{"error": "invalid_grant",
"error_description": ...}``); the authorize page is HTML and works without JavaScript.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote_plus, urlencode

from pydantic import BaseModel, ConfigDict
from quart import Blueprint, Response, jsonify, request
from quart_rate_limiter import RateLimitExceeded, rate_limit
from werkzeug.datastructures import MultiDict

from models.accounts import User
from services import oauth as oauth_service
from services.applications import OOB_REDIRECT_URI
from services.errors import BadRequest, ValidationFailed
from services.oauth import (
    AuthorizationRequest,
    InvalidAuthorizationRequest,
    IssuedToken,
    OAuthError,
    authenticate_client,
)
from web.api.params import parse, request_data
from web.csrf import EXPIRED_MESSAGE, csrf_ok
from web.deps import backends, settings
from web.errors import error_response
from web.ratelimit import SIGN_IN, TOKEN
from web.ui.render import page
from web.ui.session import current_session, start_session

if TYPE_CHECKING:
    from models.oauth import Application

oauth = Blueprint("oauth", __name__, template_folder="../ui/templates")

M = TypeVar("M", bound=BaseModel)

AUTHORIZE_FIELDS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "force_login",
)
# The pages hold passwords and codes: never framed, cached or leaked through Referer.
# No form-action: browsers apply it to the redirect back to the app. The look is the web UI's.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}
OAUTH_ERROR_STATUS = {"invalid_client": 401, "unauthorized_client": 403}
NO_PASSWORDS_HERE = "Passwords are not used on this server: sign in with a provider instead."


class ClientForm(BaseModel):
    """Client credentials in the body: Mastodon.py and toot send them so; others use Basic."""

    model_config = ConfigDict(extra="ignore")

    client_id: str | None = None
    client_secret: str | None = None


class TokenForm(ClientForm):
    grant_type: str | None = None
    code: str | None = None
    redirect_uri: str | None = None
    code_verifier: str | None = None
    username: str | None = None
    password: str | None = None
    scope: str | list[str] | None = None


class RevokeForm(ClientForm):
    token: str | None = None


async def _unless_password_grant() -> bool:
    """Password grants are sign-in attempts: only they count against the sign-in limit."""
    try:
        data = await request_data()
    except BadRequest:
        return True
    return data.get("grant_type") != "password"


PASSWORD_SIGN_IN = dataclasses.replace(SIGN_IN, skip_function=_unless_password_grant)


# Errors


@oauth.errorhandler(OAuthError)
async def oauth_error(exc: OAuthError) -> Response:
    response = jsonify({"error": exc.code, "error_description": exc.message})
    response.status_code = OAUTH_ERROR_STATUS.get(exc.code, 400)
    if response.status_code == 401 and _basic_auth() is not None:
        response.headers["WWW-Authenticate"] = 'Basic realm="oauth"'  # RFC 6749 section 5.2
    return _no_store(response)


@oauth.errorhandler(InvalidAuthorizationRequest)
async def bad_authorization(exc: InvalidAuthorizationRequest) -> Response:
    return await _page("oauth/error.html", 400, title="Invalid request", message=exc.message)


@oauth.errorhandler(RateLimitExceeded)
async def rate_limited(exc: RateLimitExceeded) -> Response:
    if request.endpoint == "oauth.authorize_submit":
        message = "Too many sign-in attempts. Wait a few minutes and try again."
        response = await _page("oauth/error.html", 429, title="Slow down", message=message)
    else:
        response = error_response(429, "Too many requests")
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


# Token and revocation endpoints


async def _form(model: type[M]) -> M:
    """The body (JSON or form) and query, as OAuth's invalid_request when malformed."""
    try:
        return parse(model, await request_data())
    except (BadRequest, ValidationFailed) as exc:
        raise OAuthError("invalid_request", exc.message) from None


def _basic_auth() -> tuple[str, str] | None:
    auth = request.authorization
    if auth is None or auth.type != "basic":
        return None
    # RFC 6749 section 2.3.1: both halves are form-encoded before Base64.
    return unquote_plus(auth.username or ""), unquote_plus(auth.password or "")


def _client_credentials(form: ClientForm) -> tuple[str | None, str | None]:
    """HTTP Basic first, then the body."""
    return _basic_auth() or (form.client_id, form.client_secret)


def _required(value: str | None, name: str) -> str:
    if not value:
        raise OAuthError("invalid_request", f"Missing required parameter: {name}")
    return value


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


async def _code_grant(client: Application, form: TokenForm) -> IssuedToken:
    code = _required(form.code, "code")
    return await oauth_service.exchange_code(client, code, form.redirect_uri, form.code_verifier)


async def _password_grant(client: Application, form: TokenForm) -> IssuedToken:
    # Mastodon apps send the e-mail address or the username here; both work.
    username = _required(form.username, "username")
    password = _required(form.password, "password")
    if not settings().auth.password_sign_in:
        raise OAuthError("invalid_grant", NO_PASSWORDS_HERE)
    return await oauth_service.password_grant(client, username, password, form.scope)


async def _client_grant(client: Application, form: TokenForm) -> IssuedToken:
    return await oauth_service.client_credentials_grant(client, form.scope)


GRANTS = {
    "authorization_code": _code_grant,
    "password": _password_grant,
    "client_credentials": _client_grant,
}


@oauth.post("/oauth/token")
@rate_limit(limits=[TOKEN, PASSWORD_SIGN_IN])
async def token() -> Response:
    form = await _form(TokenForm)
    grant = GRANTS.get(_required(form.grant_type, "grant_type"))
    if grant is None:
        raise OAuthError("unsupported_grant_type", f"Unsupported grant_type {form.grant_type!r}")
    client = await authenticate_client(*_client_credentials(form))
    issued = await grant(client, form)
    body = {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "scope": issued.scopes,
        "created_at": issued.created_at,
    }
    return _no_store(jsonify(body))


@oauth.post("/oauth/revoke")
async def revoke() -> Response:
    """RFC 7009: 200 whether or not the token existed, so it can't be used as an oracle."""
    form = await _form(RevokeForm)
    client = await authenticate_client(*_client_credentials(form))
    await oauth_service.revoke_client_token(
        client, _required(form.token, "token"), backends().redis
    )
    return jsonify({})


# The authorization page


async def _page(template: str, status: int = 200, **context: Any) -> Response:
    """In the web UI's layout, with its session (a signed-in user only consents)."""
    response = await page(template, status, **context)
    response.headers.update(PAGE_HEADERS)
    return response


def _fields(source: MultiDict[str, str]) -> dict[str, str]:
    return {name: source.get(name, "") for name in AUTHORIZE_FIELDS}


async def _checked(fields: dict[str, str]) -> AuthorizationRequest:
    return await oauth_service.check_authorization_request(
        client_id=fields["client_id"],
        redirect_uri=fields["redirect_uri"],
        scope=fields["scope"],
        response_type=fields["response_type"],
        code_challenge=fields["code_challenge"],
        code_challenge_method=fields["code_challenge_method"],
    )


def _asks_password(fields: dict[str, str]) -> bool:
    """force_login: the app wants the password typed again (Mastodon: to switch accounts)."""
    return fields["force_login"].lower() in ("1", "true")


async def _authorize_page(
    checked: AuthorizationRequest, fields: dict[str, str], status: int = 200, **extra: Any
) -> Response:
    scope = checked.scope_string
    fields = {**fields, "redirect_uri": checked.redirect_uri, "scope": scope}
    # An OpenID Connect sign-in comes back to this page, signed in: without force_login, which
    # would ask for a password again.
    back_here = {name: value for name, value in fields.items() if value and name != "force_login"}
    return await _page(
        "oauth/authorize.html",
        status,
        app=checked.application,
        scopes=scope.split(),
        fields=fields,
        ask_password=_asks_password(fields) or await current_session() is None,
        oidc_next="/oauth/authorize?" + urlencode(back_here),
        **extra,
    )


def _redirect_with(uri: str, params: dict[str, str]) -> Response:
    """Back to the app's registered URI, query appended as is (custom schemes stay intact)."""
    separator = "" if uri.endswith(("?", "&")) else ("&" if "?" in uri else "?")
    response = Response("", status=302)
    response.headers["Location"] = uri + separator + urlencode(params)
    response.headers.update(PAGE_HEADERS)
    return response


async def _finish(checked: AuthorizationRequest, state: str, **result: str) -> Response:
    """Send the code (or the refusal) back, or show it when the app asked for out-of-band."""
    if checked.redirect_uri == OOB_REDIRECT_URI:
        if "code" in result:
            return await _page("oauth/code.html", app=checked.application, code=result["code"])
        message = f"You did not allow {checked.application.name} to use your account."
        return await _page("oauth/error.html", title="Access denied", message=message)
    return _redirect_with(checked.redirect_uri, {**result, **({"state": state} if state else {})})


@oauth.get("/oauth/authorize")
async def authorize_form() -> Response:
    fields = _fields(request.args)
    return await _authorize_page(await _checked(fields), fields)


@oauth.post("/oauth/authorize")
@rate_limit(limits=[SIGN_IN])
async def authorize_submit() -> Response:
    form = await request.form
    if not csrf_ok(form):
        return await _page("oauth/error.html", 403, title="Form expired", message=EXPIRED_MESSAGE)
    fields = _fields(form)
    checked = await _checked(fields)
    if form.get("decision") != "authorize":
        return await _finish(checked, fields["state"], error="access_denied")
    session = await current_session()
    if session is not None and not _asks_password(fields):
        user = await User.get(id=session.user_id)  # signed in on the web: consent is enough
        code = await oauth_service.issue_code(checked, user)
        return await _finish(checked, fields["state"], code=code)
    login = form.get("login", "")
    if not settings().auth.password_sign_in:
        return await _authorize_page(checked, fields, 403, error=NO_PASSWORDS_HERE)
    try:
        user = await oauth_service.sign_in(login, form.get("password", ""))
    except OAuthError as exc:
        return await _authorize_page(checked, fields, 422, error=exc.message, login=login)
    code = await oauth_service.issue_code(checked, user)
    return await start_session(await _finish(checked, fields["state"], code=code), user)
