"""/admin: the instance at a glance for moderators and admins: accounts, posts, active users,
what waits for a moderator (sign-ups, reports), and whether federation and the job queues
keep up (queued and failed deliveries, unreachable domains, how long due jobs wait)."""

from __future__ import annotations

from quart import Response

from services import admin_dashboard
from web.deps import backends
from web.ui.admin import Staff, admin_page, staff_only
from web.ui.blueprint import ui

# A due job waiting longer than this means the workers do not keep up.
SLOW_QUEUE_SECONDS = 60


@ui.get("/admin")
@staff_only
async def dashboard(staff: Staff) -> Response:
    overview = await admin_dashboard.overview(backends().redis, backends().queue)
    return await admin_page(
        "ui/admin/dashboard.html",
        section="dashboard",
        title="Dashboard",
        overview=overview,
        staff=staff,
        slow_queue_seconds=SLOW_QUEUE_SECONDS,
    )
