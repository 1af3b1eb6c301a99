"""OAuth 2 for the Mastodon client API: authorization requests, grants and access tokens.

Errors on the token endpoint are :class:`OAuthError` (RFC 6749 section 5.2 codes); errors in an
authorization request that cannot be sent back to the client are
:class:`InvalidAuthorizationRequest`, shown to the user instead (RFC 6749 section 4.1.2.1).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import asdict, dataclass
from datetime import timedelta

import orjson
from redis.asyncio import Redis
from tortoise import connections
from tortoise.timezone import now

from models.accounts import User
from models.oauth import AccessToken, Application, AuthorizationCode
from services import accounts, applications, token_cache, tokens
from services import scopes as scope_rules
from services.errors import BadRequest, Forbidden, Unauthorized, ValidationFailed
from services.token_cache import LocalTokens

CODE_LIFETIME = timedelta(minutes=10)
PKCE_METHOD = "S256"
# RFC 7636: challenges and verifiers are 43 to 128 unreserved characters.
_PKCE_VALUE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


class OAuthError(BadRequest):
    """An RFC 6749 error: ``code`` is its ``error`` field, the message its description."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(description)
        self.code = code


class InvalidAuthorizationRequest(BadRequest):
    """An authorization request we must not redirect back: bad client, redirect URI or scope."""


@dataclass(frozen=True)
class TokenContext:
    """Who a bearer token acts for: an application, and a user unless client-credentials."""

    token_id: int
    scopes: frozenset[str]
    application_id: int | None
    user_id: int | None
    account_id: int | None

    def require(self, scope: str, *alternatives: str) -> None:
        """Forbidden unless the token grants ``scope`` or one of ``alternatives``."""
        if not any(scope_rules.grants(self.scopes, each) for each in (scope, *alternatives)):
            raise Forbidden("This action is outside the authorized scopes")


@dataclass(frozen=True)
class IssuedToken:
    """A token as the token endpoint answers it: the raw value exists only here."""

    access_token: str
    scopes: str
    created_at: int


@dataclass(frozen=True)
class AuthorizationRequest:
    """A checked ``/oauth/authorize`` request: what the consent page shows and the code records."""

    application: Application
    redirect_uri: str
    scopes: frozenset[str]
    code_challenge: str | None

    @property
    def scope_string(self) -> str:
        return scope_rules.to_string(self.scopes)


# Every API request authenticates its token: the context is cached in Redis for a minute, and
# for a few seconds in the process (services/token_cache). Revocation deletes the entry and
# tells every process at once; a suspension takes effect within TOKEN_CACHE_TTL.
TOKEN_CACHE_KEY = "token:{}"  # noqa: S105 - a key pattern, not a secret
TOKEN_CACHE_TTL = 60


async def authenticate_token(
    raw_token: str, redis: Redis | None = None, local: LocalTokens[TokenContext] | None = None
) -> TokenContext:
    """The context of a live token; Unauthorized if unknown, revoked, or its user is barred."""
    digest = tokens.digest(raw_token)
    if local is not None and (known := local.get(digest)) is not None:
        return known
    generation = local.generation if local is not None else 0
    key = TOKEN_CACHE_KEY.format(digest)
    if redis is not None and (cached := await redis.get(key)):
        data = orjson.loads(cached)
        context = TokenContext(**{**data, "scopes": frozenset(data["scopes"])})
    else:
        context = await _load_token(raw_token)
        if redis is not None:
            data = {**asdict(context), "scopes": sorted(context.scopes)}
            await redis.set(key, orjson.dumps(data), ex=TOKEN_CACHE_TTL)
    if local is not None:
        local.put(digest, context, generation)
    return context


async def forget_token_contexts(redis: Redis, digests: list[str]) -> None:
    """Revoked tokens: their cached contexts go, in Redis and in every process."""
    if digests:
        await redis.delete(*[TOKEN_CACHE_KEY.format(digest) for digest in digests])
        await token_cache.publish_forget(redis, digests)


# A live token with its user's standing: one indexed row, read without the ORM (every
# token's context is read here once per TOKEN_CACHE_TTL, so this is on the hot path).
_LIVE_ACCESS_SQL = """
SELECT t.id, t.scopes, t.application_id, u.id AS user_id, u.account_id, u.approved,
       u.disabled_at IS NOT NULL OR a.suspended_at IS NOT NULL AS disabled
FROM oauth_access_tokens t
LEFT JOIN users u ON u.id = t.user_id LEFT JOIN accounts a ON a.id = u.account_id
WHERE t.token_hash = $1 AND t.revoked_at IS NULL
"""


