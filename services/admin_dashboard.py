"""What the admin dashboard shows at a glance: how big the instance is, what waits for a
moderator, and whether federation and the job queues keep up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from redis.asyncio import Redis
from redis.exceptions import RedisError
from tortoise import connections
from tortoise.timezone import now

from models.admin import Report, ReportState
from models.federation import Domain
from services import instance as instance_service
from services import metrics

UNREACHABLE_SHOWN = 20
RECENT = timedelta(hours=24)

_COUNTS_SQL = """
SELECT
  (SELECT count(*) FROM users) AS local_accounts,
  (SELECT count(*) FROM accounts WHERE domain IS NOT NULL) AS remote_accounts,
  (SELECT count(*) FROM posts WHERE local AND deleted_at IS NULL) AS local_posts,
  (SELECT count(*) FROM posts WHERE NOT local AND deleted_at IS NULL) AS remote_posts,
  (SELECT count(*) FROM users WHERE NOT approved) AS pending_sign_ups,
  (SELECT count(*) FROM deliveries WHERE state = 'pending') AS queued_deliveries,
  (SELECT count(*) FROM deliveries WHERE state = 'failed' AND created_at > $1)
    AS failed_deliveries,
  (SELECT count(*) FROM inbox_items WHERE state = 'pending') AS queued_inbox_items,
  (SELECT count(*) FROM inbox_items WHERE state = 'failed' AND created_at > $1)
    AS failed_inbox_items
"""


@dataclass(frozen=True)
class Counts:
    local_accounts: int
    remote_accounts: int
    local_posts: int
    remote_posts: int
    pending_sign_ups: int
    queued_deliveries: int
    failed_deliveries: int  # in the last 24 hours
    queued_inbox_items: int
    failed_inbox_items: int  # in the last 24 hours


@dataclass(frozen=True)
class Unreachable:
    domain: str
    since: datetime
    failures: int


@dataclass(frozen=True)
class Overview:
    counts: Counts
    active_month: int
    open_reports: int
    unreachable: list[Unreachable]
    unreachable_total: int
    queues: list[metrics.QueueDepth] | None  # None: Redis did not answer


async def _counts() -> Counts:
    rows = await connections.get("default").execute_query_dict(_COUNTS_SQL, [now() - RECENT])
    return Counts(**{name: int(value) for name, value in rows[0].items()})


async def _unreachable() -> tuple[list[Unreachable], int]:
    query = Domain.filter(unreachable_since__isnull=False)
    rows = await query.order_by("unreachable_since").limit(UNREACHABLE_SHOWN)
    shown = [Unreachable(r.domain, r.unreachable_since, r.consecutive_failures) for r in rows]
    return shown, await query.count()


async def _queues(redis: Redis) -> list[metrics.QueueDepth] | None:
    try:
        return await metrics.queue_depths(redis, metrics.QUEUES)
    except (OSError, RedisError):
        return None


async def overview(redis: Redis, queue: Redis) -> Overview:
    """``redis``: the cache (instance stats); ``queue``: the job queues' Redis."""
    unreachable, unreachable_total = await _unreachable()
    stats = await instance_service.stats(redis)
    return Overview(
        counts=await _counts(),
        active_month=stats.active_month,
        open_reports=await Report.filter(state=ReportState.OPEN).count(),
        unreachable=unreachable,
        unreachable_total=unreachable_total,
        queues=await _queues(queue),
    )
