"""Deleting rows that can no longer matter."""

from __future__ import annotations

from tortoise.expressions import Q
from tortoise.timezone import now

from models.oauth import AuthorizationCode


async def delete_expired_authorization_codes() -> int:
    """Codes past their expiry, or already redeemed, are dead weight."""
    return await AuthorizationCode.filter(
        Q(expires_at__lt=now()) | Q(used_at__isnull=False)
    ).delete()
