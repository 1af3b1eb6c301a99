"""Periodic clean-up tasks: thin wrappers around services."""

from __future__ import annotations

import logging
from typing import Any

from services.housekeeping import (
    delete_expired_authorization_codes,
    delete_finished_federation_rows,
)

log = logging.getLogger(__name__)


async def purge_expired_grants(ctx: dict[str, Any]) -> int:
    """Delete OAuth authorization codes that expired or were used: they can never be redeemed."""
    deleted = await delete_expired_authorization_codes()
    if deleted:
        log.info("purged authorization codes", extra={"count": deleted})
    return deleted


async def purge_finished_federation_rows(ctx: dict[str, Any]) -> int:
    """Delete week-old deliveries and inbox items that are finished with."""
    deleted = await delete_finished_federation_rows()
    if deleted:
        log.info("purged federation rows", extra={"count": deleted})
    return deleted
