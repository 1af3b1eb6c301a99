"""CSRF protection for every HTML form (the web UI and the OAuth page): a double-submit token.

The token lives in an HttpOnly, SameSite=Lax cookie and in each form's hidden ``csrf_token``
field; a POST counts only when both are present and equal. Another site can make a browser
send the cookie, but cannot read it to fill the field. It also covers signed-out forms (sign-in,
sign-up), so nobody can sign a browser into an account of theirs (login CSRF).
"""

from __future__ import annotations

import hmac
import re

from quart import Response, g, request
from werkzeug.datastructures import MultiDict

from services import tokens
from web.deps import settings

CSRF_COOKIE = "starling_csrf"
CSRF_FIELD = "csrf_token"
_CSRF_VALUE = re.compile(r"^[A-Za-z0-9_\-]{43}$")
EXPIRED_MESSAGE = "This form has expired. Go back, reload the page and try again."


def csrf_token() -> str:
    """The browser's token: the one in its cookie, or a new one (set by ``set_csrf_cookie``)."""
    if "csrf_token" not in g:
        current = request.cookies.get(CSRF_COOKIE, "")
        g.csrf_token = current if _CSRF_VALUE.match(current) else tokens.new_secret()
    return g.csrf_token


def csrf_ok(form: MultiDict[str, str]) -> bool:
    """Double submit: only a page we served (setting the cookie) knows the field's value."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    field = form.get(CSRF_FIELD, "")
    return bool(_CSRF_VALUE.match(cookie)) and hmac.compare_digest(cookie, field)


def set_csrf_cookie(response: Response) -> Response:
    """Give the browser the token its forms carry (once per page that shows a form)."""
    if request.cookies.get(CSRF_COOKIE) != csrf_token():
        response.set_cookie(
            CSRF_COOKIE,
            csrf_token(),
            path="/",
            secure=settings().instance.https,
            httponly=True,
            samesite="Lax",
        )
    return response
