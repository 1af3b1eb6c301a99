"""OAuth 2 for the Mastodon client API: applications, grants and access tokens."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.timezone import now

from models.oauth import AccessToken
from services import scopes as scope_rules
from services import tokens
from services.errors import Forbidden, Unauthorized


@dataclass(frozen=True)
class TokenContext:
    """Who a bearer token acts for: an application, and a user unless client-credentials."""

    token_id: int
    scopes: frozenset[str]
    application_id: int | None
    user_id: int | None
    account_id: int | None

    def require(self, scope: str) -> None:
        if not scope_rules.grants(self.scopes, scope):
            raise Forbidden("This action is outside the authorized scopes")


async def authenticate_token(raw_token: str) -> TokenContext:
    """The context of a live token; Unauthorized if unknown, revoked, or its user is barred."""
    token = (
        await AccessToken.filter(token_hash=tokens.digest(raw_token), revoked_at__isnull=True)
        .select_related("user", "user__account")
        .first()
    )
    if token is None:
        raise Unauthorized("The access token is invalid")
    user = token.user
    if user is not None:
        if user.disabled_at is not None or user.account.suspended_at is not None:
            raise Unauthorized("Your login is currently disabled")
        if not user.approved:
            raise Unauthorized("Your login is currently pending approval")
    return TokenContext(
        token_id=token.id,
        scopes=frozenset(token.scopes.split()),
        application_id=token.application_id,  # type: ignore[attr-defined]
        user_id=user.id if user else None,
        account_id=user.account_id if user else None,  # type: ignore[attr-defined]
    )


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


async def revoke_token(raw_token: str) -> None:
    await AccessToken.filter(token_hash=tokens.digest(raw_token), revoked_at__isnull=True).update(
        revoked_at=now()
    )
