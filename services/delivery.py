"""Delivering one queued activity to one inbox, and the sweep that makes sure every due one is.

One attempt: sign with the author's key (draft-cavage, as Mastodon), POST through the SSRF-safe
client, record the outcome on the row. 2xx: delivered. 4xx other than 401/408/429, and 501:
final (the peer refuses it; trying again changes nothing). 5xx, 401 (Mastodon answers it while
it cannot fetch our key, e.g. when its own breaker for us is open), 408, 429, time-outs,
connection errors: exponential back-off with jitter for ``federation.retry_max_hours``, and a
failure counted against the domain's circuit breaker. The row is the truth; the queue only
schedules.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from arq.connections import ArqRedis
from tortoise import connections
from tortoise.timezone import now

from activitypub.errors import FetchError
from activitypub.signatures import HttpSigner
from activitypub.vocab import ACTIVITY_JSON
from instance.config import Settings
from models.federation import Delivery, DeliveryState
from services import domains, federate, jobs, logcontext
from services.backends import Backends

log = logging.getLogger(__name__)

ERROR_LENGTH = 500
# Mastodon's DeliveryWorker retries these 4xx; any other 4xx, and 501, is final.
RETRIED = frozenset({401, 408, 429})
SWEEP_BATCH = 1000
# A delivery due this recently has its job on the way (``federate.send``, or the retry
# scheduled with it): the sweep takes only those overdue by more, whose job was lost.
SWEEP_GRACE = timedelta(seconds=10)
# How long one attempt holds its row: longer than the client's whole-request time-out.
LEASE = timedelta(seconds=20)

_domain_slots: dict[str, asyncio.Semaphore] = {}

# Claim a pending, due row that no other attempt holds, with what the attempt needs.
_CLAIM_SQL = """
UPDATE deliveries d SET lease_until = now() + $2::interval
FROM accounts a
WHERE d.id = $1 AND d.state = 'pending' AND a.id = d.signer_id
  AND (d.lease_until IS NULL OR d.lease_until < now())
  AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= now() + interval '1 second')
RETURNING d.id, d.activity_id, d.inbox, d.domain, d.payload::text AS payload, d.attempts,
          d.created_at, d.next_attempt_at, a.public_key_id AS key_id,
          COALESCE(a.private_key, '') AS private_key
"""

_RECORD_SQL = """
UPDATE deliveries SET state = $2, attempts = $3, last_status = $4, last_error = $5,
                      next_attempt_at = $6, delivered_at = COALESCE($7, delivered_at),
                      lease_until = NULL
WHERE id = $1 AND state = 'pending'
"""

# Overdue rows nobody holds, marked as just enqueued so the next sweep leaves them be.
_DUE_SQL = """
UPDATE deliveries SET next_attempt_at = now()
WHERE id IN (
  SELECT id FROM deliveries
  WHERE state = 'pending' AND (lease_until IS NULL OR lease_until < now())
    AND COALESCE(next_attempt_at, created_at) < $1
  ORDER BY next_attempt_at NULLS FIRST LIMIT $2
  FOR UPDATE SKIP LOCKED)
RETURNING id
"""


@dataclass(frozen=True)
class Attempt:
    state: DeliveryState
    status: int | None = None
    error: str = ""
    retry_at: datetime | None = None


def backoff(settings: Settings, attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``: doubling from the base, capped, with jitter
    (so many deliveries that failed together do not all come back at once)."""
    federation = settings.federation
    wait = min(federation.retry_base_seconds * 2**attempts, federation.retry_max_wait_seconds)
    return wait * random.uniform(0.75, 1.25)  # noqa: S311 - jitter, not a secret


def _slot(settings: Settings, domain: str) -> asyncio.Semaphore:
    slot = _domain_slots.get(domain)
    if slot is None:
        slot = _domain_slots[domain] = asyncio.Semaphore(settings.federation.domain_concurrency)
    return slot


@dataclass(frozen=True)
class _Row:
    """What one attempt needs of a Delivery row and its signer: one query, no ORM."""

    id: int
    activity_id: str
    inbox: str
    domain: str
    payload: str  # the activity, as JSON text: sent as it is stored
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    key_id: str
    private_key: str


async def _claim(delivery_id: int) -> _Row | None:
    # execute_query drops the rows of UPDATE ... RETURNING; execute_query_dict keeps them.
    rows = await connections.get("default").execute_query_dict(_CLAIM_SQL, [delivery_id, LEASE])
    return _Row(**rows[0]) if rows else None


