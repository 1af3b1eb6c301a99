"""Mastodon's admin API for accounts: list and search (v1 and v2 filters), view, act (none,
disable, silence, suspend), approve or reject sign-ups, undo, and purge a suspended account.

Moderators and admins only (web/api/staff), with the ``admin:read:accounts`` /
``admin:write:accounts`` scopes (or ``admin:read`` / ``admin:write``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from quart import Blueprint, Response, jsonify

from models.accounts import Role
from services import account_actions, moderation, signups
from services import admin_accounts as service
from services.admin_accounts import AccountFilter, AdminAccount, Origin, Status
from services.errors import NotFound
from services.moderation import Moderator
from web.api.admin_account_entity import render_admin_account
from web.api.entities import render_role
from web.api.pagination import PageParams, with_links
from web.api.params import params
from web.api.paths import snowflake_from_path
from web.api.staff import require_staff
from web.deps import backends, settings

admin_accounts = Blueprint("admin_accounts", __name__)

READ = "admin:read:accounts"
WRITE = "admin:write:accounts"
DEFAULT_LIMIT, MAX_LIMIT = 100, 200  # Mastodon's for admin lists
ROLE_BY_ID = {render_role(role)["id"]: role for role in Role}


def _blank(value: object) -> object:
    return None if value == "" else value


class _Texts(PageParams):
    by_domain: str | None = Field(None, max_length=255)
    username: str | None = Field(None, max_length=255)
    display_name: str | None = Field(None, max_length=255)
    email: str | None = Field(None, max_length=320)
    ip: str | None = Field(None, max_length=64)


class V1Params(_Texts):
    """v1: one flag per origin and status; ``staff`` for moderators and admins."""

    local: bool = False
    remote: bool = False
    active: bool = False
    pending: bool = False
    disabled: bool = False
    silenced: bool = False
    suspended: bool = False
    staff: bool = False

    def wanted(self) -> AccountFilter:
        origin = Origin.LOCAL if self.local else Origin.REMOTE if self.remote else None
        flags = [s for s in Status if getattr(self, s.value)]
        return AccountFilter(
            origin=origin,
            status=flags[0] if flags else None,
            staff=self.staff,
            by_domain=self.by_domain,
            username=self.username,
            display_name=self.display_name,
            email=self.email,
            ip=self.ip,
        )


class V2Params(_Texts):
    origin: Origin | None = None
    status: Status | None = None
    permissions: Literal["staff"] | None = None
    role_ids: list[str] = Field(default_factory=list)
    invited_by: str | None = None  # Starling has no invites: nobody was invited

    _blanks = field_validator("origin", "status", "permissions", mode="before")(_blank)

    @field_validator("role_ids", mode="before")
    @classmethod
    def _listed(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    def wanted(self) -> AccountFilter | None:
        """None when nothing can match (an unknown role id, an inviter)."""
        roles = frozenset(ROLE_BY_ID[r] for r in self.role_ids if r in ROLE_BY_ID)
        if (self.role_ids and not roles) or self.invited_by:
            return None
        return AccountFilter(
            origin=self.origin,
            status=self.status,
            staff=self.permissions == "staff",
            roles=roles,
            by_domain=self.by_domain,
            username=self.username,
            display_name=self.display_name,
            email=self.email,
            ip=self.ip,
        )


class ActionParams(BaseModel):
    type: account_actions.ActionType
    report_id: str | None = None
    warning_preset_id: str | None = None  # no presets here: accepted, unused
    text: str = Field("", max_length=5000)
    send_email_notification: bool = False  # Starling sends no e-mail


def _listing(found: list[AdminAccount]) -> Response:
    entities = [render_admin_account(view, settings()) for view in found]
    return with_links(jsonify(entities), [view.account.id for view in found])


@admin_accounts.get("/api/v1/admin/accounts")
@require_staff(READ)
@params(V1Params, query=True)
async def index_v1(staff: Moderator, params: V1Params) -> Response:
    page = params.page(DEFAULT_LIMIT, MAX_LIMIT)
    return _listing(await service.search(params.wanted(), page))


@admin_accounts.get("/api/v2/admin/accounts")
@require_staff(READ)
@params(V2Params, query=True)
async def index_v2(staff: Moderator, params: V2Params) -> Response:
    wanted = params.wanted()
    if wanted is None:
        return _listing([])
    return _listing(await service.search(wanted, params.page(DEFAULT_LIMIT, MAX_LIMIT)))


async def _entity(account_id: int) -> dict[str, Any]:
    view = await service.one(account_id)
    if view is None:
        raise NotFound("Record not found")
    return render_admin_account(view, settings())


@admin_accounts.get("/api/v1/admin/accounts/<raw_id>")
@require_staff(READ)
async def show(raw_id: str, staff: Moderator) -> dict[str, Any]:
    return await _entity(snowflake_from_path(raw_id))


@admin_accounts.post("/api/v1/admin/accounts/<raw_id>/action")
@require_staff(WRITE)
@params(ActionParams)
async def action(raw_id: str, staff: Moderator, params: ActionParams) -> dict[str, Any]:
    report_id = snowflake_from_path(params.report_id) if params.report_id else None
    wanted = account_actions.Action(type=params.type, report_id=report_id, text=params.text)
    await account_actions.take(backends(), snowflake_from_path(raw_id), staff, wanted)
    return {}


@admin_accounts.post("/api/v1/admin/accounts/<raw_id>/approve")
@require_staff(WRITE)
async def approve(raw_id: str, staff: Moderator) -> dict[str, Any]:
    account = await signups.approve(backends(), snowflake_from_path(raw_id), staff)
    return await _entity(account.id)


@admin_accounts.post("/api/v1/admin/accounts/<raw_id>/reject")
@require_staff(WRITE)
async def reject(raw_id: str, staff: Moderator) -> dict[str, Any]:
    # Rendered before the rows go: Mastodon answers the account as it was.
    account_id = snowflake_from_path(raw_id)
    view = await service.one(account_id)
    await signups.reject(backends(), account_id, staff)
    if view is None:
        raise NotFound("Record not found")
    return render_admin_account(view, settings())


@admin_accounts.post("/api/v1/admin/accounts/<raw_id>/unsuspend")
@require_staff(WRITE)
async def unsuspend(raw_id: str, staff: Moderator) -> dict[str, Any]:
    account = await moderation.unsuspend(backends(), snowflake_from_path(raw_id), staff)
    return await _entity(account.id)


@admin_accounts.post("/api/v1/admin/accounts/<raw_id>/unsilence")
@require_staff(WRITE)
async def unsilence(raw_id: str, staff: Moderator) -> dict[str, Any]:
    account = await moderation.unsilence(backends(), snowflake_from_path(raw_id), staff)
    return await _entity(account.id)


@admin_accounts.post("/api/v1/admin/accounts/<raw_id>/enable")
@require_staff(WRITE)
async def enable(raw_id: str, staff: Moderator) -> dict[str, Any]:
    account = await moderation.enable(snowflake_from_path(raw_id), staff)
    return await _entity(account.id)


@admin_accounts.delete("/api/v1/admin/accounts/<raw_id>")
@require_staff(WRITE)
async def purge(raw_id: str, staff: Moderator) -> dict[str, Any]:
    account = await moderation.purge(backends(), snowflake_from_path(raw_id), staff)
    return await _entity(account.id)
