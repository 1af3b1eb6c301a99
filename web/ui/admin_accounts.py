"""/admin/accounts: find local and remote accounts, look at one, and moderate it (suspend,
silence, disable, approve or reject a sign-up, and, for admins, change a role).

Each action is a CSRF-protected POST that ends in a 303 back to the account's page with a
message, through the same services as the admin API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from quart import Response, request

from models.accounts import Account, Role
from services import admin_accounts as service
from services import moderation, roles, signups
from services.admin_accounts import AccountFilter, AdminAccount, Origin, Status
from services.backends import Backends
from services.errors import StarlingError
from services.moderation import Moderator
from web.api.entities import account_snapshot
from web.api.paths import snowflake_from_path
from web.deps import backends, settings
from web.ui.admin import Staff, admin_only, admin_page, staff_only
from web.ui.blueprint import ui
from web.ui.cards import AccountCard, account_card
from web.ui.errors import error_page
from web.ui.forms import back
from web.ui.paging import next_link, requested_page

PAGE_SIZE = 40
MAX_QUERY = 320

Act = Callable[[Backends, int, Moderator], Awaitable[Account]]

# action -> (what it does, what the page says after it)
ACTIONS: dict[str, tuple[Act, str]] = {
    "suspend": (moderation.suspend, "Account suspended: hidden everywhere, signed out."),
    "unsuspend": (moderation.unsuspend, "Suspension lifted."),
    "silence": (moderation.silence, "Account silenced: out of public timelines and search."),
    "unsilence": (moderation.unsilence, "Silence lifted."),
    "disable": (moderation.disable, "Login disabled: the user is signed out everywhere."),
    "enable": (lambda _b, account_id, by: moderation.enable(account_id, by), "Login enabled."),
    "approve": (signups.approve, "Sign-up approved: the user can sign in now."),
    "purge": (moderation.purge, "The account's content is deleted for good."),
}


@dataclass(frozen=True)
class Row:
    """One account as the admin pages show it."""

    card: AccountCard
    view: AdminAccount
    statuses: tuple[str, ...]

    @property
    def email(self) -> str | None:
        return self.view.user.email if self.view.user else None

    @property
    def ip(self) -> str | None:
        return self.view.user.sign_up_ip if self.view.user else None

    @property
    def created_at(self) -> datetime:
        return self.view.account.created_at


def statuses_of(view: AdminAccount) -> tuple[str, ...]:
    found = [
        name
        for name, on in (
            ("suspended", view.account.suspended_at is not None),
            ("silenced", view.account.silenced_at is not None),
            ("pending", view.pending),
            ("disabled", view.disabled),
        )
        if on
    ]
    return tuple(found) or ("active",)


def row_of(view: AdminAccount) -> Row:
    card = account_card(account_snapshot(view.account), settings())
    return Row(card=card, view=view, statuses=statuses_of(view))


def _choice(name: str, kind: type[Origin] | type[Status]) -> Origin | Status | None:
    raw = request.args.get(name, "")
    return kind(raw) if raw in {member.value for member in kind} else None


def _wanted() -> AccountFilter:
    origin = _choice("origin", Origin)
    status = _choice("status", Status)
    return AccountFilter(
        origin=origin if isinstance(origin, Origin) else None,
        status=status if isinstance(status, Status) else None,
        text=request.args.get("q", "")[:MAX_QUERY] or None,
    )


@ui.get("/admin/accounts")
@staff_only
async def admin_accounts_page(staff: Staff) -> Response:
    wanted, page = _wanted(), requested_page(PAGE_SIZE)
    found = await service.search(wanted, page)
    keep = {k: v for k in ("origin", "status", "q") if (v := request.args.get(k, ""))}
    return await admin_page(
        "ui/admin/accounts.html",
        section="accounts",
        title="Accounts",
        rows=[row_of(view) for view in found],
        wanted=wanted,
        query=request.args.get("q", "")[:MAX_QUERY],
        more=next_link([view.account.id for view in found], PAGE_SIZE, **keep),
    )


@ui.get("/admin/accounts/<raw_id>")
@staff_only
async def admin_account_page(raw_id: str, staff: Staff) -> Response:
    view = await service.one(snowflake_from_path(raw_id))
    if view is None:
        return await error_page(404, "")
    return await admin_page(
        "ui/admin/account.html",
        section="accounts",
        title=f"Account @{view.account.acct_display}",
        row=row_of(view),
        staff=staff,
        roles=[role.value for role in Role],
    )


def _moderator(staff: Staff) -> Moderator:
    return Moderator(account_id=staff.account_id, role=staff.role)


@ui.post("/admin/accounts/<raw_id>/reject")
@staff_only
async def reject_sign_up(raw_id: str, staff: Staff) -> Response:
    try:
        account = await signups.reject(backends(), snowflake_from_path(raw_id), _moderator(staff))
    except StarlingError as exc:
        return await back(staff.session, f"/admin/accounts/{raw_id}", exc.message, kind="error")
    message = f"Sign-up of @{account.username} rejected and deleted."
    return await back(staff.session, "/admin/accounts?status=pending", message)


@ui.post("/admin/accounts/<raw_id>/role")
@admin_only
async def change_role(raw_id: str, staff: Staff) -> Response:
    here = f"/admin/accounts/{raw_id}"
    form = await request.form
    try:
        role = roles.parse_role(form.get("role", ""))
        view = await service.one(snowflake_from_path(raw_id))
        if view is None or view.user is None:
            return await back(staff.session, here, "Only local users have a role.", kind="error")
        if view.account.id == staff.account_id:
            return await back(staff.session, here, "You cannot change your own role.", kind="error")
        await roles.set_role(view.user, role)
    except StarlingError as exc:
        return await back(staff.session, here, exc.message, kind="error")
    return await back(staff.session, here, f"Role changed to {role.value}.")


@ui.post("/admin/accounts/<raw_id>/<action>")
@staff_only
async def admin_account_action(raw_id: str, action: str, staff: Staff) -> Response:
    here = f"/admin/accounts/{raw_id}"
    if action not in ACTIONS:
        return await back(staff.session, here, "Unknown action.", kind="error")
    act, message = ACTIONS[action]
    try:
        await act(backends(), snowflake_from_path(raw_id), _moderator(staff))
    except StarlingError as exc:
        return await back(staff.session, here, exc.message, kind="error")
    return await back(staff.session, here, message)
