"""Delivering one queued activity to one inbox, and the sweep that makes sure every due one is.

One attempt: sign with the author's key (draft-cavage, as Mastodon), POST through the SSRF-safe
client, record the outcome on the row. 2xx: delivered. 4xx other than 408/429: final (the
peer refuses it; trying again changes nothing). 5xx, 408, 429, time-outs, connection errors:
exponential back-off with jitter for ``federation.retry_max_hours``, and a failure counted
against the domain's circuit breaker. The row is the truth; the queue only schedules.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
from arq.connections import ArqRedis
from tortoise import connections
from tortoise.timezone import now

from activitypub.errors import FetchError
from activitypub.signatures import HttpSigner
from activitypub.vocab import ACTIVITY_JSON
from instance.config import Settings
from models.federation import Delivery, DeliveryState
from services import domains, federate
from services.backends import Backends

log = logging.getLogger(__name__)

ERROR_LENGTH = 500
SWEEP_BATCH = 1000
# A delivery queued this recently is on its way through ``federate.send``: the sweep leaves
# it alone, so the common case enqueues once.
SWEEP_GRACE = timedelta(seconds=10)

_domain_slots: dict[str, asyncio.Semaphore] = {}

_DUE_SQL = """
SELECT id, attempts FROM deliveries
WHERE state = 'pending'
  AND ((next_attempt_at IS NULL AND created_at < $1) OR next_attempt_at <= $2)
ORDER BY next_attempt_at NULLS FIRST LIMIT $3
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


async def attempt(backends: Backends, delivery_id: int) -> Attempt | None:
    """Try one pending delivery now; None when there is nothing to do (delivered, gone, not due)."""
    row = (
        await Delivery.filter(id=delivery_id, state=DeliveryState.PENDING)
        .select_related("signer")
        .first()
    )
    if row is None:
        return None
    if row.next_attempt_at is not None and row.next_attempt_at > now() + timedelta(seconds=1):
        return None  # an early duplicate job: the row says when
    settings = backends.settings
    if await domains.is_blocked(row.domain):
        return await _finish(backends, row, Attempt(DeliveryState.FAILED, error="domain blocked"))
    if await domains.is_unreachable(row.domain) and not await domains.may_probe(
        backends.redis, settings, row.domain
    ):
        wait = timedelta(seconds=settings.federation.breaker_probe_seconds)
        return await _postpone(backends, row, now() + wait)
    async with _slot(settings, row.domain):
        outcome = await _post(backends, row)
    return await _finish(backends, row, outcome)


async def _post(backends: Backends, row: Delivery) -> Attempt:
    signer = row.signer
    body = orjson.dumps(row.payload)
    headers = {"Content-Type": ACTIVITY_JSON}
    auth = HttpSigner(signer.public_key_id, signer.private_key or "")
    try:
        response = await backends.http.post(row.inbox, body, headers=headers, auth=auth)
    except FetchError as exc:
        if not exc.retryable:
            return Attempt(DeliveryState.FAILED, exc.status, exc.message)
        return _retry(backends.settings, row, exc.status, exc.message)
    if 200 <= response.status < 300:
        return Attempt(DeliveryState.DELIVERED, response.status)
    error = f"HTTP {response.status}: {response.body[:200].decode(errors='replace')}"
    if response.status in (408, 429) or response.status >= 500:
        return _retry(backends.settings, row, response.status, error)
    return Attempt(DeliveryState.FAILED, response.status, error)


def _retry(settings: Settings, row: Delivery, status: int | None, error: str) -> Attempt:
    retry_at = now() + timedelta(seconds=backoff(settings, row.attempts))
    if retry_at > row.created_at + timedelta(hours=settings.federation.retry_max_hours):
        return Attempt(DeliveryState.FAILED, status, f"gave up: {error}")
    return Attempt(DeliveryState.PENDING, status, error, retry_at)


async def _finish(backends: Backends, row: Delivery, outcome: Attempt) -> Attempt:
    update: dict[str, object] = {
        "state": outcome.state,
        "attempts": row.attempts + 1,
        "last_status": outcome.status,
        "last_error": outcome.error[:ERROR_LENGTH],
        "next_attempt_at": outcome.retry_at,
    }
    if outcome.state is DeliveryState.DELIVERED:
        update["delivered_at"] = now()
    await Delivery.filter(id=row.id, state=DeliveryState.PENDING).update(**update)
    if outcome.state is DeliveryState.DELIVERED:
        await domains.record_success(row.domain)
    elif outcome.retry_at is not None:
        await domains.record_failure(backends.settings, row.domain)
        await _schedule(backends.queue, row.id, row.attempts + 1, outcome.retry_at)
    if outcome.state is DeliveryState.FAILED:
        log.info("delivery failed", extra={"inbox": row.inbox, "error": outcome.error})
    return outcome


async def _postpone(backends: Backends, row: Delivery, when: datetime) -> Attempt:
    """Wait for the domain's next probe without spending an attempt."""
    await Delivery.filter(id=row.id, state=DeliveryState.PENDING).update(next_attempt_at=when)
    await _schedule(backends.queue, row.id, row.attempts, when, suffix="p")
    return Attempt(DeliveryState.PENDING, retry_at=when, error="domain unreachable")


async def _schedule(
    queue: ArqRedis, delivery_id: int, attempts: int, when: datetime, suffix: str = ""
) -> None:
    job = federate.job_id(delivery_id, attempts) + suffix
    await queue.enqueue_job(federate.DELIVER_JOB, delivery_id, _job_id=job, _defer_until=when)


async def sweep(backends: Backends) -> int:
    """Enqueue every delivery that is due and not on its way; answers how many. Runs
    periodically: deliveries outlive a Redis flush or a killed worker."""
    moment = now()
    _, rows = await connections.get("default").execute_query(
        _DUE_SQL, [moment - SWEEP_GRACE, moment, SWEEP_BATCH]
    )
    enqueued = 0
    for row in rows:
        job = await backends.queue.enqueue_job(
            federate.DELIVER_JOB, row["id"], _job_id=federate.job_id(row["id"], row["attempts"])
        )
        enqueued += job is not None
    return enqueued


async def record_crash(backends: Backends, delivery_id: int, error: str) -> None:
    """An attempt that failed on our side: counted and backed off like a peer's failure, so
    a delivery that always crashes stops after ``retry_max_hours`` like any other."""
    row = await Delivery.filter(id=delivery_id, state=DeliveryState.PENDING).first()
    if row is not None:
        await _finish(backends, row, _retry(backends.settings, row, None, error))
