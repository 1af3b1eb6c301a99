"""CORS as Mastodon answers it, so browser clients (Phanpy, Elk) can call us from their origin."""

from __future__ import annotations

from quart import Quart, Response, request

# /static/ and /avatars/: browser clients load avatars from another origin with crossOrigin.
CORS_PREFIXES = (
    "/api/",
    "/oauth/token",
    "/oauth/revoke",
    "/oauth/userinfo",
    "/.well-known/",
    "/nodeinfo/",
    "/static/",
    "/avatars/",
)
ALLOWED_METHODS = "POST, PUT, DELETE, GET, PATCH, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, Accept"
EXPOSED_HEADERS = "Link, X-RateLimit-Reset, X-RateLimit-Limit, X-RateLimit-Remaining, X-Request-Id"


def _applies() -> bool:
    return request.path.startswith(CORS_PREFIXES)


def register_cors(app: Quart) -> None:
    @app.before_request
    async def preflight() -> Response | None:
        if request.method == "OPTIONS" and _applies():
            response = Response("", status=204)
            response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
            requested = request.headers.get("Access-Control-Request-Headers")
            response.headers["Access-Control-Allow-Headers"] = requested or ALLOWED_HEADERS
            response.headers["Access-Control-Max-Age"] = "7200"
            return response
        return None

    @app.after_request
    async def add_headers(response: Response) -> Response:
        if _applies():
            # Tokens travel in the Authorization header, never in cookies: "*" is safe here.
            response.headers["Access-Control-Allow-Origin"] = "*"
            response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        return response
