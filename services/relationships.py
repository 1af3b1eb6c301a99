"""Follows, blocks and mutes between accounts, and the Relationship a viewer sees of others.

Every change runs in ONE transaction that first takes an advisory lock on the pair of
accounts, so a follow racing a block (or two follows racing each other) cannot leave a
follow behind or count it twice. Counters move with F() in that transaction; account caches
and home timelines are fixed after the commit. Notifications go through services/notify.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from redis.asyncio import Redis
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F
from tortoise.timezone import now
from tortoise.transactions import in_transaction

from models.accounts import Account
from models.ids import next_id
from models.notifications import NotificationType
from models.relationships import Block, Follow, FollowState
from services import notify, timelines
from services.accounts import get_account
from services.errors import Forbidden, NotFound, ValidationFailed
from services.postcache import forget_accounts

# Mastodon's messages (accounts.self_follow_error; Mastodon::NotPermittedError).
SELF_FOLLOW = "Following your own account is not allowed"
NOT_ALLOWED = "This action is not allowed"
REMOTE_FOLLOW = "remote follows are not available yet"
REMOTE_REQUEST = "answering remote follow requests is not available yet"
MAX_ID = 2**63 - 1
MAX_RELATIONSHIPS = 100


@dataclass(frozen=True)
class Relationship:
    """What the viewer and one other account are to each other (Mastodon 4.2's entity)."""

    id: int
    following: bool = False
    showing_reblogs: bool = False
    notifying: bool = False
    followed_by: bool = False
    blocking: bool = False
    blocked_by: bool = False
    muting: bool = False
    muting_notifications: bool = False
    requested: bool = False
    requested_by: bool = False


_RELATIONSHIPS_SQL = """
SELECT a.id, f.state AS out_state, f.show_reblogs, f.notify, r.state AS in_state,
       m.hide_notifications AS mute_notifications, m.id IS NOT NULL AS muting,
       EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = $1 AND b.target_id = a.id) AS blocking,
       EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = a.id AND b.target_id = $1)
           AS blocked_by
FROM accounts a
LEFT JOIN follows f ON f.follower_id = $1 AND f.followee_id = a.id
LEFT JOIN follows r ON r.follower_id = a.id AND r.followee_id = $1
LEFT JOIN mutes m ON m.account_id = $1 AND m.target_id = a.id
                 AND (m.expires_at IS NULL OR m.expires_at > now())
WHERE a.id = ANY($2::bigint[]) AND a.suspended_at IS NULL
"""


def _relationship(row: dict[str, Any]) -> Relationship:
    out, incoming = row["out_state"], row["in_state"]
    return Relationship(
        id=row["id"],
        following=out == FollowState.ACCEPTED,
        showing_reblogs=bool(out and row["show_reblogs"]),
        notifying=bool(out and row["notify"]),
        followed_by=incoming == FollowState.ACCEPTED,
        blocking=row["blocking"],
        blocked_by=row["blocked_by"],
        muting=row["muting"],
        muting_notifications=bool(row["muting"] and row["mute_notifications"]),
        requested=out == FollowState.PENDING,
        requested_by=incoming == FollowState.PENDING,
    )


async def relationships(viewer_id: int, ids: Iterable[int]) -> list[Relationship]:
    """Relationships with the accounts that exist (unknown or suspended ids are left out), in
    the order asked, in one query."""
    wanted = [i for i in dict.fromkeys(ids) if 0 < i <= MAX_ID][:MAX_RELATIONSHIPS]
    if not wanted:
        return []
    _, rows = await connections.get("default").execute_query(
        _RELATIONSHIPS_SQL, [viewer_id, wanted]
    )
    found = {row["id"]: _relationship(dict(row)) for row in rows}
    return [found[i] for i in wanted if i in found]


async def relationship(viewer_id: int, account_id: int) -> Relationship:
    found = await relationships(viewer_id, [account_id])
    return found[0] if found else Relationship(id=account_id)


# --- shared steps -------------------------------------------------------------------------


async def _lock_pair(conn: BaseDBAsyncClient, a: int, b: int) -> None:
    """Serialise every relationship change between ``a`` and ``b`` until the commit."""
    low, high = min(a, b), max(a, b)
    await conn.execute_query(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [f"relationship:{low}:{high}"]
    )


async def _count_follow(follower_id: int, followee_id: int, delta: int) -> None:
    # Rows are locked in id order, whoever follows whom: no deadlock between transactions.
    updates = {
        follower_id: {"following_count": F("following_count") + delta},
        followee_id: {"followers_count": F("followers_count") + delta},
    }
    for account_id in sorted(updates):
        await Account.filter(id=account_id).update(**updates[account_id])


async def _delete_follow(
    conn: BaseDBAsyncClient, follower_id: int, followee_id: int
) -> FollowState | None:
    """Remove a follow or request, with its counts and its notification; returns what it was."""
    # execute_query drops the rows of DELETE ... RETURNING; execute_query_dict keeps them.
    rows = await conn.execute_query_dict(
        "DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2 RETURNING state",
        [follower_id, followee_id],
    )
    if not rows:
        return None
    state = FollowState(rows[0]["state"])
    if state is FollowState.ACCEPTED:
        await _count_follow(follower_id, followee_id, -1)
        await notify.withdraw(NotificationType.FOLLOW, followee_id, follower_id)
    else:
        await notify.withdraw(NotificationType.FOLLOW_REQUEST, followee_id, follower_id)
    return state


async def _blocked_either_way(a: int, b: int) -> bool:
    return (
        await Block.filter(account_id=a, target_id=b).exists()
        or await Block.filter(account_id=b, target_id=a).exists()
    )


async def _followed(redis: Redis, follower_id: int, followee_id: int) -> None:
    """After an accepted follow commits: fresh counts, and the author's posts in the feed."""
    await forget_accounts(redis, [follower_id, followee_id])
    await timelines.merge_author(redis, follower_id, followee_id)


# --- follows ------------------------------------------------------------------------------


async def follow(
    redis: Redis,
    follower_id: int,
    target_id: int,
    *,
    reblogs: bool | None = None,
    notify_posts: bool | None = None,
) -> Relationship:
    """Follow a local account: a request if it is locked, else at once. Following again only
    changes the options (reblogs, notify) and answers the current relationship."""
    target = await get_account(target_id)
    if target.id == follower_id:
        raise Forbidden(SELF_FOLLOW)
    follower = await Account.get(id=follower_id)
    if not target.is_local:
        raise ValidationFailed(REMOTE_FOLLOW)
    accepted = False
    async with in_transaction() as conn:
        await _lock_pair(conn, follower.id, target.id)
        if await _blocked_either_way(follower.id, target.id):
            raise Forbidden(NOT_ALLOWED)
        existing = await Follow.filter(follower_id=follower.id, followee_id=target.id).first()
        if existing is not None:
            await _change_options(existing, reblogs, notify_posts)
        else:
            accepted = not target.locked
            await _create_follow(follower, target, accepted, reblogs, notify_posts)
    if accepted:
        await _followed(redis, follower.id, target.id)
    return await relationship(follower.id, target.id)


async def _change_options(follow: Follow, reblogs: bool | None, notify_posts: bool | None) -> None:
    changed = []
    if reblogs is not None and reblogs != follow.show_reblogs:
        follow.show_reblogs = reblogs
        changed.append("show_reblogs")
    if notify_posts is not None and notify_posts != follow.notify:
        follow.notify = notify_posts
        changed.append("notify")
    if changed:
        await follow.save(update_fields=changed)


async def _create_follow(
    follower: Account,
    target: Account,
    accepted: bool,
    reblogs: bool | None,
    notify_posts: bool | None,
) -> None:
    follow_id = next_id()
    await Follow.create(
        id=follow_id,
        follower_id=follower.id,
        followee_id=target.id,
        state=FollowState.ACCEPTED if accepted else FollowState.PENDING,
        uri=f"{follower.uri}#follows/{follow_id}",  # the Follow activity's id, for federation
        show_reblogs=True if reblogs is None else reblogs,
        notify=bool(notify_posts),
    )
    if accepted:
        await _count_follow(follower.id, target.id, +1)
        await notify.notify(NotificationType.FOLLOW, target.id, follower.id)
    else:
        await notify.notify(NotificationType.FOLLOW_REQUEST, target.id, follower.id)


async def unfollow(redis: Redis, follower_id: int, target_id: int) -> Relationship:
    """Stop following, or withdraw a pending request."""
    target = await get_account(target_id)
    async with in_transaction() as conn:
        await _lock_pair(conn, follower_id, target.id)
        state = await _delete_follow(conn, follower_id, target.id)
    if state is FollowState.ACCEPTED:
        await forget_accounts(redis, [follower_id, target.id])
        await timelines.remove_author(redis, follower_id, target.id)
    return await relationship(follower_id, target.id)


async def authorize(redis: Redis, me: int, requester_id: int) -> Relationship:
    """Accept a pending follow request from ``requester_id`` (404 if there is none)."""
    requester = await get_account(requester_id)
    if not requester.is_local:
        raise ValidationFailed(REMOTE_REQUEST)
    async with in_transaction() as conn:
        await _lock_pair(conn, me, requester.id)
        changed = await Follow.filter(
            follower_id=requester.id, followee_id=me, state=FollowState.PENDING
        ).update(state=FollowState.ACCEPTED)
        if not changed:
            raise NotFound("Record not found")
        await _count_follow(requester.id, me, +1)
        await notify.withdraw(NotificationType.FOLLOW_REQUEST, me, requester.id)
        await notify.notify(NotificationType.FOLLOW, me, requester.id)
    await _followed(redis, requester.id, me)
    return await relationship(me, requester.id)


async def reject(me: int, requester_id: int) -> Relationship:
    """Refuse a pending follow request (404 if there is none)."""
    requester = await get_account(requester_id)
    if not requester.is_local:
        raise ValidationFailed(REMOTE_REQUEST)
    async with in_transaction() as conn:
        await _lock_pair(conn, me, requester.id)
        pending = await Follow.filter(
            follower_id=requester.id, followee_id=me, state=FollowState.PENDING
        ).exists()
        if not pending:
            raise NotFound("Record not found")
        await _delete_follow(conn, requester.id, me)
    return await relationship(me, requester.id)


# --- blocks and mutes ---------------------------------------------------------------------


async def block(redis: Redis, me_id: int, target_id: int) -> Relationship:
    """Block: no follows or requests either way, and each out of the other's home timeline.
    Blocking yourself changes nothing (as Mastodon)."""
    target = await get_account(target_id)
    if target.id == me_id:
        return await relationship(me_id, me_id)
    me = await Account.get(id=me_id)
    async with in_transaction() as conn:
        await _lock_pair(conn, me.id, target.id)
        block_id = next_id()
        await conn.execute_query(
            "INSERT INTO blocks (id, created_at, account_id, target_id, uri) "
            "VALUES ($1, now(), $2, $3, $4) ON CONFLICT (account_id, target_id) DO NOTHING",
            [block_id, me.id, target.id, f"{me.uri}#blocks/{block_id}"],
        )
        states = [
            await _delete_follow(conn, me.id, target.id),
            await _delete_follow(conn, target.id, me.id),
        ]
    if FollowState.ACCEPTED in states:
        await forget_accounts(redis, [me.id, target.id])
    await timelines.remove_author(redis, me.id, target.id)
    await timelines.remove_author(redis, target.id, me.id)
    return await relationship(me.id, target.id)


async def unblock(me: int, target_id: int) -> Relationship:
    target = await get_account(target_id)
    await Block.filter(account_id=me, target_id=target.id).delete()
    return await relationship(me, target.id)


async def mute(
    redis: Redis, me: int, target_id: int, *, notifications: bool = True, duration: int = 0
) -> Relationship:
    """Mute (again: the new options replace the old); ``duration`` seconds, 0 = for ever."""
    target = await get_account(target_id)
    if target.id == me:
        return await relationship(me, me)
    expires_at = now() + timedelta(seconds=duration) if duration > 0 else None
    await connections.get("default").execute_query(
        "INSERT INTO mutes (id, created_at, account_id, target_id, hide_notifications, expires_at) "
        "VALUES ($1, now(), $2, $3, $4, $5) ON CONFLICT (account_id, target_id) DO UPDATE "
        "SET hide_notifications = EXCLUDED.hide_notifications, expires_at = EXCLUDED.expires_at",
        [next_id(), me, target.id, notifications, expires_at],
    )
    await timelines.remove_author(redis, me, target.id)
    return await relationship(me, target.id)


async def unmute(me: int, target_id: int) -> Relationship:
    target = await get_account(target_id)
    await connections.get("default").execute_query(
        "DELETE FROM mutes WHERE account_id = $1 AND target_id = $2", [me, target.id]
    )
    return await relationship(me, target.id)
