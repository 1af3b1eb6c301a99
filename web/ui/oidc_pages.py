"""Signing in with a third-party OpenID Connect provider (``[[auth.oidc]]`` in config.toml).

``/auth/oidc/NAME`` sends the browser to the provider; ``/auth/oidc/NAME/callback`` brings it
back, signed in, to where it was going (the ``next`` it started with: a page of ours, such as
an app's authorization page). A first sign-in whose preferred username is taken or invalid
asks for one at ``/auth/oidc/NAME/username``.

The flow is bound to the browser by a cookie of its own (the web session starts only once
someone is signed in): a callback from another browser, or with a state we never issued, is
refused, so nobody can sign someone else's browser into their account.
"""

from __future__ import annotations

import re

from quart import Response, redirect, request
from quart_rate_limiter import rate_limit

from instance.config import OIDCProviderSettings
from models.accounts import User
from services import instance as instance_service
from services import oidc, oidc_accounts, tokens
from services.errors import NotFound, ValidationFailed
from services.oauth import login_problem
from web.deps import backends, settings
from web.ratelimit import SIGN_IN, SIGN_UP
from web.ui.blueprint import ui
from web.ui.errors import error_page
from web.ui.forms import safe_next
from web.ui.render import page
from web.ui.session import start_session

BROWSER_COOKIE = "starling_oidc"
_BROWSER_VALUE = re.compile(r"^[A-Za-z0-9_\-]{43}$")
HOME = "/home"


@ui.app_template_global()
def oidc_providers() -> tuple[OIDCProviderSettings, ...]:
    return settings().auth.oidc


@ui.app_template_global()
def password_sign_in() -> bool:
    return settings().auth.password_sign_in


def _provider(name: str) -> OIDCProviderSettings:
    config = settings().auth.provider(name)
    if config is None:
        raise NotFound("No such sign-in provider")
    return config


def _browser() -> str | None:
    value = request.cookies.get(BROWSER_COOKIE, "")
    return value if _BROWSER_VALUE.match(value) else None


def _with_browser_cookie(response: Response, browser: str) -> Response:
    response.set_cookie(
        BROWSER_COOKIE,
        browser,
        max_age=oidc.FLOW_SECONDS + oidc_accounts.PENDING_SECONDS,
        path="/auth/oidc/",
        secure=settings().instance.https,
        httponly=True,
        samesite="Lax",  # sent on the provider's redirect back, a top-level navigation
    )
    return response


@ui.get("/auth/oidc/<name>")
@rate_limit(limits=[SIGN_IN])  # each start keeps a flow in Redis for a while
async def oidc_start(name: str) -> Response:
    config = _provider(name)
    browser = _browser() or tokens.new_secret()
    url = await oidc.begin(
        settings(),
        backends().redis,
        config,
        browser=browser,
        next_path=safe_next(request.args, HOME),
    )
    response = redirect(url, 302)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return _with_browser_cookie(response, browser)


async def _signed_in(user: User, next_path: str) -> Response:
    if not user.approved:
        return await page("ui/pending.html")
    problem = login_problem(user)
    if problem:
        return await error_page(403, problem)
    return await start_session(redirect(next_path, 303), user)


@ui.get("/auth/oidc/<name>/callback")
@rate_limit(limits=[SIGN_IN])
async def oidc_callback(name: str) -> Response:
    config = _provider(name)
    browser = _browser() or ""  # none: finish() refuses the state
    completed = await oidc.finish(
        settings(), backends().redis, config, browser=browser, params=request.args
    )
    outcome = await oidc_accounts.sign_in(settings(), completed.identity, ip=request.remote_addr)
    if outcome.user is not None:
        return await _signed_in(outcome.user, completed.next)
    await oidc_accounts.hold(backends().redis, browser, completed, outcome)
    return redirect(f"/auth/oidc/{config.name}/username", 303)


async def _username_page(
    config: OIDCProviderSettings, username: str, problem: str, status: int = 200
) -> Response:
    mode = await instance_service.registration_mode()
    return await page(
        "ui/oidc_username.html",
        status,
        provider=config,
        username=username,
        problem=problem,
        approval=mode is instance_service.RegistrationMode.APPROVED,
        rules=await instance_service.rules(),
    )


async def _held(config: OIDCProviderSettings) -> oidc_accounts.Held:
    held = await oidc_accounts.held(backends().redis, _browser(), config.name)
    if held is None:
        raise oidc.SignInFailed(oidc.STATE_MESSAGE)
    return held


@ui.get("/auth/oidc/<name>/username")
async def oidc_username_form(name: str) -> Response:
    config = _provider(name)
    held = await _held(config)
    return await _username_page(config, held.suggestion, held.problem)


@ui.post("/auth/oidc/<name>/username")
@rate_limit(limits=[SIGN_UP])
async def oidc_username(name: str) -> Response:
    config = _provider(name)
    held = await _held(config)
    form = await request.form
    username = form.get("username", "").strip()
    try:
        user = await oidc_accounts.create_account(
            settings(),
            held.completed.identity,
            username,
            reason=form.get("reason", ""),
            ip=request.remote_addr,
        )
    except ValidationFailed as exc:
        problem = oidc_accounts.form_problem(exc)
        return await _username_page(config, username, problem, 422)
    await oidc_accounts.release(backends().redis, _browser() or "")
    return await _signed_in(user, held.completed.next)
