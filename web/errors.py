"""Exceptions to HTTP responses, in one place: ``{"error": "..."}`` for the API, never a 500."""

from __future__ import annotations

import logging

from quart import Quart, Response, jsonify, request
from quart_rate_limiter import RateLimitExceeded
from werkzeug.exceptions import HTTPException

from activitypub import errors as protocol
from services import errors

log = logging.getLogger(__name__)

STATUS = {
    errors.BadRequest: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.ValidationFailed: 422,
    errors.Unavailable: 503,
}


# Protocol errors from a peer's request (inboxes, signed fetches) or from our fetch of theirs.
PROTOCOL_STATUS = {
    protocol.SignatureError: 401,
    protocol.ParseError: 400,
    protocol.FetchError: 502,
}


def error_response(status: int, message: str, **extra: object) -> Response:
    response = jsonify({"error": message, **extra})
    response.status_code = status
    return response


def domain_status(exc: errors.StarlingError) -> int:
    return next(code for cls, code in STATUS.items() if isinstance(exc, cls))


def register_error_handlers(app: Quart) -> None:
    @app.errorhandler(errors.StarlingError)
    async def domain_error(exc: errors.StarlingError) -> Response:
        status = domain_status(exc)
        details = getattr(exc, "details", None)
        extra = {"details": details} if details else {}
        response = error_response(status, exc.message, **extra)
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response

    @app.errorhandler(protocol.ProtocolError)
    async def protocol_error(exc: protocol.ProtocolError) -> Response:
        status = next((c for cls, c in PROTOCOL_STATUS.items() if isinstance(exc, cls)), 400)
        return error_response(status, exc.message)

    @app.errorhandler(RateLimitExceeded)
    async def rate_limited(exc: RateLimitExceeded) -> Response:
        response = error_response(429, "Too many requests")
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(HTTPException)
    async def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        message = exc.description if status != 404 else "Record not found"
        return error_response(status, message or exc.name)

    @app.errorhandler(Exception)
    async def unexpected(exc: Exception) -> Response:
        # The last resort: log with the request, answer without leaking internals.
        log.exception("unhandled error", extra={"path": request.path, "method": request.method})
        return error_response(500, "Internal server error")
