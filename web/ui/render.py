"""Rendering a page: the layout's context (instance, who is signed in, the pending message,
the CSRF token every form carries) and the headers every page gets."""

from __future__ import annotations

from typing import Any

from quart import Response, render_template, request

from services import instance as instance_service
from services import tokens, web_sessions
from services.postcache import load_accounts
from web.csrf import CSRF_FIELD, csrf_token, set_csrf_cookie
from web.deps import backends, settings
from web.ui.blueprint import ui
from web.ui.cards import AccountCard, account_card, og_description
from web.ui.session import current_session

ui.add_app_template_global(og_description, "og_description")


@ui.app_template_global()
def fresh_key() -> str:
    """An idempotency key per compose form shown: submitting it twice posts once."""
    return tokens.new_secret()


def here() -> str:
    """This page's path and query: where a form on it comes back to."""
    query = request.query_string.decode()
    return f"{request.path}?{query}" if query else request.path


async def me_card() -> AccountCard | None:
    session = await current_session()
    if session is None:
        return None
    found = await load_accounts(backends().redis, [session.account_id])
    account = found.get(session.account_id)
    return account_card(account, settings()) if account else None


# Sent by starling.js when it fetches a page for its items alone (a live feed's refresh, "Load
# more"): a message waiting to be shown is left for the page the person opens next, else a
# refresh in another tab could take the "Post deleted." meant for this one.
BACKGROUND_HEADER = "X-Starling-Background"


async def page(template: str, status: int = 200, **context: Any) -> Response:
    session = await current_session()
    background = BACKGROUND_HEADER in request.headers
    flash = None
    if session is not None and not background:
        flash = await web_sessions.take_flash(backends().redis, session)
    body = await render_template(
        template,
        instance=await instance_service.site(settings()),
        me=await me_card(),
        flash=flash,
        csrf_field=CSRF_FIELD,
        csrf_token=csrf_token(),
        here=here(),
        base_url=settings().base_url,
        **context,
    )
    response = Response(body, status=status, mimetype="text/html")
    # The same URL is JSON for peers and differs per viewer: caches must key on both.
    response.headers["Vary"] = "Accept, Cookie"
    response.headers["Cache-Control"] = "private, no-cache"
    return set_csrf_cookie(response)
