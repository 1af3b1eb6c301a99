"""``/.well-known/`` discovery documents."""

from __future__ import annotations

from typing import Any

from quart import Blueprint

from services.scopes import SUB_SCOPES, TOP_LEVEL, to_string
from web.deps import settings

wellknown = Blueprint("wellknown", __name__)


@wellknown.get("/.well-known/oauth-authorization-server")
async def oauth_authorization_server() -> dict[str, Any]:
    """RFC 8414 metadata, as Mastodon 4.3 publishes it, so clients can discover our endpoints."""
    base = settings().base_url
    return {
        # Mastodon's issuer is its root URL, with the trailing slash.
        "issuer": f"{base}/",
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "app_registration_endpoint": f"{base}/api/v1/apps",
        "scopes_supported": to_string(TOP_LEVEL | SUB_SCOPES).split(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "password", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }
