"""Settings: the profile (display name, bio, locked, discoverable, indexable), the password,
follow requests to answer, and the accounts the user blocks or mutes."""

from __future__ import annotations

from typing import Literal

from quart import Response, request

from services import account_lists, accounts, web_sessions
from services.accounts import ProfileChanges
from services.errors import ValidationFailed
from services.web_sessions import WebSession
from web.deps import backends, settings
from web.ui.blueprint import ui
from web.ui.cards import account_card
from web.ui.forms import back
from web.ui.paging import next_link, requested_page
from web.ui.render import page
from web.ui.session import signed_in

SETTINGS = "/settings"


@ui.get("/settings")
@signed_in
async def settings_page(session: WebSession) -> Response:
    credentials = await accounts.get_credentials(session.user_id)
    return await page(
        "ui/settings.html",
        title="Settings",
        tab="settings",
        account=credentials.account,
        requests_count=credentials.follow_requests_count,
    )


@ui.post("/settings/profile")
@signed_in
async def save_profile(session: WebSession) -> Response:
    form = await request.form
    changes = ProfileChanges(
        display_name=form.get("display_name", ""),
        note=form.get("note", ""),
        locked=form.get("locked") == "on",
        discoverable=form.get("discoverable") == "on",
        indexable=form.get("indexable") == "on",
    )
    try:
        await accounts.update_profile(backends(), session.user_id, changes)
    except ValidationFailed as exc:
        message = exc.message.removeprefix("Validation failed: ")
        return await back(session, SETTINGS, message, kind="error")
    return await back(session, SETTINGS, "Profile saved.")


@ui.post("/settings/password")
@signed_in
async def change_password(session: WebSession) -> Response:
    form = await request.form
    new_password = form.get("new_password", "")
    if new_password != form.get("confirm_password", ""):
        return await back(session, SETTINGS, "The new passwords differ.", kind="error")
    try:
        await accounts.change_password(
            session.user_id, form.get("current_password", ""), new_password
        )
    except ValidationFailed as exc:
        message = exc.message.removeprefix("Validation failed: ")
        return await back(session, SETTINGS, message, kind="error")
    ended = await web_sessions.end_others(backends().redis, session)
    others = f" {ended} other session{'s' if ended != 1 else ''} signed out." if ended else ""
    return await back(session, SETTINGS, f"Password changed.{others}")


ListKind = Literal["requests", "blocks", "mutes"]
LIST_TITLES = {
    "requests": "Follow requests",
    "blocks": "Blocked accounts",
    "mutes": "Muted accounts",
}


async def _account_list(session: WebSession, kind: ListKind) -> Response:
    wanted = requested_page(40)
    listed = await account_lists.account_list(backends().redis, kind, session.account_id, wanted)
    return await page(
        "ui/account_list.html",
        title=LIST_TITLES[kind],
        tab="settings",
        kind=kind,
        people=[account_card(item.account, settings()) for item in listed],
        more=next_link(account_lists.row_ids(listed), wanted.limit),
    )


@ui.get("/follow_requests")
@signed_in
async def follow_requests(session: WebSession) -> Response:
    return await _account_list(session, "requests")


@ui.get("/settings/blocks")
@signed_in
async def blocks(session: WebSession) -> Response:
    return await _account_list(session, "blocks")


@ui.get("/settings/mutes")
@signed_in
async def mutes(session: WebSession) -> Response:
    return await _account_list(session, "mutes")
