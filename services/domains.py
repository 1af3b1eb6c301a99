"""Remote domains: blocks, and delivery health (the per-domain circuit breaker).

A domain whose deliveries keep failing is marked unreachable: its deliveries wait, and one
probe per ``federation.breaker_probe_seconds`` checks whether it is back. A successful
delivery, or any signed request from the domain, resets it and brings its waiting deliveries
forward (Mastodon's DeliveryFailureTracker does the same).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from redis.asyncio import Redis
from tortoise import connections

from instance.config import Settings
from models.federation import Domain
from models.ids import next_id

log = logging.getLogger(__name__)

PROBE_KEY = "domain:probe:{}"

_FAILED_SQL = """
INSERT INTO domains (id, created_at, domain, note, blocked, silenced, consecutive_failures,
                     unreachable_since)
VALUES ($1, now(), $2, '', false, false, 1, CASE WHEN $3 <= 1 THEN now() END)
ON CONFLICT (domain) DO UPDATE SET
  consecutive_failures = domains.consecutive_failures + 1,
  unreachable_since = CASE
    WHEN domains.unreachable_since IS NULL AND domains.consecutive_failures + 1 >= $3 THEN now()
    ELSE domains.unreachable_since END
RETURNING consecutive_failures, unreachable_since
"""

# Matches no row (an index look-up, no write) for a domain in good health.
_RECOVERED_SQL = """
UPDATE domains SET consecutive_failures = 0, unreachable_since = NULL, last_success_at = now()
WHERE domain = $1 AND (consecutive_failures > 0 OR unreachable_since IS NOT NULL)
RETURNING id
"""

_BRING_FORWARD_SQL = """
UPDATE deliveries SET next_attempt_at = now()
WHERE domain = $1 AND state = 'pending' AND next_attempt_at > now()
"""


def host_of(url: str) -> str:
    """The host (with its port, if any) an id or inbox URL belongs to, lower-cased."""
    return (urlsplit(url).netloc.rpartition("@")[2]).lower()


async def is_blocked(host: str) -> bool:
    """Whether an admin suspended the domain (inbox 403, no fetches, no deliveries)."""
    return await Domain.filter(domain=host.lower(), blocked=True).exists()


async def record_failure(settings: Settings, host: str) -> bool:
    """Count a failed attempt; answers whether the domain is now unreachable."""
    threshold = settings.federation.breaker_failures
    # execute_query drops RETURNING rows; execute_query_dict keeps them.
    rows = await connections.get("default").execute_query_dict(
        _FAILED_SQL, [next_id(), host, threshold]
    )
    if rows[0]["consecutive_failures"] == threshold:
        log.warning("domain unreachable", extra={"domain": host, "failures": threshold})
    return rows[0]["unreachable_since"] is not None


async def record_success(host: str) -> None:
    """The domain answered (a delivery succeeded, or it sent us a signed request): reset it,
    and let its waiting deliveries go now rather than at their back-off time."""
    conn = connections.get("default")
    rows = await conn.execute_query_dict(_RECOVERED_SQL, [host])
    if rows:
        await conn.execute_query(_BRING_FORWARD_SQL, [host])
        log.info("domain reachable again", extra={"domain": host})


async def is_unreachable(host: str) -> bool:
    return await Domain.filter(domain=host, unreachable_since__isnull=False).exists()


async def may_probe(redis: Redis, settings: Settings, host: str) -> bool:
    """One attempt per probe interval reaches an unreachable domain (across every worker)."""
    seconds = max(1, int(settings.federation.breaker_probe_seconds))
    return bool(await redis.set(PROBE_KEY.format(host), "1", nx=True, ex=seconds))
