"""Signing in through a third-party OpenID Connect provider: the authorization-code flow with
PKCE (S256), through authlib's client.

authlib does the protocol: discovery from ``{issuer}/.well-known/openid-configuration``, the
authorization URL (``state``, ``nonce``, the code challenge), the code exchange, and the ID
token's validation (signature against the provider's JWKS, ``iss``, ``aud``, ``exp``, ``nonce``,
``at_hash``). Here: what a flow in progress needs, kept in Redis and bound to the browser that
started it, and every way the flow can fail turned into a sentence a person can read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx2
import orjson
from authlib.integrations.base_client import BaseApp
from authlib.integrations.base_client import OAuthError as ProviderError
from authlib.integrations.base_client.async_app import AsyncOAuth2Mixin
from authlib.integrations.base_client.async_openid import AsyncOpenIDMixin
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc.errors import ClaimError, ExpiredTokenError, JoseError, MissingClaimError
from redis.asyncio import Redis

from instance.config import VERSION, OIDCProviderSettings, Settings, secure_or_loopback
from services import tokens
from services.errors import BadRequest, Forbidden, Unavailable

log = logging.getLogger(__name__)

FLOW_KEY = "oidc:flow:{}:{}"  # the browser's digest, the state's digest
FLOW_SECONDS = 600  # time to sign in at the provider
METADATA_SECONDS = 3600  # discovery and JWKS are fetched again after this (key rotation too)
TIMEOUT_SECONDS = 10.0
# Only public-key signatures: an ID token "signed" with alg none, or with HS256 keyed by our
# client secret, proves nothing about the provider.
SIGNING_ALGORITHMS = (
    *("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"),
    *("ES256", "ES384", "ES512", "EdDSA"),
)
ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri")
STATE_MESSAGE = (
    "This sign-in was not started in this browser, or it took too long. "
    "Go back to the sign-in page and try again."
)
CLAIM_PROBLEMS = {
    "aud": "was issued for another application",
    "azp": "was issued for another application",
    "iss": "comes from another issuer",
    "nonce": "does not belong to this sign-in",
    "exp": "has expired",
    "iat": "has an invalid issue time",
    "sub": "names no account",
}

T = TypeVar("T")


class SignInFailed(BadRequest):
    """The provider's answer cannot be trusted or used (a forged state, a bad ID token)."""


class SignInDenied(Forbidden):
    """The person, or the provider, declined the sign-in."""


class ProviderUnavailable(Unavailable):
    """The provider cannot be reached, or does not answer as an OpenID provider should."""


@dataclass(frozen=True)
class VerifiedIdentity:
    """What a validated ID token says about the person."""

    provider: str
    issuer: str
    subject: str
    preferred_username: str = ""
    name: str = ""
    email: str = ""
    email_verified: bool = False


@dataclass(frozen=True)
class Completed:
    identity: VerifiedIdentity
    next: str  # where the person was going (a local path, checked by the page that gave it)


class _Provider(AsyncOAuth2Mixin, AsyncOpenIDMixin, BaseApp):
    """authlib's client for one configured provider, with its discovery cached for an hour."""

    client_cls = AsyncOAuth2Client

    def __init__(self, config: OIDCProviderSettings, user_agent: str) -> None:
        super().__init__(
            framework=None,
            name=config.name,
            client_id=config.client_id,
            client_secret=config.client_secret or None,
            server_metadata_url=config.issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={
                "scope": config.scopes,
                "code_challenge_method": "S256",
                "timeout": TIMEOUT_SECONDS,
                "follow_redirects": False,
            },
            user_agent=user_agent,
        )
        self.config = config

    async def load_server_metadata(self) -> dict[str, Any]:
        loaded = self.server_metadata.get("_loaded_at")
        if loaded is not None and time.time() - loaded > METADATA_SECONDS:
            self.server_metadata.clear()  # the JWKS cached in it goes too
        if "_loaded_at" in self.server_metadata:
            return self.server_metadata
        metadata = await super().load_server_metadata()
        problem = _metadata_problem(self.config, metadata)
        if problem:
            self.server_metadata.clear()
            log.warning("oidc discovery refused", extra={"provider": self.config.name})
            raise ProviderUnavailable(f"{self.config.display_name} is misconfigured: {problem}.")
        algorithms = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        metadata["id_token_signing_alg_values_supported"] = [
            alg for alg in algorithms if alg in SIGNING_ALGORITHMS
        ] or ["RS256"]
        self.client_kwargs["token_endpoint_auth_method"] = _auth_method(self.config, metadata)
        return metadata


def _metadata_problem(config: OIDCProviderSettings, metadata: dict[str, Any]) -> str | None:
    # OpenID Connect Discovery 1.0 section 4.3: the issuer must be exactly the one configured.
    if metadata.get("issuer") != config.issuer:
        return f"its discovery document names the issuer {metadata.get('issuer')!r}"
    for endpoint in ENDPOINTS:
        url = metadata.get(endpoint)
        if not isinstance(url, str) or not secure_or_loopback(url):
            return f"its {endpoint} is missing or not https"
    return None


def _auth_method(config: OIDCProviderSettings, metadata: dict[str, Any]) -> str:
    """How we authenticate at the token endpoint: Basic unless the provider only takes the
    secret in the body; a client without a secret relies on PKCE alone."""
    if not config.client_secret:
        return "none"
    supported = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    if "client_secret_basic" not in supported and "client_secret_post" in supported:
        return "client_secret_post"
    return "client_secret_basic"


_providers: dict[tuple[OIDCProviderSettings, str], _Provider] = {}


