"""Remote domains: blocks, and delivery health (the per-domain circuit breaker).

A domain whose deliveries keep failing is marked unreachable: its deliveries wait, and one
probe per ``federation.breaker_probe_seconds`` checks whether it is back. A successful
delivery, or any signed request from the domain, resets it and brings its waiting deliveries
forward (Mastodon's DeliveryFailureTracker does the same).

Every inbox POST and delivery asks about its domain, so each process keeps the few domains
that are blocked or in trouble in memory, forgotten when a change is published on ``CHANNEL``
(or, while pub/sub is down, when a counter in Redis says that something changed).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from redis.asyncio import Redis
from tortoise import connections

from instance.config import Settings
from models.ids import next_id
from services import rediscluster

log = logging.getLogger(__name__)

PROBE_KEY = "domain:probe:{}"
VERSION_KEY = "domains:version"
CHANNEL = "domains:changed"
CHECK_SECONDS = 1.0
# While subscribed, the counter is still read this often: a subscription that died without an
# error (a half-open connection) cannot keep a copy stale for longer.
SUBSCRIBED_CHECK_SECONDS = 30.0

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

_RECOVERED_SQL = """
UPDATE domains SET consecutive_failures = 0, unreachable_since = NULL, last_success_at = now()
WHERE domain = $1 AND (consecutive_failures > 0 OR unreachable_since IS NOT NULL)
RETURNING id
"""

_BRING_FORWARD_SQL = """
UPDATE deliveries SET next_attempt_at = now()
WHERE domain = $1 AND state = 'pending' AND next_attempt_at > now()
"""

_STATES_SQL = """
SELECT domain, blocked, silenced, consecutive_failures > 0 AS failing,
       unreachable_since IS NOT NULL AS unreachable
FROM domains WHERE blocked OR silenced OR consecutive_failures > 0 OR unreachable_since IS NOT NULL
"""


@dataclass(frozen=True)
class States:
    """The domains that are not simply fine, as of ``version``."""

    version: bytes | None
    checked_at: float  # time.monotonic() of the last look at the counter
    blocked: frozenset[str]  # suspended by an admin (services/domain_blocks)
    silenced: frozenset[str]
    failing: frozenset[str]  # at least one failure since the last success
    unreachable: frozenset[str]


class LocalStates:
    """This process's copy of the troubled domains (a ``services.local_caches.LocalCache``).

    While a subscription to ``CHANNEL`` is confirmed, the copy is kept until a change is
    heard, so a change is in force everywhere as soon as it is published (the version counter
    is still read every SUBSCRIBED_CHECK_SECONDS); without one, the counter is read at most
    every CHECK_SECONDS, so a change reaches everyone within it.
    """

    def __init__(self) -> None:
        self.copy: States | None = None
        # Counts what was forgotten: states read before a change was heard are not kept.
        self.generation = 0
        self.subscriptions = 0  # listeners (one per open Backends) whose subscription is confirmed

    def current(self, moment: float) -> States | None:
        copy = self.copy
        every = SUBSCRIBED_CHECK_SECONDS if self.subscriptions else CHECK_SECONDS
        return copy if copy is not None and moment < copy.checked_at + every else None

    def keep(self, states: States, read_at_generation: int) -> States:
        if read_at_generation == self.generation:
            self.copy = states
        return states

    def forget(self) -> None:
        self.copy = None
        self.generation += 1

    def trust(self, listening: bool) -> None:
        self.subscriptions += 1 if listening else -1
        self.forget()

    def heard(self, data: bytes) -> None:
        self.forget()


LOCAL = LocalStates()


def forget_cached_states() -> None:
    """Drop this process's copy (tests that empty the database call this)."""
    LOCAL.forget()


async def states(redis: Redis) -> States:
    """This process's copy of the troubled domains, reloaded when any process changed one."""
    moment = time.monotonic()
    if (current := LOCAL.current(moment)) is not None:
        return current
    generation, copy = LOCAL.generation, LOCAL.copy
    version = await redis.get(VERSION_KEY)
    if copy is not None and copy.version == version and version is not None:
        return LOCAL.keep(dataclasses.replace(copy, checked_at=moment), generation)
    if version is None:  # a fresh (or flushed) Redis: start the counter where no copy can be
        await redis.set(VERSION_KEY, next_id(), nx=True)
        version = await redis.get(VERSION_KEY)
    _, rows = await connections.get("default").execute_query(_STATES_SQL)
    loaded = States(
        version=version,
        checked_at=moment,
        blocked=frozenset(row["domain"] for row in rows if row["blocked"]),
        silenced=frozenset(row["domain"] for row in rows if row["silenced"]),
        failing=frozenset(row["domain"] for row in rows if row["failing"]),
        unreachable=frozenset(row["domain"] for row in rows if row["unreachable"]),
    )
    return LOCAL.keep(loaded, generation)


async def changed(redis: Redis) -> None:
    """Tell every process that a domain's state changed (after the change is committed)."""
    LOCAL.forget()  # this process sees it at once
    await redis.incr(VERSION_KEY)
    await rediscluster.publish(redis, [CHANNEL], b"")


def host_of(url: str) -> str:
    """The host (with its port, if any) an id or inbox URL belongs to, lower-cased."""
    return (urlsplit(url).netloc.rpartition("@")[2]).lower()


async def is_blocked(redis: Redis, host: str) -> bool:
    """Whether an admin suspended the domain (inbox 403, no fetches, no deliveries)."""
    return host.lower() in (await states(redis)).blocked


async def record_failure(redis: Redis, settings: Settings, host: str) -> bool:
    """Count a failed attempt; answers whether the domain is now unreachable."""
    threshold = settings.federation.breaker_failures
    # execute_query drops RETURNING rows; execute_query_dict keeps them.
    rows = await connections.get("default").execute_query_dict(
        _FAILED_SQL, [next_id(), host, threshold]
    )
    failures = rows[0]["consecutive_failures"]
    if failures == threshold:
        log.warning("domain unreachable", extra={"domain": host, "failures": threshold})
    if failures in (1, threshold):  # it started failing, or it is now unreachable
        await changed(redis)
    return rows[0]["unreachable_since"] is not None


async def record_success(redis: Redis, host: str, known: States | None = None) -> None:
    """The domain answered (a delivery succeeded, or it sent us a signed request): reset it,
    and let its waiting deliveries go now rather than at their back-off time. Free for a
    domain in good health (nothing is written); ``known``: states the caller already read."""
    if host not in (known or await states(redis)).failing:
        return
    conn = connections.get("default")
    rows = await conn.execute_query_dict(_RECOVERED_SQL, [host])
    if rows:
        await conn.execute_query(_BRING_FORWARD_SQL, [host])
        log.info("domain reachable again", extra={"domain": host})
    await changed(redis)


async def may_probe(redis: Redis, settings: Settings, host: str) -> bool:
    """One attempt per probe interval reaches an unreachable domain (across every worker)."""
    seconds = max(1, int(settings.federation.breaker_probe_seconds))
    return bool(await redis.set(PROBE_KEY.format(host), "1", nx=True, ex=seconds))