async def _load_token(raw_token: str) -> TokenContext:
    digest = tokens.digest(raw_token)
    _, rows = await connections.get("default").execute_query(_LIVE_ACCESS_SQL, [digest])
    if not rows:
        raise Unauthorized("The access token is invalid")
    token = rows[0]
    if token["user_id"] is not None:
        problem = _standing_problem(disabled=token["disabled"], approved=token["approved"])
        if problem:
            raise Unauthorized(problem)
    return TokenContext(
        token_id=token["id"],
        scopes=frozenset(token["scopes"].split()),
        application_id=token["application_id"],
        user_id=token["user_id"],
        account_id=token["account_id"],
    )


def login_problem(user: User) -> str | None:
    """Why this user may not act through a token right now, or None."""
    disabled = user.disabled_at is not None or user.account.suspended_at is not None
    return _standing_problem(disabled=disabled, approved=user.approved)


def _standing_problem(*, disabled: bool, approved: bool) -> str | None:
    if disabled:
        return "Your login is currently disabled"
    if not approved:
        return "Your login is currently pending approval"
    return None


async def issue_token(
    *, application_id: int | None, user_id: int | None, scopes: frozenset[str]
) -> tuple[str, AccessToken]:
    """A new bearer token; the raw value is returned once and stored only hashed."""
    raw = tokens.new_secret()
    token = await AccessToken.create(
        token_hash=tokens.digest(raw),
        application_id=application_id,
        user_id=user_id,
        scopes=scope_rules.to_string(scopes),
    )
    return raw, token


async def revoke_token(raw_token: str, redis: Redis | None = None) -> None:
    digest = tokens.digest(raw_token)
    await AccessToken.filter(token_hash=digest, revoked_at__isnull=True).update(revoked_at=now())
    if redis is not None:
        await forget_token_contexts(redis, [digest])


# Clients and scopes


async def authenticate_client(client_id: str | None, client_secret: str | None) -> Application:
    client = await applications.find_client(client_id, client_secret)
    if client is None:
        raise OAuthError("invalid_client", "Client authentication failed")
    return client


def _requested_scopes(raw: str | list[str] | None, application: Application) -> frozenset[str]:
    """Mastodon's default is "read"; every scope must be one the application registered."""
    try:
        requested = scope_rules.parse_scopes(raw)
    except ValidationFailed as exc:
        raise OAuthError("invalid_scope", exc.message) from None
    if not scope_rules.within(requested, frozenset(application.scopes.split())):
        raise OAuthError("invalid_scope", "The requested scope is not registered for this app")
    return requested


async def sign_in(login: str, password: str) -> User:
    """The user these credentials belong to, if they may use the API; else invalid_grant."""
    if applications.has_control_characters(login):  # it goes into a query; NUL would fail it
        raise OAuthError("invalid_grant", "Invalid username, e-mail or password")
    user = await accounts.authenticate(login, password)
    if user is None:
        raise OAuthError("invalid_grant", "Invalid username, e-mail or password")
    problem = login_problem(user)
    if problem:
        raise OAuthError("invalid_grant", problem)
    return user


async def _issue(
    application: Application, user_id: int | None, scopes: frozenset[str]
) -> IssuedToken:
    raw, token = await issue_token(application_id=application.id, user_id=user_id, scopes=scopes)
    return IssuedToken(raw, token.scopes, int(token.created_at.timestamp()))


# Authorization code grant


async def check_authorization_request(
    *,
    client_id: str | None,
    redirect_uri: str | None,
    scope: str | None,
    response_type: str | None,
    code_challenge: str | None,
    code_challenge_method: str | None,
) -> AuthorizationRequest:
    """Validate ``/oauth/authorize`` parameters before anything is shown or redirected."""
    application = await applications.find_application(client_id)
    if application is None:
        raise InvalidAuthorizationRequest("The client_id does not name a registered application.")
    registered = application.redirect_uri_list
    if not redirect_uri and len(registered) == 1:
        redirect_uri = registered[0]  # RFC 6749 3.1.2.3: optional when only one is registered
    if redirect_uri not in registered:
        raise InvalidAuthorizationRequest("The redirect_uri is not registered for this app.")
    if response_type != "code":
        raise InvalidAuthorizationRequest("Only response_type=code is supported.")
    try:
        scopes = _requested_scopes(scope, application)
    except OAuthError as exc:
        raise InvalidAuthorizationRequest(exc.message) from None
    return AuthorizationRequest(
        application=application,
        redirect_uri=redirect_uri,
        scopes=scopes,
        code_challenge=_checked_challenge(code_challenge, code_challenge_method),
    )


