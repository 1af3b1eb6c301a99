"""Notifications in the Mastodon client API: the list, one, dismiss and clear."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator
from quart import Blueprint, Response, jsonify

from instance.config import Settings
from services import notifications as service
from services.notifications import Filters, Item, NotificationPage
from services.oauth import TokenContext
from web.api.auth import require_auth
from web.api.entities import iso, render_account, render_status
from web.api.pagination import PageParams, with_links
from web.api.params import params
from web.api.paths import snowflake_from_path
from web.api.reports import render_report
from web.deps import backends, settings

notifications = Blueprint("notifications", __name__)

NOTIFICATIONS_LIMIT = 40  # Mastodon's DEFAULT_NOTIFICATIONS_LIMIT; at most twice that


def render_notification(item: Item, found: NotificationPage, settings: Settings) -> dict[str, Any]:
    """Mastodon's Notification entity; ``status`` only for notifications about a post (a
    boost notification shows the boosted post, as Mastodon's does)."""
    post = found.post_of(item)
    if post is not None:  # a boost notification is about the boosted post
        post = found.hydrated.originals.get(post["boost_of_id"]) or post
    entity: dict[str, Any] = {
        "id": str(item.id),
        "type": item.type,
        "group_key": service.group_key(item, post["id"] if post else None),
        "created_at": iso(item.created_at),
        "account": render_account(found.hydrated.accounts[item.actor_id], settings),
    }
    if post is not None:
        entity["status"] = render_status(post, found.hydrated, settings)
    report = found.reports.get(item.report_id) if item.report_id else None
    if report is not None:
        entity["report"] = render_report(*report, settings)
    return entity


def _list(value: object) -> object:
    # "types[]=a&types[]=b" arrives as a list, "types=a" as one string.
    return [value] if isinstance(value, str) else value


class NotificationParams(PageParams):
    types: list[str] | None = None
    exclude_types: list[str] = Field(default_factory=list)
    account_id: int | None = Field(None, ge=0, lt=2**63)

    _lists = field_validator("types", "exclude_types", mode="before")(_list)

    @field_validator("account_id", mode="before")
    @classmethod
    def _blank(cls, value: object) -> object:
        return None if value == "" else value

    def filters(self) -> Filters:
        return Filters(
            types=frozenset(self.types) if self.types else None,
            exclude_types=frozenset(self.exclude_types),
            account_id=self.account_id,
        )


@notifications.get("/api/v1/notifications")
@require_auth("read:notifications")
@params(NotificationParams, query=True)
async def index(token: TokenContext, params: NotificationParams) -> Response:
    page = params.page(NOTIFICATIONS_LIMIT, 2 * NOTIFICATIONS_LIMIT)
    found = await service.read_page(backends().redis, token.account_id or 0, page, params.filters())
    entities = [render_notification(item, found, settings()) for item in found.items]
    return with_links(jsonify(entities), found.row_ids)


@notifications.get("/api/v1/notifications/<raw_id>")
@require_auth("read:notifications")
async def show(raw_id: str, token: TokenContext) -> dict[str, Any]:
    found = await service.read_one(
        backends().redis, token.account_id or 0, snowflake_from_path(raw_id)
    )
    return render_notification(found.items[0], found, settings())


@notifications.post("/api/v1/notifications/<raw_id>/dismiss")
@require_auth("write:notifications")
async def dismiss(raw_id: str, token: TokenContext) -> dict[str, Any]:
    await service.dismiss(token.account_id or 0, snowflake_from_path(raw_id))
    return {}


@notifications.post("/api/v1/notifications/clear")
@require_auth("write:notifications")
async def clear(token: TokenContext) -> dict[str, Any]:
    await service.clear(token.account_id or 0)
    return {}