def _provider(settings: Settings, config: OIDCProviderSettings) -> _Provider:
    """One client per provider and process, so discovery and keys are fetched once an hour."""
    user_agent = f"Starling/{VERSION} (+{settings.base_url}/)"
    key = (config, user_agent)
    if key not in _providers:
        _providers[key] = _Provider(config, user_agent)
    return _providers[key]


def callback_url(settings: Settings, config: OIDCProviderSettings) -> str:
    """The redirect URI to register at the provider."""
    return f"{settings.base_url}/auth/oidc/{config.name}/callback"


def _flow_key(browser: str, state: str) -> str:
    return FLOW_KEY.format(tokens.digest(browser), tokens.digest(state))


async def _guarded(config: OIDCProviderSettings, call: Awaitable[T]) -> T:
    """The provider's failures as our errors: unreachable (503) or untrustworthy (400)."""
    name = config.display_name
    try:
        return await call
    except httpx2.HTTPError as exc:
        log.warning("oidc provider unreachable", extra={"provider": config.name, "error": str(exc)})
        raise ProviderUnavailable(f"{name} cannot be reached right now. Try again later.") from None
    except ProviderError as exc:
        detail = f": {exc.description}" if exc.description else ""
        raise SignInFailed(f"{name} did not accept the sign-in ({exc.error}{detail}).") from None
    except ExpiredTokenError:
        raise SignInFailed(f"The ID token from {name} has expired. Try again.") from None
    except ClaimError as exc:
        problem = CLAIM_PROBLEMS.get(exc.claim, f"has an invalid {exc.claim!r} claim")
        if isinstance(exc, MissingClaimError):
            problem = f"lacks the {exc.claim!r} claim"
        raise SignInFailed(f"The ID token from {name} {problem}.") from None
    except JoseError as exc:
        log.warning("oidc id token refused", extra={"provider": config.name, "error": str(exc)})
        raise SignInFailed(f"The ID token from {name} has no valid signature.") from None
    except ValueError:  # a body that is not JSON
        raise ProviderUnavailable(f"{name} does not answer as an OpenID provider.") from None


async def begin(
    settings: Settings,
    redis: Redis,
    config: OIDCProviderSettings,
    *,
    browser: str,
    next_path: str,
) -> str:
    """The provider's authorization URL to send the browser to. Its state, nonce and PKCE
    verifier wait in Redis, under this browser's key, for the callback."""
    provider = _provider(settings, config)
    started = await _guarded(
        config, provider.create_authorization_url(callback_url(settings, config))
    )
    flow = {
        "provider": config.name,
        "nonce": started["nonce"],
        "code_verifier": started["code_verifier"],
        "next": next_path,
    }
    await redis.set(_flow_key(browser, started["state"]), orjson.dumps(flow), ex=FLOW_SECONDS)
    return started["url"]


async def _take_flow(redis: Redis, browser: str | None, state: str) -> dict[str, str] | None:
    """The flow this browser started with this state, used once."""
    if not browser or not state or len(state) > 512:
        return None
    raw = await redis.getdel(_flow_key(browser, state))
    return orjson.loads(raw) if raw else None


def _refusal(config: OIDCProviderSettings, params: Mapping[str, str]) -> Exception:
    error = params.get("error", "")
    if error == "access_denied":
        return SignInDenied(f"The sign-in with {config.display_name} was cancelled.")
    description = params.get("error_description", "")[:200]
    detail = f": {description}" if description else ""
    return SignInFailed(f"{config.display_name} refused the sign-in ({error[:60]}{detail}).")


def _claims_options(config: OIDCProviderSettings) -> dict[str, Any]:
    # authlib's default checks only iss, and aud only through azp: name both, essential.
    return {
        "iss": {"essential": True, "value": config.issuer},
        "aud": {"essential": True, "value": config.client_id},
        "sub": {"essential": True},
    }


def _identity(config: OIDCProviderSettings, claims: Mapping[str, Any]) -> VerifiedIdentity:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not 0 < len(subject) <= 255:
        raise SignInFailed(f"The ID token from {config.display_name} names no account.")

    def text(name: str) -> str:
        value = claims.get(name)
        return value.replace("\x00", "")[:320] if isinstance(value, str) else ""

    return VerifiedIdentity(
        provider=config.name,
        issuer=config.issuer,
        subject=subject,
        preferred_username=text("preferred_username") or text("nickname"),
        name=text("name"),
        email=text("email"),
        email_verified=claims.get("email_verified") is True,
    )


async def finish(
    settings: Settings,
    redis: Redis,
    config: OIDCProviderSettings,
    *,
    browser: str | None,
    params: Mapping[str, str],
) -> Completed:
    """The callback: check the state against this browser's flow, exchange the code (with the
    PKCE verifier) and validate the ID token. Raises SignInFailed, SignInDenied or
    ProviderUnavailable."""
    flow = await _take_flow(redis, browser, params.get("state", ""))
    if params.get("error"):
        # Checked before the state: a refusal signs nobody in, and some providers leave the
        # state out of it (RFC 6749 section 4.1.2.1 says to send it back).
        raise _refusal(config, params)
    if flow is None or flow["provider"] != config.name:
        raise SignInFailed(STATE_MESSAGE)
    code = params.get("code", "")
    if not code:
        raise SignInFailed(f"{config.display_name} sent no authorization code. Try again.")
    provider = _provider(settings, config)
    token = await _guarded(
        config,
        provider.fetch_access_token(
            redirect_uri=callback_url(settings, config),
            code=code,
            code_verifier=flow["code_verifier"],
        ),
    )
    if "id_token" not in token:
        raise SignInFailed(f"{config.display_name} sent no ID token.")
    claims = await _guarded(
        config,
        provider.parse_id_token(token, nonce=flow["nonce"], claims_options=_claims_options(config)),
    )
    return Completed(identity=_identity(config, claims), next=flow["next"])
