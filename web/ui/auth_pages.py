"""Signing in, signing up and signing out of the web UI.

Sign-in checks the password through services/oauth (argon2, the same answer and about the same
time whether or not the account exists) and counts against the per-IP sign-in budget shared with
the OAuth page and the password grant; sign-up against the API's sign-up budget.
"""

from __future__ import annotations

from quart import Response, redirect, request
from quart_rate_limiter import rate_limit

from services import accounts
from services import instance as instance_service
from services import oauth as oauth_service
from services.accounts import NewAccount
from services.errors import Forbidden, ValidationFailed
from services.oauth import OAuthError
from web.deps import settings
from web.ratelimit import SIGN_IN, SIGN_UP
from web.ui.blueprint import ui
from web.ui.errors import error_page
from web.ui.forms import safe_next
from web.ui.render import page
from web.ui.session import current_session, end_session, start_session

HOME = "/home"
NO_PASSWORDS_HERE = (
    "Passwords are not used on this server: sign in with one of the providers on the sign-in "
    "page (a first sign-in creates your account)."
)


@ui.get("/login")
async def login_form() -> Response:
    if await current_session():
        return redirect(safe_next(request.args, HOME), 303)
    return await page("ui/login.html", next=safe_next(request.args, HOME))


@ui.post("/login")
@rate_limit(limits=[SIGN_IN])
async def login() -> Response:
    form = await request.form
    if not settings().auth.password_sign_in:
        return await error_page(403, NO_PASSWORDS_HERE)
    login_name = form.get("login", "")
    try:
        user = await oauth_service.sign_in(login_name, form.get("password", ""))
    except OAuthError as exc:
        target = safe_next(form, HOME)
        return await page("ui/login.html", 422, error=exc.message, login=login_name, next=target)
    response = redirect(safe_next(form, HOME), 303)
    return await start_session(response, user)


@ui.post("/logout")
async def logout() -> Response:
    return await end_session(redirect("/", 303))


async def _register_page(status: int = 200, **context: object) -> Response:
    mode = await instance_service.registration_mode()
    return await page(
        "ui/register.html",
        status,
        mode=mode.value,
        rules=await instance_service.rules(),
        reason_required=await instance_service.reason_required(),
        closed_message=await instance_service.get_setting("closed_registrations_message"),
        **context,
    )


@ui.get("/register")
async def register_form() -> Response:
    if await current_session():
        return redirect(HOME, 303)
    return await _register_page()


def _field_errors(exc: ValidationFailed) -> dict[str, str]:
    details = getattr(exc, "details", None) or {}
    return {
        name: f"{name.replace('_', ' ').capitalize()} {problems[0]['description']}"
        for name, problems in details.items()
    }


@ui.post("/register")
@rate_limit(limits=[SIGN_UP])
async def register() -> Response:
    form = await request.form
    if not settings().auth.password_sign_in:
        return await error_page(403, NO_PASSWORDS_HERE)
    new = NewAccount(
        username=form.get("username", "").strip(),
        email=form.get("email", "").strip(),
        password=form.get("password", ""),
        reason=form.get("reason", ""),
        agreement=form.get("agreement") == "on",
        ip=request.remote_addr,
    )
    kept = {"username": new.username, "email": new.email, "reason": new.reason}
    try:
        user = await accounts.sign_up(settings(), new)
    except ValidationFailed as exc:
        return await _register_page(422, errors=_field_errors(exc), kept=kept)
    except Forbidden:
        return await _register_page(403, kept=kept)
    if not user.approved:
        return await page("ui/pending.html")
    return await start_session(redirect(HOME, 303), user)
