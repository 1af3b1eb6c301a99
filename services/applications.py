"""OAuth client registration as Mastodon's ``POST /api/v1/apps`` does it, and client look-ups.

Client secrets are returned once, at registration, and stored only as SHA-256 hashes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from models.oauth import Application
from services import scopes as scope_rules
from services import tokens
from services.errors import ValidationFailed

# The "out of band" redirect: the code is shown to the user instead of sent anywhere.
# Mastodon.py and toot register it by default.
OOB_REDIRECT_URI = "urn:ietf:wg:oauth:2.0:oob"
# Mastodon's limits (app/models/concerns/application_extension.rb).
NAME_LIMIT = 60
URI_LIMIT = 2000
# Mastodon forbids these schemes (config/initializers/doorkeeper.rb): they run code in a browser.
FORBIDDEN_SCHEMES = frozenset({"data", "javascript", "vbscript"})
_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*$")
# What we mint (tokens.new_secret); anything else names no client and never reaches the database.
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


def has_control_characters(text: str) -> bool:
    """NUL and friends: PostgreSQL refuses NUL in text, and none belongs in a name or URL."""
    return any(ord(char) < 32 or ord(char) == 127 for char in text)


@dataclass(frozen=True)
class ClientApp:
    """An application as the API shows it; ``client_secret`` only right after registration."""

    id: int
    name: str
    website: str | None
    scopes: tuple[str, ...]
    redirect_uris: tuple[str, ...]
    client_id: str
    client_secret: str | None = None


def to_client_app(app: Application, client_secret: str | None = None) -> ClientApp:
    return ClientApp(
        id=app.id,
        name=app.name,
        website=app.website,
        scopes=tuple(app.scopes.split()),
        redirect_uris=tuple(app.redirect_uri_list),
        client_id=app.client_id,
        client_secret=client_secret,
    )


def _invalid_redirect(reason: str) -> ValidationFailed:
    return ValidationFailed(f"Validation failed: Redirect URI {reason}")


def _split(uri: str) -> SplitResult | None:
    """The parts of ``uri``, or None when it does not parse (a bad port or IPv6 literal)."""
    try:
        parts = urlsplit(uri)
        _ = parts.port
    except ValueError:
        return None
    return parts


def validate_redirect_uri(uri: str) -> str:
    """One redirect URI: absolute http(s) with a host, a private app scheme, or the OOB URN.

    Custom schemes are how native apps get the code back (``myapp://cb``, RFC 8252's
    ``com.example.app:/cb``); Mastodon accepts any absolute URI but data:/javascript:/vbscript:.
    """
    if len(uri) > URI_LIMIT:
        raise _invalid_redirect(f"must be at most {URI_LIMIT} characters")
    if has_control_characters(uri) or any(char.isspace() for char in uri):
        raise _invalid_redirect("must not contain spaces or control characters")
    if uri == OOB_REDIRECT_URI:
        return uri
    parts = _split(uri)
    scheme = parts.scheme.lower() if parts else ""
    if parts is None or not _SCHEME.match(scheme) or uri.endswith(":"):
        raise _invalid_redirect("must be an absolute URI")
    if scheme in FORBIDDEN_SCHEMES:
        raise _invalid_redirect(f"must not use the {scheme}: scheme")
    if parts.fragment or "#" in uri:
        raise _invalid_redirect("must not contain a fragment")
    if scheme in ("http", "https") and not parts.hostname:
        raise _invalid_redirect("must name a host")
    return uri


def parse_redirect_uris(raw: str | list[str]) -> tuple[str, ...]:
    """Mastodon.py joins several URIs with newlines, others send spaces or ``redirect_uris[]``."""
    parts = raw.split() if isinstance(raw, str) else [part.strip() for part in raw]
    uris = tuple(dict.fromkeys(validate_redirect_uri(part) for part in parts if part))
    if not uris:
        raise _invalid_redirect("can't be blank")
    return uris


def _validate_name(name: str) -> str:
    name = name.strip()
    if has_control_characters(name):
        raise ValidationFailed("Validation failed: Application name is invalid")
    if not name:
        raise ValidationFailed("Validation failed: Application name can't be blank")
    if len(name) > NAME_LIMIT:
        raise ValidationFailed(
            f"Validation failed: Application name is too long (maximum is {NAME_LIMIT} characters)"
        )
    return name


def _validate_website(website: str | None) -> str | None:
    website = (website or "").strip()
    if not website:
        return None
    parts = _split(website)
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or has_control_characters(website)
        or len(website) > 1024
    ):
        raise ValidationFailed("Validation failed: Website is not a valid URL")
    return website


async def register_application(
    *,
    name: str,
    redirect_uris: str | list[str],
    scopes: str | list[str] | None,
    website: str | None,
) -> ClientApp:
    """A new client with fresh credentials; the secret is in the result and nowhere else."""
    clean_name = _validate_name(name)
    uris = parse_redirect_uris(redirect_uris)
    granted = scope_rules.parse_scopes(scopes)
    clean_website = _validate_website(website)
    secret = tokens.new_secret()
    app = await Application.create(
        name=clean_name,
        website=clean_website,
        client_id=tokens.new_secret(),
        client_secret_hash=tokens.digest(secret),
        redirect_uris="\n".join(uris),
        scopes=scope_rules.to_string(granted),
    )
    return to_client_app(app, client_secret=secret)


async def find_application(client_id: str | None) -> Application | None:
    if not client_id or not _CLIENT_ID.match(client_id):
        return None
    return await Application.filter(client_id=client_id).first()


async def find_client(client_id: str | None, client_secret: str | None) -> Application | None:
    """The application whose credentials these are, or None (same answer for either mistake)."""
    app = await find_application(client_id)
    if app is None or not client_secret:
        return None
    return app if tokens.matches(client_secret, app.client_secret_hash) else None


async def get_client_app(application_id: int | None) -> ClientApp | None:
    if application_id is None:
        return None
    app = await Application.filter(id=application_id).first()
    return to_client_app(app) if app else None
