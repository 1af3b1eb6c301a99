"""The signed-in user's notifications."""

from __future__ import annotations

from quart import Response

from services import notifications
from services.web_sessions import WebSession
from web.deps import backends, settings
from web.ui.blueprint import ui
from web.ui.cards import notification_cards
from web.ui.paging import next_link, requested_page
from web.ui.render import page
from web.ui.session import signed_in


@ui.get("/notifications")
@signed_in
async def notifications_page(session: WebSession) -> Response:
    wanted = requested_page()
    found = await notifications.read_page(backends().redis, session.account_id, wanted)
    return await page(
        "ui/notifications.html",
        title="Notifications",
        tab="notifications",
        notifications=notification_cards(found, settings()),
        more=next_link(found.row_ids, wanted.limit),
    )
