"""OAuth scopes as Mastodon defines them: ``read write follow push`` and ``read:accounts`` parts."""

from __future__ import annotations

from services.errors import ValidationFailed

# Mastodon 4.3's scopes, exactly (docs.joinmastodon.org/api/oauth-scopes): no more, so what
# /.well-known/oauth-authorization-server lists is what an app may register.
TOP_LEVEL = frozenset({"read", "write", "follow", "push", "profile", "admin:read", "admin:write"})
_READ_PARTS = [
    "accounts",
    "blocks",
    "bookmarks",
    "favourites",
    "filters",
    "follows",
    "lists",
    "mutes",
    "notifications",
    "search",
    "statuses",
]
_WRITE_PARTS = [
    "accounts",
    "blocks",
    "bookmarks",
    "conversations",
    "favourites",
    "filters",
    "follows",
    "lists",
    "media",
    "mutes",
    "notifications",
    "reports",
    "statuses",
]
_ADMIN_PARTS = [
    "accounts",
    "reports",
    "domain_allows",
    "domain_blocks",
    "ip_blocks",
    "email_domain_blocks",
    "canonical_email_blocks",
]
SUB_SCOPES = frozenset(
    {
        *(f"read:{part}" for part in _READ_PARTS),
        *(f"write:{part}" for part in _WRITE_PARTS),
        *(f"admin:{kind}:{part}" for kind in ("read", "write") for part in _ADMIN_PARTS),
    }
)
ALL_SCOPES = TOP_LEVEL | SUB_SCOPES
# The scopes that grant every scope below them ("read" grants "read:accounts").
_PARENTS = frozenset({"read", "write", "admin:read", "admin:write"})
# Mastodon's legacy "follow" scope grants these.
FOLLOW_GRANTS = frozenset(
    {"read:follows", "write:follows", "read:blocks", "write:blocks", "read:mutes", "write:mutes"}
)


def parse_scopes(raw: str | list[str] | None, *, default: str = "read") -> frozenset[str]:
    """Scopes from a space- or plus-separated string (or a list); unknown scopes are an error."""
    if raw is None or raw == "" or raw == []:
        raw = default
    parts = raw if isinstance(raw, list) else raw.replace("+", " ").split()
    scopes = frozenset(part.strip() for part in parts if part.strip())
    unknown = sorted(scopes - ALL_SCOPES)
    if unknown:
        raise ValidationFailed(f"Unknown scope: {' '.join(unknown)}")
    return scopes


def grants(held: frozenset[str], required: str) -> bool:
    """Whether a token holding ``held`` may use an endpoint that requires ``required``."""
    if required in held:
        return True
    parent = required.rpartition(":")[0]
    if parent in held and parent in _PARENTS:
        return True
    # ("profile" suffices for verify_credentials alone: that endpoint lists it as an alternative.)
    return "follow" in held and required in FOLLOW_GRANTS


def within(requested: frozenset[str], allowed: frozenset[str]) -> bool:
    """Whether every requested scope is covered by what the application registered."""
    return all(scope in allowed or grants(allowed, scope) for scope in requested)


def to_string(scopes: frozenset[str]) -> str:
    order = ["read", "write", "follow", "push", "profile", "admin:read", "admin:write"]
    return " ".join(sorted(scopes, key=lambda s: (order.index(s) if s in order else 9, s)))
