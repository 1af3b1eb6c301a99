"""OAuth scopes as Mastodon defines them: ``read write follow push`` and ``read:accounts`` parts."""

from __future__ import annotations

from services.errors import ValidationFailed

TOP_LEVEL = frozenset({"read", "write", "follow", "push", "profile"})
SUB_SCOPES = frozenset(
    {
        *(
            f"read:{part}"
            for part in [
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
        ),
        *(
            f"write:{part}"
            for part in [
                "accounts",
                "blocks",
                "bookmarks",
                "conversations",
                "favourites",
                "filters",
                "follow",
                "follows",
                "lists",
                "media",
                "mutes",
                "notifications",
                "reports",
                "statuses",
            ]
        ),
        "admin:read",
        "admin:write",
    }
)
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
    unknown = sorted(scopes - TOP_LEVEL - SUB_SCOPES)
    if unknown:
        raise ValidationFailed(f"Unknown scope: {' '.join(unknown)}")
    return scopes


def grants(held: frozenset[str], required: str) -> bool:
    """Whether a token holding ``held`` may use an endpoint that requires ``required``."""
    if required in held:
        return True
    top, _, _part = required.partition(":")
    if top in held and top in ("read", "write"):
        return True
    # ("profile" suffices for verify_credentials alone: that endpoint lists it as an alternative.)
    return "follow" in held and required in FOLLOW_GRANTS


def within(requested: frozenset[str], allowed: frozenset[str]) -> bool:
    """Whether every requested scope is covered by what the application registered."""
    return all(scope in allowed or grants(allowed, scope) for scope in requested)


def to_string(scopes: frozenset[str]) -> str:
    order = ["read", "write", "follow", "push", "profile"]
    return " ".join(sorted(scopes, key=lambda s: (order.index(s) if s in order else 9, s)))