def _checked_challenge(challenge: str | None, method: str | None) -> str | None:
    if not challenge:
        return None
    if method != PKCE_METHOD:
        raise InvalidAuthorizationRequest("code_challenge_method must be S256.")
    if not _PKCE_VALUE.match(challenge):
        raise InvalidAuthorizationRequest("The code_challenge is malformed.")
    return challenge


async def issue_code(request: AuthorizationRequest, user: User) -> str:
    """A single-use code for ``user``'s consent, valid ten minutes; only its hash is kept."""
    raw = tokens.new_secret()
    await AuthorizationCode.create(
        code_hash=tokens.digest(raw),
        application=request.application,
        user=user,
        redirect_uri=request.redirect_uri,
        scopes=request.scope_string,
        code_challenge=request.code_challenge,
        code_challenge_method=PKCE_METHOD if request.code_challenge else None,
        expires_at=now() + CODE_LIFETIME,
    )
    return raw


async def _consume_code(application: Application, raw_code: str) -> AuthorizationCode:
    """Mark the code used, atomically: a replayed or concurrent second exchange gets nothing."""
    code = await AuthorizationCode.filter(
        code_hash=tokens.digest(raw_code), application_id=application.id
    ).first()
    if code is None or code.used_at is not None or code.expires_at <= now():
        raise OAuthError("invalid_grant", "The authorization code is invalid, expired or used")
    claimed = await AuthorizationCode.filter(id=code.id, used_at__isnull=True).update(used_at=now())
    if claimed != 1:
        raise OAuthError("invalid_grant", "The authorization code is invalid, expired or used")
    return code


def _pkce_matches(challenge: str, verifier: str | None) -> bool:
    if not verifier or not _PKCE_VALUE.match(verifier):
        return False
    digest = hashlib.sha256(verifier.encode()).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return hmac.compare_digest(expected, challenge)


async def exchange_code(
    application: Application, raw_code: str, redirect_uri: str | None, verifier: str | None
) -> IssuedToken:
    """The token for a code. The code is spent by any attempt, so a verifier can't be guessed."""
    code = await _consume_code(application, raw_code)
    if not redirect_uri and application.redirect_uri_list == [code.redirect_uri]:
        redirect_uri = code.redirect_uri  # as /oauth/authorize defaults it (RFC 6749 4.1.3)
    if redirect_uri != code.redirect_uri:
        raise OAuthError("invalid_grant", "The redirect_uri does not match the authorization")
    if code.code_challenge and not _pkce_matches(code.code_challenge, verifier):
        raise OAuthError("invalid_grant", "The code_verifier does not match the code_challenge")
    user = await User.get(id=code.user_id).select_related("account")  # type: ignore[attr-defined]
    problem = login_problem(user)
    if problem:
        raise OAuthError("invalid_grant", problem)
    return await _issue(application, user.id, frozenset(code.scopes.split()))


# Password and client credentials grants


async def password_grant(
    application: Application, login: str, password: str, scope: str | list[str] | None
) -> IssuedToken:
    scopes = _requested_scopes(scope, application)
    user = await sign_in(login, password)
    return await _issue(application, user.id, scopes)


async def client_credentials_grant(
    application: Application, scope: str | list[str] | None
) -> IssuedToken:
    """A token for the app alone: it can verify the app and read public data, nothing per-user."""
    return await _issue(application, None, _requested_scopes(scope, application))


async def revoke_client_token(
    application: Application, raw_token: str, redis: Redis | None = None
) -> None:
    """RFC 7009: unknown tokens are fine; another client's token is refused, not revoked."""
    token = await AccessToken.filter(token_hash=tokens.digest(raw_token)).first()
    if token is None or token.revoked_at is not None:
        return
    if token.application_id != application.id:  # type: ignore[attr-defined]
        raise OAuthError("unauthorized_client", "You are not authorized to revoke this token")
    await revoke_token(raw_token, redis)
