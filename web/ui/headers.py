"""Security headers on every HTML page the app serves (UI, profiles and posts, OAuth).

The policy allows our own scripts and styles only: no inline script or style, no eval, so
markup that slipped into a page could not run. Pages are never framed (clickjacking).
"""

from __future__ import annotations

from quart import Response

from web.deps import settings
from web.ui.blueprint import ui


def content_security_policy(*, form_action: bool = True) -> str:
    """Remote avatars are https (http too where federation allows it, as in tests)."""
    images = "'self' https: data:" + (" http:" if settings().federation.allow_http else "")
    parts = [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src {images}",
        "connect-src 'self'",
        "manifest-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
    if form_action:
        # Not on the OAuth page: browsers apply form-action to its redirect back to the app.
        parts.append("form-action 'self'")
    return "; ".join(parts)


PAGE_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@ui.after_app_request
async def secure_html(response: Response) -> Response:
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        for name, value in PAGE_HEADERS.items():
            response.headers.setdefault(name, value)
    return response
