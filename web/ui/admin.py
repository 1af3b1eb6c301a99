"""The admin area's shell: who may open /admin pages, and how they are rendered.

``staff_only`` lets signed-in moderators and admins in, ``admin_only`` admins alone; everyone
else (visitors included) gets the same 404 as a page that does not exist, so the area does not
announce itself. The role is read from the database on every request: a demotion takes effect
at once. Form actions need nothing more: the ``ui`` blueprint checks every POST's CSRF token
(web/ui/forms).

Use it like this::

    @ui.get("/admin/things")
    @staff_only
    async def things(staff: Staff) -> Response:
        return await admin_page("ui/admin/things.html", section="things", title="Things")
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from quart import Response, has_request_context

from models.accounts import Role, User
from services.web_sessions import WebSession
from web.ui.blueprint import ui
from web.ui.errors import error_page
from web.ui.render import page
from web.ui.session import current_session

STAFF_ROLES = (Role.MODERATOR, Role.ADMIN)

# The admin navigation: (section, label, path). Pages pass their ``section`` to mark it current.
ADMIN_NAV = (
    ("dashboard", "Dashboard", "/admin"),
    ("accounts", "Accounts", "/admin/accounts"),
    ("reports", "Reports", "/admin/reports"),
    ("domains", "Domain blocks", "/admin/domains"),
    ("settings", "Settings", "/admin/settings"),
)


@dataclass(frozen=True)
class Staff:
    """The signed-in moderator or admin using an admin page."""

    session: WebSession
    role: Role

    @property
    def user_id(self) -> int:
        return self.session.user_id

    @property
    def account_id(self) -> int:
        return self.session.account_id

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


async def current_staff() -> Staff | None:
    """The signed-in user if they are a moderator or an admin, else None."""
    session = await current_session()
    if session is None:
        return None
    role = await User.filter(id=session.user_id).first().values_list("role", flat=True)
    if role is None or Role(role) not in STAFF_ROLES:
        return None
    return Staff(session, Role(role))


View = Callable[..., Awaitable[Any]]


def _guard(allowed: tuple[Role, ...]) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @wraps(view)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            staff = await current_staff()
            if staff is None or staff.role not in allowed:
                return await error_page(404, "")
            kwargs["staff"] = staff
            return await view(*args, **kwargs)

        return wrapper

    return decorate


staff_only = _guard(STAFF_ROLES)
"""Moderators and admins; the view receives ``staff``."""

admin_only = _guard((Role.ADMIN,))
"""Admins only (settings, roles); the view receives ``staff``."""


async def admin_page(template: str, *, section: str, status: int = 200, **context: Any) -> Response:
    """A page of the admin area: ``template`` extends ui/admin/base.html."""
    return await page(
        template, status, tab="admin", section=section, admin_nav=ADMIN_NAV, **context
    )


@ui.app_context_processor
async def staff_link() -> dict[str, bool]:
    """``is_staff`` tells the main navigation to show the way to /admin."""
    if not has_request_context():
        return {"is_staff": False}
    return {"is_staff": await current_staff() is not None}
