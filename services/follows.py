"""Follow rows and the steps every change to one takes, whether a local user or a peer asked.

Each step runs inside the caller's transaction, after ``lock_pair`` serialised changes between
the two accounts (a follow racing a block, two follows racing each other). Counters move with
F(); caches and home timelines are fixed after the commit by ``after_accepted``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F

from models.accounts import Account
from models.ids import next_id
from models.notifications import NotificationType
from models.relationships import Block, Follow, FollowState
from services import activities, notify, timelines, viewer_cache
from services.postcache import forget_accounts


@dataclass(frozen=True)
class Removed:
    """A follow (or request) that was deleted: what it was, and its activity id."""

    state: FollowState
    uri: str | None


async def lock_pair(conn: BaseDBAsyncClient, a: int, b: int) -> None:
    """Serialise every relationship change between ``a`` and ``b`` until the commit."""
    low, high = min(a, b), max(a, b)
    await conn.execute_query(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [f"relationship:{low}:{high}"]
    )


async def count_follow(follower_id: int, followee_id: int, delta: int) -> None:
    # Rows are locked in id order, whoever follows whom: no deadlock between transactions.
    updates = {
        follower_id: {"following_count": F("following_count") + delta},
        followee_id: {"followers_count": F("followers_count") + delta},
    }
    for account_id in sorted(updates):
        await Account.filter(id=account_id).update(**updates[account_id])


async def delete_follow(
    conn: BaseDBAsyncClient, follower_id: int, followee_id: int
) -> Removed | None:
    """Remove a follow or request, with its counts and its notification."""
    # execute_query drops the rows of DELETE ... RETURNING; execute_query_dict keeps them.
    rows = await conn.execute_query_dict(
        "DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2 RETURNING state, uri",
        [follower_id, followee_id],
    )
    if not rows:
        return None
    state = FollowState(rows[0]["state"])
    if state is FollowState.ACCEPTED:
        await count_follow(follower_id, followee_id, -1)
        await notify.withdraw(NotificationType.FOLLOW, followee_id, follower_id)
    else:
        await notify.withdraw(NotificationType.FOLLOW_REQUEST, followee_id, follower_id)
    return Removed(state=state, uri=rows[0]["uri"])


async def create_follow(
    follower: Account,
    target: Account,
    *,
    accepted: bool,
    reblogs: bool | None = None,
    notify_posts: bool | None = None,
    uri: str | None = None,
) -> Follow:
    """A new follow (or request), counted and notified. ``uri`` is the Follow activity's id: a
    peer's for a remote follower, else minted from the follower's actor id."""
    follow_id = next_id()
    follow = await Follow.create(
        id=follow_id,
        follower_id=follower.id,
        followee_id=target.id,
        state=FollowState.ACCEPTED if accepted else FollowState.PENDING,
        uri=uri or f"{follower.uri}#follows/{follow_id}",
        show_reblogs=True if reblogs is None else reblogs,
        notify=bool(notify_posts),
    )
    if accepted:
        await count_follow(follower.id, target.id, +1)
        await notify.notify(NotificationType.FOLLOW, target.id, follower.id)
    else:
        await notify.notify(NotificationType.FOLLOW_REQUEST, target.id, follower.id)
    return follow


async def accept_pending(follower_id: int, followee_id: int) -> bool:
    """Turn a pending request into a follow (counted, the request notification replaced)."""
    changed = await Follow.filter(
        follower_id=follower_id, followee_id=followee_id, state=FollowState.PENDING
    ).update(state=FollowState.ACCEPTED)
    if not changed:
        return False
    await count_follow(follower_id, followee_id, +1)
    await notify.withdraw(NotificationType.FOLLOW_REQUEST, followee_id, follower_id)
    await notify.notify(NotificationType.FOLLOW, followee_id, follower_id)
    return True


async def blocked_either_way(a: int, b: int) -> bool:
    return (
        await Block.filter(account_id=a, target_id=b).exists()
        or await Block.filter(account_id=b, target_id=a).exists()
    )


async def after_accepted(redis: Redis, follower_id: int, followee_id: int) -> None:
    """After an accepted follow commits: fresh counts, and the author's posts in the feed."""
    await forget_accounts(redis, [follower_id, followee_id])
    await timelines.merge_author(redis, follower_id, followee_id)
    await viewer_cache.relations_changed(redis, follower_id)


async def after_removed(redis: Redis, follower_id: int, followee_id: int) -> None:
    """After a follow went away: fresh counts, and the author's posts out of the feed."""
    await forget_accounts(redis, [follower_id, followee_id])
    await timelines.remove_author(redis, follower_id, followee_id)
    await viewer_cache.relations_changed(redis, follower_id)


def answer(kind: str, follow_uri: str | None, me: Account, follower: Account) -> dict[str, Any]:
    """Accept or Reject of ``follower``'s Follow of ``me``, embedding the Follow it answers;
    one id per Follow answered (the same Follow answered twice is delivered once)."""
    follow = follow_document(follow_uri or "", follower.uri, me.uri)
    digest = hashlib.sha256(follow["id"].encode()).hexdigest()[:16]
    return activities.simple_activity(
        kind, f"{me.uri}#{kind.lower()}s/{digest}", me, follow, to=[follower.uri]
    )


def follow_document(uri: str, follower_uri: str, followee_uri: str) -> dict[str, Any]:
    """The Follow activity a follow row stands for (what Accept, Reject and Undo embed)."""
    return {
        "id": uri,
        "type": "Follow",
        "actor": follower_uri,
        "object": followee_uri,
    }
