"""Form actions: every POST to the UI carries the CSRF token, and answers with a 303 back to
where the user was (``next``), with a message for the next page to show.

Without JavaScript that is the whole story. starling.js posts the same forms with fetch and
reads the page the redirect leads to, so both paths run the same code.
"""

from __future__ import annotations

from quart import Response, redirect, request
from werkzeug.datastructures import MultiDict

from services import web_sessions
from services.web_sessions import WebSession
from web.csrf import EXPIRED_MESSAGE, csrf_ok
from web.deps import backends
from web.ui.blueprint import ui
from web.ui.render import page


@ui.before_request
async def check_csrf() -> Response | None:
    if request.method != "POST":
        return None
    if not csrf_ok(await request.form):
        return await page("ui/error.html", 403, title="Form expired", message=EXPIRED_MESSAGE)
    return None


def safe_next(form: MultiDict[str, str], default: str) -> str:
    """Only a path on this site: never another host (open redirect), nor //host."""
    target = form.get("next", "") or request.args.get("next", "")
    if target.startswith("/") and not target.startswith(("//", "/\\")) and "\n" not in target:
        return target
    return default


async def back(
    session: WebSession | None,
    default: str,
    message: str | None = None,
    *,
    kind: str = "info",
    **kept: str,
) -> Response:
    """303 to where the form came from, telling the next page ``message``."""
    form = await request.form
    if session is not None and message:
        await web_sessions.flash(backends().redis, session, kind, message, **kept)
    return redirect(safe_next(form, default), 303)