async def attempt(backends: Backends, delivery_id: int) -> Attempt | None:
    """Try one pending delivery now; None when there is nothing to do (delivered, gone, not
    due yet, or being attempted by another job right now)."""
    row = await _claim(delivery_id)
    if row is None:
        return None
    logcontext.activity_id.set(row.activity_id)  # on every log line of this attempt
    settings, redis = backends.settings, backends.redis
    known = await domains.states(redis)
    if row.domain in known.blocked:
        blocked = Attempt(DeliveryState.FAILED, error="domain blocked")
        return await _finish(backends, row, blocked, known)
    if row.domain in known.unreachable and not await domains.may_probe(redis, settings, row.domain):
        wait = timedelta(seconds=settings.federation.breaker_probe_seconds)
        return await _postpone(backends, row, now() + wait)
    async with _slot(settings, row.domain):
        outcome = await _post(backends, row)
    return await _finish(backends, row, outcome, known)


async def _post(backends: Backends, row: _Row) -> Attempt:
    headers = {"Content-Type": ACTIVITY_JSON}
    auth = HttpSigner(row.key_id, row.private_key)
    try:
        response = await backends.http.post(
            row.inbox, row.payload.encode(), headers=headers, auth=auth
        )
    except FetchError as exc:
        if not exc.retryable:
            return Attempt(DeliveryState.FAILED, exc.status, exc.message)
        return _retry(backends.settings, row, exc.status, exc.message)
    if 200 <= response.status < 300:
        return Attempt(DeliveryState.DELIVERED, response.status)
    error = f"HTTP {response.status}: {response.body[:200].decode(errors='replace')}"
    if response.status in RETRIED or (response.status >= 500 and response.status != 501):
        return _retry(backends.settings, row, response.status, error)
    return Attempt(DeliveryState.FAILED, response.status, error)


def _retry(settings: Settings, row: _Row, status: int | None, error: str) -> Attempt:
    retry_at = now() + timedelta(seconds=backoff(settings, row.attempts))
    if retry_at > row.created_at + timedelta(hours=settings.federation.retry_max_hours):
        return Attempt(DeliveryState.FAILED, status, f"gave up: {error}")
    return Attempt(DeliveryState.PENDING, status, error, retry_at)


async def _finish(
    backends: Backends, row: _Row, outcome: Attempt, known: domains.States | None = None
) -> Attempt:
    delivered = outcome.state is DeliveryState.DELIVERED
    await connections.get("default").execute_query(
        _RECORD_SQL,
        [row.id, outcome.state.value, row.attempts + 1, outcome.status,
         outcome.error[:ERROR_LENGTH], outcome.retry_at, now() if delivered else None],
    )  # fmt: skip
    if delivered:
        await domains.record_success(backends.redis, row.domain, known)
    elif outcome.retry_at is not None:
        await domains.record_failure(backends.redis, backends.settings, row.domain)
        await _schedule(backends.queue, row.id, row.attempts + 1, outcome.retry_at)
    if outcome.state is DeliveryState.FAILED:
        log.info("delivery failed", extra={"inbox": row.inbox, "error": outcome.error})
    return outcome


async def _postpone(backends: Backends, row: _Row, when: datetime) -> Attempt:
    """Wait for the domain's next probe without spending an attempt."""
    await Delivery.filter(id=row.id, state=DeliveryState.PENDING).update(
        next_attempt_at=when, lease_until=None
    )
    await _schedule(backends.queue, row.id, row.attempts, when, suffix="p")
    return Attempt(DeliveryState.PENDING, retry_at=when, error="domain unreachable")


async def _schedule(
    queue: ArqRedis, delivery_id: int, attempts: int, when: datetime, suffix: str = ""
) -> None:
    job = federate.job_id(delivery_id, attempts) + suffix
    await jobs.enqueue(queue, jobs.Job(federate.DELIVER_JOB, (delivery_id,), job, when))


async def sweep(backends: Backends) -> int:
    """Enqueue every delivery whose job was lost (Redis flushed, a worker killed), in batches;
    answers how many. Runs periodically: deliveries outlive Redis and the workers."""
    rows = await connections.get("default").execute_query_dict(
        _DUE_SQL, [now() - SWEEP_GRACE, SWEEP_BATCH]
    )
    ids = [row["id"] for row in rows]
    await federate.send(backends.queue, ids)
    return len(ids)


_CRASHED_SQL = """
UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = now() + $2::interval,
                      last_error = $3, lease_until = NULL
WHERE id = $1 AND state = 'pending'
"""


async def record_crash(backends: Backends, delivery_id: int, error: str) -> None:
    """An attempt that failed on our side: counted and backed off like a peer's failure (the
    next attempt gives up once the row is past ``retry_max_hours``, like any other)."""
    attempts = await Delivery.filter(id=delivery_id).values_list("attempts", flat=True)
    wait = timedelta(seconds=backoff(backends.settings, attempts[0] if attempts else 0))
    await connections.get("default").execute_query(
        _CRASHED_SQL, [delivery_id, wait, error[:ERROR_LENGTH]]
    )
