"""The sole owner of notifications: who is told what, and when nobody is.

No notification for acting on your own things, for remote recipients (their server tells
them), or from an account the recipient blocks or mutes (unless the mute keeps notifications).
Runs inside the caller's transaction when there is one.
"""

from __future__ import annotations

from collections.abc import Iterable

from tortoise.expressions import Q
from tortoise.timezone import now

from models.accounts import Account
from models.notifications import Notification, NotificationType
from models.relationships import Block, Follow, FollowState, Mute


async def _silenced_by(recipient_ids: list[int], actor_id: int) -> set[int]:
    """Recipients who block, or mute with notifications hidden, the actor (or are blocked by it)."""
    blocking = await Block.filter(
        Q(account_id__in=recipient_ids, target_id=actor_id)
        | Q(account_id=actor_id, target_id__in=recipient_ids)
    ).values_list("account_id", "target_id")
    muting = await Mute.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now()),
        account_id__in=recipient_ids,
        target_id=actor_id,
        hide_notifications=True,
    ).values_list("account_id", flat=True)
    return {a if a != actor_id else t for a, t in blocking} | set(muting)


async def _unheard(recipient_ids: list[int], actor_id: int) -> set[int]:
    """A silenced actor (services/moderation) is heard only by its followers, as on Mastodon."""
    if not await Account.filter(id=actor_id, silenced_at__isnull=False).exists():
        return set()
    followers = await Follow.filter(
        followee_id=actor_id, follower_id__in=recipient_ids, state=FollowState.ACCEPTED
    ).values_list("follower_id", flat=True)
    return set(recipient_ids) - set(followers)


async def notify_many(
    kind: NotificationType, recipient_ids: Iterable[int], actor_id: int, post_id: int | None = None
) -> list[Notification]:
    """Notify each local recipient that may hear from ``actor_id``."""
    candidates = [r for r in dict.fromkeys(recipient_ids) if r != actor_id]
    if not candidates:
        return []
    local = await Account.filter(id__in=candidates, domain__isnull=True).values_list(
        "id", flat=True
    )
    silenced = await _silenced_by(list(local), actor_id) | await _unheard(list(local), actor_id)
    recipients = [r for r in candidates if r in set(local) - silenced]
    created = []
    for recipient in recipients:
        created.append(
            await Notification.create(
                recipient_id=recipient, type=kind, actor_id=actor_id, post_id=post_id
            )
        )
    return created


async def notify(
    kind: NotificationType, recipient_id: int, actor_id: int, post_id: int | None = None
) -> Notification | None:
    created = await notify_many(kind, [recipient_id], actor_id, post_id)
    return created[0] if created else None


async def withdraw(
    kind: NotificationType, recipient_id: int, actor_id: int, post_id: int | None = None
) -> None:
    """Take back a notification whose cause is gone (e.g. a follow request answered)."""
    await Notification.filter(
        type=kind, recipient_id=recipient_id, actor_id=actor_id, post_id=post_id
    ).delete()
