"""Helpers for the accounts and instance tests: apps, users and tokens made directly in the
database, and shape checks for Mastodon's entities."""

from __future__ import annotations

import re
from typing import Any

from models.accounts import User
from tests.factories import PASSWORD, bearer, make_user, token_for

ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


async def app_token(scopes: str = "read write follow") -> str:
    """A client-credentials token: it acts for the application alone."""
    return await token_for(None, scopes)


async def user_token(user: User, scopes: str = "read write follow") -> str:
    return await token_for(user, scopes)


__all__ = ["PASSWORD", "bearer", "make_user"]


def registration(username: str = "newbie", **overrides: Any) -> dict[str, Any]:
    """A valid ``POST /api/v1/accounts`` body."""
    return {
        "username": username,
        "email": f"{username}@example.com",
        "password": PASSWORD,
        "agreement": True,
        "locale": "en",
    } | overrides


ACCOUNT_TYPES: dict[str, type | tuple[type, ...]] = {
    "id": str,
    "username": str,
    "acct": str,
    "display_name": str,
    "locked": bool,
    "bot": bool,
    "discoverable": bool,
    "group": bool,
    "created_at": str,
    "note": str,
    "url": str,
    "uri": str,
    "avatar": str,
    "avatar_static": str,
    "header": str,
    "header_static": str,
    "followers_count": int,
    "following_count": int,
    "statuses_count": int,
    "last_status_at": (str, type(None)),
    "noindex": bool,
    "emojis": list,
    "fields": list,
}
SOURCE_TYPES: dict[str, type | tuple[type, ...]] = {
    "privacy": str,
    "sensitive": bool,
    "language": (str, type(None)),
    "note": str,
    "fields": list,
    "follow_requests_count": int,
}
ROLE_TYPES: dict[str, type | tuple[type, ...]] = {
    "id": str,
    "name": str,
    "permissions": str,
    "color": str,
    "highlighted": bool,
}


def assert_typed(entity: dict[str, Any], types: dict[str, type | tuple[type, ...]]) -> None:
    """Every field present with its JSON type (a bool is not an int here)."""
    for name, expected in types.items():
        assert name in entity, f"missing {name}"
        value = entity[name]
        assert isinstance(value, expected), f"{name}={value!r} is not {expected}"
        if expected is int:
            assert not isinstance(value, bool), f"{name}={value!r} is a bool"


def assert_account_shape(entity: dict[str, Any]) -> None:
    """Mastodon's Account entity: required fields, types and formats."""
    assert_typed(entity, ACCOUNT_TYPES)
    assert entity["id"].isdigit()
    assert ISO_MS.match(entity["created_at"]), entity["created_at"]
    if entity["last_status_at"] is not None:
        assert DATE.match(entity["last_status_at"])
    for url in ("url", "uri", "avatar", "avatar_static", "header", "header_static"):
        assert entity[url].startswith(("https://", "http://")), f"{url}={entity[url]!r}"


def assert_credential_account_shape(entity: dict[str, Any]) -> None:
    """Mastodon's CredentialAccount: an Account with ``source`` and ``role``."""
    assert_account_shape(entity)
    assert_typed(entity["source"], SOURCE_TYPES)
    assert_typed(entity["role"], ROLE_TYPES)
