"""Who is signed in to the web UI: the session cookie, and views that need a signed-in user.

The cookie holds a random token (HttpOnly, SameSite=Lax, Secure over https); the session itself
lives in Redis (services/web_sessions), so any web process serves any browser.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import ParamSpec, TypeVar
from urllib.parse import quote

from quart import Response, g, redirect, request

from models.accounts import User
from services import web_sessions
from services.web_sessions import WebSession
from web.deps import backends, settings

SESSION_COOKIE = "starling_session"

P = ParamSpec("P")
R = TypeVar("R")


async def current_session() -> WebSession | None:
    if "web_session" not in g:
        raw = request.cookies.get(SESSION_COOKIE)
        g.web_session = await web_sessions.load(backends().redis, raw) if raw else None
    return g.web_session


async def viewer_id() -> int | None:
    """The signed-in account, or None for a visitor."""
    session = await current_session()
    return session.account_id if session else None


def login_redirect() -> Response:
    here = request.full_path.rstrip("?") if request.method == "GET" else "/home"
    return redirect(f"/login?next={quote(here, safe='/')}", 303)


def signed_in(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R | Response]]:
    """Visitors are sent to the sign-in page, and back here afterwards. The view receives
    the session as ``session``."""

    @wraps(view)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        session = await current_session()
        if session is None:
            return login_redirect()
        kwargs["session"] = session
        return await view(*args, **kwargs)

    return wrapper


async def start_session(response: Response, user: User) -> Response:
    raw = await web_sessions.start(backends().redis, user)
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=web_sessions.LIFETIME_SECONDS,
        path="/",
        secure=settings().instance.https,
        httponly=True,
        samesite="Lax",
    )
    return response


async def end_session(response: Response) -> Response:
    session = await current_session()
    if session is not None:
        await web_sessions.end(backends().redis, session)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=settings().instance.https)
    return response
