"""Bearer-token authentication and per-endpoint scopes for the client API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from quart import g, request

from services.errors import Unauthorized
from services.oauth import TokenContext, authenticate_token
from web.deps import backends

P = ParamSpec("P")
R = TypeVar("R")


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.args.get("access_token") or None


async def current_token() -> TokenContext | None:
    """The request's token context, or None when no token was sent (401 if a bad one was)."""
    if "token" not in g:
        raw = bearer_token()
        if raw:
            b = backends()
            g.token = await authenticate_token(raw, b.redis, b.tokens)
        else:
            g.token = None
    return g.token


def require_auth(
    scope: str, *alternatives: str, user: bool = True
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Require a token granting ``scope`` or one of ``alternatives`` (and acting for a user,
    unless ``user=False``). The view receives the token context as ``token``."""

    def decorator(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @wraps(view)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            token = await current_token()
            if token is None:
                raise Unauthorized("The access token is invalid")
            if user and token.user_id is None:
                raise Unauthorized("This method requires an authenticated user")
            token.require(scope, *alternatives)
            kwargs["token"] = token
            return await view(*args, **kwargs)

        return wrapper

    return decorator


async def optional_reader(scope: str) -> int | None:
    """The viewing account for endpoints readable without a token (public things): None when
    anonymous; a token, if sent, must grant ``scope``."""
    token = await current_token()
    if token is None:
        return None
    token.require(scope)
    return token.account_id
