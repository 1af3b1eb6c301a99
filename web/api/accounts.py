"""Accounts in the Mastodon client API: sign-up, own credentials, profiles, look-ups."""

from __future__ import annotations

from typing import Any, ParamSpec, TypeVar

from pydantic import BaseModel, Field
from quart import Blueprint, request
from quart_rate_limiter import rate_limit

from services import accounts as account_service
from services.oauth import TokenContext
from services.remote import actors as remote_actors
from web.api.auth import require_auth
from web.api.entities import render_account, render_credential_account, render_token
from web.api.params import params
from web.api.paths import snowflake_from_path
from web.deps import backends, settings
from web.ratelimit import SIGN_UP
from web.wellknown import oauth_issuer

P = ParamSpec("P")
R = TypeVar("R")

accounts = Blueprint("accounts", __name__)


class RegisterParams(BaseModel):
    """``POST /api/v1/accounts``: checked field by field in the service, with Mastodon's codes."""

    username: str = ""
    email: str = ""
    password: str = ""
    agreement: bool = False
    locale: str = "en"
    reason: str = ""


class SourceParams(BaseModel):
    # Accepted so clients that send them succeed; Starling has no per-user posting defaults yet.
    privacy: str | None = None
    sensitive: bool | None = None
    language: str | None = None


class UpdateCredentialsParams(BaseModel):
    display_name: str | None = None
    note: str | None = None
    locked: bool | None = None
    bot: bool | None = None
    discoverable: bool | None = None
    indexable: bool | None = None
    source: SourceParams | None = None


class LookupParams(BaseModel):
    acct: str = Field(min_length=1, max_length=1024)


@accounts.post("/api/v1/accounts")
@rate_limit(limits=[SIGN_UP])
@require_auth("write:accounts", user=False)
@params(RegisterParams)
async def register(token: TokenContext, params: RegisterParams) -> dict[str, Any]:
    """Create a user for the calling app and answer a token for it (Mastodon's Token entity)."""
    new = account_service.NewAccount(
        username=params.username.strip(),
        email=params.email.strip(),
        password=params.password,
        reason=params.reason,
        locale=params.locale.strip() or "en",
        agreement=params.agreement,
        ip=request.remote_addr,
    )
    registration = await account_service.register(
        settings(), new, application_id=token.application_id, scopes=token.scopes
    )
    return render_token(registration.raw_token, registration.token)


@accounts.get("/api/v1/accounts/verify_credentials")
@require_auth("read:accounts", "profile")  # Mastodon 4.3: "profile" suffices
async def verify_credentials(token: TokenContext) -> dict[str, Any]:
    credentials = await account_service.get_credentials(token.user_id or 0)
    return _render_credentials(credentials)


@accounts.patch("/api/v1/accounts/update_credentials")
@require_auth("write:accounts")
@params(UpdateCredentialsParams)
async def update_credentials(
    token: TokenContext, params: UpdateCredentialsParams
) -> dict[str, Any]:
    changes = account_service.ProfileChanges(
        display_name=params.display_name,
        note=params.note,
        locked=params.locked,
        bot=params.bot,
        discoverable=params.discoverable,
        indexable=params.indexable,
    )
    credentials = await account_service.update_profile(backends(), token.user_id or 0, changes)
    return _render_credentials(credentials)


@accounts.route("/oauth/userinfo", methods=["GET", "POST"])
@require_auth("profile")  # as Mastodon: "profile" alone, not "read" (OpenID Connect's scope)
async def userinfo(token: TokenContext) -> dict[str, Any]:
    """OpenID Connect UserInfo for the token's account, with Mastodon's claims."""
    account = await account_service.get_account(token.account_id or 0)
    entity = render_account(account, settings())
    return {
        "iss": oauth_issuer(settings().base_url),
        "sub": entity["uri"],
        "name": entity["display_name"],
        "preferred_username": entity["username"],
        "profile": entity["url"],
        "picture": entity["avatar"],
    }


@accounts.get("/api/v1/accounts/lookup")
@params(LookupParams, query=True)
async def lookup(params: LookupParams) -> dict[str, Any]:
    account = await remote_actors.lookup(backends(), params.acct)
    return render_account(account, settings())


@accounts.get("/api/v1/accounts/<account_id>")
async def show(account_id: str) -> dict[str, Any]:
    account = await account_service.get_account(snowflake_from_path(account_id))
    return render_account(account, settings())


def _render_credentials(credentials: account_service.Credentials) -> dict[str, Any]:
    return render_credential_account(
        credentials.account,
        credentials.user,
        settings(),
        follow_requests_count=credentials.follow_requests_count,
    )
