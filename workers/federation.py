"""Federation tasks: deliver one activity, apply one received activity, sweep what is due.

Thin: each calls services/ and the outcome lives on the row. Anything unexpected is recorded
on the row here, at the worker's outer boundary, so one bad activity never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from models.accounts import Account
from models.federation import DeliveryState, InboxItem, InboxState
from services import delivery, inbox, metrics
from services.backends import Backends
from services.inbound import dispatch
from services.remote import actors

log = logging.getLogger(__name__)


async def deliver(ctx: dict[str, Any], *delivery_ids: int) -> list[str]:
    """Attempt a batch of deliveries at once (each domain's share bounded by its slots)."""
    backends: Backends = ctx["backends"]
    return list(await asyncio.gather(*(_deliver_one(backends, i) for i in delivery_ids)))


async def _deliver_one(backends: Backends, delivery_id: int) -> str:
    try:
        outcome = await delivery.attempt(backends, delivery_id)
    except Exception as exc:  # the outer boundary: recorded; the sweep tries again later
        log.exception("delivery crashed", extra={"delivery": delivery_id})
        await delivery.record_crash(backends, delivery_id, f"internal error: {exc!r}")
        metrics.DELIVERIES.labels("crashed").inc()
        return "crashed"
    metrics.DELIVERIES.labels(_outcome(outcome)).inc()
    return outcome.state.value if outcome else "skipped"


def _outcome(attempt: delivery.Attempt | None) -> str:
    """delivered, retry (will be tried again), postponed (its domain is unreachable: no
    attempt spent), failed (final), blocked, or skipped (nothing to do: done or not due)."""
    if attempt is None:
        return "skipped"
    if attempt.state is DeliveryState.PENDING:
        return "postponed" if attempt.error == "domain unreachable" else "retry"
    if attempt.state is DeliveryState.FAILED and attempt.error == "domain blocked":
        return "blocked"
    return attempt.state.value


async def process_inbox(ctx: dict[str, Any], *item_ids: int) -> list[str]:
    """Apply stored activities, in the order they arrived (a batch from one inbox write)."""
    backends: Backends = ctx["backends"]
    return [await _apply_one(backends, item_id) for item_id in item_ids]


async def _apply_one(backends: Backends, item_id: int) -> str:
    try:
        outcome = await dispatch.process(backends, item_id)
    except Exception as exc:  # the outer boundary: the item is marked failed, not lost
        log.exception("inbox item crashed", extra={"item": item_id})
        await InboxItem.filter(id=item_id).update(
            state=InboxState.FAILED, last_error=f"internal error: {exc!r}"[:2000]
        )
        metrics.INBOX_PROCESSED.labels("crashed").inc()
        return InboxState.FAILED.value
    metrics.INBOX_PROCESSED.labels("retry" if outcome.retry else outcome.state.value).inc()
    if outcome.retry:
        item = await InboxItem.get(id=item_id)
        seconds = delivery.backoff(backends.settings, item.attempts)
        await inbox.retry_later(backends, item_id, item.attempts, seconds)
    return outcome.state.value


async def sweep_federation(ctx: dict[str, Any]) -> int:
    """Re-enqueue due deliveries and unapplied inbox items (after a Redis flush, a crash)."""
    backends: Backends = ctx["backends"]
    return await delivery.sweep(backends) + await inbox.sweep(backends)


async def refresh_actor(ctx: dict[str, Any], account_id: int) -> str:
    """Re-fetch a stale remote actor (profile, keys, inboxes)."""
    backends: Backends = ctx["backends"]
    account = await Account.filter(id=account_id, domain__isnull=False).first()
    if account is None:
        return "gone"
    await actors.refresh(backends, account)
    return "refreshed"
