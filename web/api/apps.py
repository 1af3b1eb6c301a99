"""``/api/v1/apps``: OAuth client registration and verification, shaped as Mastodon 4.x answers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from quart import Blueprint

from services.applications import ClientApp, get_client_app, register_application
from services.errors import Unauthorized
from services.oauth import TokenContext
from web.api.auth import require_auth
from web.api.params import params

apps = Blueprint("apps", __name__)

# We offer no Web Push yet; Mastodon 4.x clients accept an empty key (the field is deprecated).
VAPID_KEY = ""


class NewApp(BaseModel):
    model_config = ConfigDict(extra="ignore")

    client_name: str
    # One string (newline- or space-separated, as Mastodon.py and toot send) or redirect_uris[].
    redirect_uris: str | list[str]
    scopes: str | list[str] | None = None
    website: str | None = None


def render_app(app: ClientApp) -> dict[str, Any]:
    """Mastodon's Application entity; the credentials only when ``client_secret`` is known."""
    body: dict[str, Any] = {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": list(app.scopes),
        "redirect_uri": "\n".join(app.redirect_uris),
        "redirect_uris": list(app.redirect_uris),
        "vapid_key": VAPID_KEY,
    }
    if app.client_secret is not None:
        body |= {
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "client_secret_expires_at": 0,
        }
    return body


@apps.post("/api/v1/apps")
@params(NewApp)
async def create_app(params: NewApp) -> dict[str, Any]:
    app = await register_application(
        name=params.client_name,
        redirect_uris=params.redirect_uris,
        scopes=params.scopes,
        website=params.website,
    )
    return render_app(app)


@apps.get("/api/v1/apps/verify_credentials")
@require_auth("read", user=False)
async def verify_credentials(token: TokenContext) -> dict[str, Any]:
    """The app behind the token (client-credentials or user), without its secret."""
    app = await get_client_app(token.application_id)
    if app is None:
        # A token made outside OAuth (e.g. by the CLI) has no application to show.
        raise Unauthorized("The access token is not bound to an application")
    return render_app(app)
