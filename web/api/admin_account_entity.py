"""Mastodon's Admin::Account entity: an account as moderators see it, with its login's
details when it is local (e-mail, sign-up address, role, approval)."""

from __future__ import annotations

from typing import Any

from instance.config import Settings
from services.admin_accounts import AdminAccount
from web.api.entities import iso, render_account, render_role


def _inner_account(view: AdminAccount, settings: Settings) -> dict[str, Any]:
    """The Account entity, with Mastodon's flags for what other readers never see."""
    entity = render_account(view.account, settings)
    if view.account.suspended_at is not None:
        entity["suspended"] = True
    if view.account.silenced_at is not None:
        entity["limited"] = True
    return entity


def render_admin_account(view: AdminAccount, settings: Settings) -> dict[str, Any]:
    account, user = view.account, view.user
    ips = []
    if user is not None and user.sign_up_ip:
        ips = [{"ip": user.sign_up_ip, "used_at": iso(user.created_at)}]
    return {
        "id": str(account.id),
        "username": account.username,
        "domain": account.domain,
        "created_at": iso(account.created_at),
        "email": user.email if user else None,
        "ip": user.sign_up_ip if user else None,
        "ips": ips,
        "locale": user.locale if user else None,
        "invite_request": (user.registration_reason or None) if user else None,
        "role": render_role(view.role) if user else None,
        "confirmed": user is not None,  # no e-mail confirmation step: every login counts
        "approved": user.approved if user else True,
        "disabled": view.disabled,
        "silenced": account.silenced_at is not None,
        "suspended": account.suspended_at is not None,
        "sensitized": False,
        "account": _inner_account(view, settings),
        "created_by_application_id": None,
        "invited_by_account_id": None,
    }
