"""Deleting rows that can no longer matter."""

from __future__ import annotations

from datetime import timedelta

from tortoise.expressions import Q
from tortoise.timezone import now

from models.federation import Delivery, DeliveryState, InboxItem, InboxState
from models.oauth import AuthorizationCode


async def delete_expired_authorization_codes() -> int:
    """Codes past their expiry, or already redeemed, are dead weight."""
    return await AuthorizationCode.filter(
        Q(expires_at__lt=now()) | Q(used_at__isnull=False)
    ).delete()


# Finished federation rows are kept a week for the operator to look into, then go. An inbox
# item is also what makes a retried activity a duplicate; after a week no retry can still
# come (peers give up within days, and a signature older than 12 hours is refused anyway).
FINISHED_ROWS_KEPT = timedelta(days=7)


async def delete_finished_federation_rows() -> int:
    """Deliveries that were delivered or given up, and inbox items that were applied,
    ignored or failed, older than a week."""
    cutoff = now() - FINISHED_ROWS_KEPT
    deliveries = await Delivery.filter(
        state__in=[DeliveryState.DELIVERED, DeliveryState.FAILED], created_at__lt=cutoff
    ).delete()
    items = await InboxItem.filter(
        state__in=[InboxState.DONE, InboxState.IGNORED, InboxState.FAILED], created_at__lt=cutoff
    ).delete()
    return deliveries + items
