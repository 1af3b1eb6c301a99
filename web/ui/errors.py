"""Errors on pages answer pages: the status the API would answer, with a sentence to read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from quart import Response
from quart_rate_limiter import RateLimitExceeded
from werkzeug.exceptions import HTTPException

from services.errors import StarlingError
from web.errors import STATUS
from web.ui.blueprint import ui
from web.ui.render import page

P = ParamSpec("P")
R = TypeVar("R")

TITLES = {
    400: "Bad request",
    401: "Sign in needed",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    422: "Not accepted",
    429: "Slow down",
    503: "Unavailable",
}
NOT_FOUND = "There is nothing here: the page may have been deleted, or never existed."


async def error_page(status: int, message: str) -> Response:
    if status == 404:
        message = NOT_FOUND
    return await page("ui/error.html", status, title=TITLES.get(status, "Error"), message=message)


@ui.errorhandler(StarlingError)
async def domain_error(exc: StarlingError) -> Response:
    status = next(code for cls, code in STATUS.items() if isinstance(exc, cls))
    return await error_page(status, exc.message)


@ui.errorhandler(RateLimitExceeded)
async def rate_limited(exc: RateLimitExceeded) -> Response:
    response = await error_page(429, "Too many attempts. Wait a few minutes and try again.")
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


@ui.errorhandler(HTTPException)
async def http_error(exc: HTTPException) -> Response:
    return await error_page(exc.code or 500, exc.description or exc.name)


def html_errors(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R | Response]]:
    """For pages served from another blueprint (profiles and posts share their URLs with
    ActivityPub, in web/federation), whose error handlers answer JSON."""

    @wraps(view)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        try:
            return await view(*args, **kwargs)
        except StarlingError as exc:
            return await domain_error(exc)

    return wrapper
