"""The recipient's side of notifications: pages of them, one by id, dismiss and clear.

services/notify decides who is told what; this module reads what was told. A page leaves out
notifications from accounts the recipient now blocks (or is blocked by) or mutes with
notifications hidden, and those whose post the recipient can no longer see (deleted, or
now followers-only): hydration through services/statuses decides that, once per page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from redis.asyncio import Redis
from tortoise import connections

from models.accounts import Account
from models.admin import Report
from models.notifications import Notification, NotificationType
from services.errors import NotFound
from services.paging import Page
from services.postcache import Snapshot, load_accounts
from services.statuses import Hydrated, hydrate

TYPES = frozenset(kind.value for kind in NotificationType)
MAX_ID = 2**63 - 1

_PAGE_SQL = """
SELECT n.id, n.type, n.created_at, n.actor_id, n.post_id, n.report_id FROM notifications n
WHERE n.recipient_id = $1
  AND ($2::bigint IS NULL OR n.id < $2) AND ($3::bigint IS NULL OR n.id > $3)
  AND ($4::text[] IS NULL OR n.type = ANY($4::text[]))
  AND NOT (n.type = ANY($5::text[]))
  AND ($6::bigint IS NULL OR n.actor_id = $6)
  AND ($7::bigint IS NULL OR n.id = $7)
  AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = $1 AND b.target_id = n.actor_id)
                                          OR (b.account_id = n.actor_id AND b.target_id = $1))
  AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.account_id = $1 AND m.target_id = n.actor_id
                  AND m.hide_notifications AND (m.expires_at IS NULL OR m.expires_at > now()))
ORDER BY n.id {order} LIMIT $8
"""


@dataclass(frozen=True)
class Filters:
    """Mastodon's ``types[]`` (only these; None = all), ``exclude_types[]`` and ``account_id``."""

    types: frozenset[str] | None = None
    exclude_types: frozenset[str] = frozenset()
    account_id: int | None = None


@dataclass(frozen=True)
class Item:
    id: int
    type: str
    created_at: datetime
    actor_id: int
    post_id: int | None
    report_id: int | None = None  # admin.report: the report it is about


# Mastodon's groupable types: likes and boosts of one post, and follows, each within an hour.
_GROUPED_BY_POST = frozenset({NotificationType.FAVOURITE.value, NotificationType.REBLOG.value})
_GROUPED = _GROUPED_BY_POST | {NotificationType.FOLLOW.value}
_GROUP_HOURS = 3600


def group_key(item: Item, post_id: int | None) -> str:
    """Mastodon's ``group_key``: shared by similar notifications (``post_id``: the post a like
    or boost is about), ``ungrouped-{id}`` for the rest. Mastodon also lets an open group run
    on for up to 12 hours; that belongs with grouped notifications (``/api/v2``), which we do
    not serve yet."""
    if item.type not in _GROUPED or (item.type in _GROUPED_BY_POST and post_id is None):
        return f"ungrouped-{item.id}"
    hour = int(item.created_at.timestamp()) // _GROUP_HOURS
    subject = f"{item.type}-{post_id}" if item.type in _GROUPED_BY_POST else item.type
    return f"{subject}-{hour}"


@dataclass
class NotificationPage:
    """``items`` to show, newest first; ``row_ids`` every row the page read (the Link headers
    page on them, so rows dropped at hydration are not read again); ``hydrated`` holds the
    posts and every account (actors too) needed to render them."""

    items: list[Item]
    row_ids: list[int]
    hydrated: Hydrated = field(default_factory=lambda: Hydrated(posts=[]))
    # admin.report notifications' reports, each with the reported account, by report id.
    reports: dict[int, tuple[Report, Account]] = field(default_factory=dict)

    def post_of(self, item: Item) -> Snapshot | None:
        if item.post_id is None:
            return None
        return next((p for p in self.hydrated.posts if p["id"] == item.post_id), None)


async def _rows(
    recipient_id: int, page: Page, filters: Filters, only_id: int | None = None
) -> list[Item]:
    types = sorted(filters.types) if filters.types is not None else None
    sql = _PAGE_SQL.format(order="ASC" if page.ascending else "DESC")
    args = [recipient_id, page.max_id, page.lower, types, sorted(filters.exclude_types)]
    args += [filters.account_id, only_id, page.limit]
    _, rows = await connections.get("default").execute_query(sql, args)
    items = [
        Item(
            row["id"],
            row["type"],
            row["created_at"],
            row["actor_id"],
            row["post_id"],
            row["report_id"],
        )
        for row in rows
    ]
    return sorted(items, key=lambda item: item.id, reverse=True)


async def _hydrate(redis: Redis, recipient_id: int, items: list[Item]) -> NotificationPage:
    """One hydrate call for the page's posts; drops what the recipient may no longer see."""
    post_ids = [item.post_id for item in items if item.post_id is not None]
    hydrated = await hydrate(redis, recipient_id, post_ids)
    visible = {post["id"] for post in hydrated.posts}
    actors = await load_accounts(redis, {item.actor_id for item in items})
    hydrated.accounts.update(actors)
    shown = [
        item
        for item in items
        if (item.post_id is None or item.post_id in visible)
        and item.actor_id in actors
        and not actors[item.actor_id]["suspended_at"]
    ]
    reports = await _reports({item.report_id for item in shown if item.report_id})
    shown = [item for item in shown if item.report_id is None or item.report_id in reports]
    return NotificationPage(
        items=shown, row_ids=[item.id for item in items], hydrated=hydrated, reports=reports
    )


async def _reports(ids: set[int]) -> dict[int, tuple[Report, Account]]:
    if not ids:
        return {}
    found = await Report.filter(id__in=sorted(ids)).select_related("target")
    return {report.id: (report, report.target) for report in found}


async def read_page(
    redis: Redis, recipient_id: int, page: Page, filters: Filters | None = None
) -> NotificationPage:
    items = await _rows(recipient_id, page, filters or Filters())
    return await _hydrate(redis, recipient_id, items)


async def read_one(redis: Redis, recipient_id: int, notification_id: int) -> NotificationPage:
    """One of the recipient's notifications (404 for anyone else's, or one now hidden)."""
    if not 0 < notification_id <= MAX_ID:
        raise NotFound("Record not found")
    items = await _rows(recipient_id, Page(limit=1), Filters(), only_id=notification_id)
    found = await _hydrate(redis, recipient_id, items)
    if not found.items:
        raise NotFound("Record not found")
    return found


async def dismiss(recipient_id: int, notification_id: int) -> None:
    """The recipient deletes one of their notifications (404 for anyone else's)."""
    if not 0 < notification_id <= MAX_ID:
        raise NotFound("Record not found")
    deleted = await Notification.filter(id=notification_id, recipient_id=recipient_id).delete()
    if not deleted:
        raise NotFound("Record not found")


async def clear(recipient_id: int) -> None:
    await Notification.filter(recipient_id=recipient_id).delete()
