"""``/.well-known/`` discovery documents: OAuth metadata, WebFinger, host-meta, NodeInfo."""

from __future__ import annotations

from typing import Any

import orjson
from quart import Blueprint, Response, request

from activitypub import nodeinfo, webfinger
from activitypub.vocab import JRD_JSON
from services import discovery
from services.errors import BadRequest
from services.scopes import ALL_SCOPES, to_string
from web.deps import backends, settings

wellknown = Blueprint("wellknown", __name__)


def oauth_issuer(base_url: str) -> str:
    """Mastodon's issuer is its root URL, with the trailing slash (metadata and userinfo)."""
    return f"{base_url}/"


@wellknown.get("/.well-known/oauth-authorization-server")
async def oauth_authorization_server() -> dict[str, Any]:
    """RFC 8414 metadata, as Mastodon 4.3 publishes it, so clients can discover our endpoints."""
    base = settings().base_url
    return {
        "issuer": oauth_issuer(base),
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "userinfo_endpoint": f"{base}/oauth/userinfo",
        "app_registration_endpoint": f"{base}/api/v1/apps",
        # Our OAuth is Mastodon's, so Mastodon's documentation is the one that describes it.
        "service_documentation": "https://docs.joinmastodon.org/",
        "scopes_supported": to_string(ALL_SCOPES).split(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "password", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }


@wellknown.get("/.well-known/webfinger")
async def webfinger_lookup() -> Response:
    resource = request.args.get("resource", "")
    if not resource:
        raise BadRequest("The resource parameter is required")
    document = await discovery.finger(settings(), resource)
    return Response(orjson.dumps(document), headers={"Content-Type": JRD_JSON})


@wellknown.get("/.well-known/host-meta")
async def host_meta() -> Response:
    return Response(webfinger.host_meta(settings().base_url), content_type="application/xrd+xml")


@wellknown.get("/.well-known/nodeinfo")
async def nodeinfo_links() -> dict[str, Any]:
    return nodeinfo.discovery(settings().base_url)


@wellknown.get("/nodeinfo/<version>")
async def nodeinfo_document(version: str) -> Response:
    document = await discovery.nodeinfo_document(settings(), backends().redis, version)
    return Response(
        orjson.dumps(document), headers={"Content-Type": nodeinfo.content_type(version)}
    )
