"""Follows, blocks and mutes between accounts, and the Relationship a viewer sees of others.

Every change runs in ONE transaction that first takes an advisory lock on the pair of
accounts, so a follow racing a block (or two follows racing each other) cannot leave a
follow behind or count it twice. Counters move with F() in that transaction; account caches
and home timelines are fixed after the commit. Notifications go through services/notify.
A change that a remote account's server must hear of (Follow, Undo, Accept, Reject, Block)
is queued for delivery in the same transaction (services/federate).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from redis.asyncio import Redis
from tortoise import connections
from tortoise.timezone import now
from tortoise.transactions import in_transaction

from models.accounts import Account
from models.ids import next_id
from models.relationships import Block, Follow, FollowState
from services import activities, federate, follows, timelines, viewer_cache
from services.accounts import get_account
from services.backends import Backends
from services.errors import Forbidden, NotFound
from services.postcache import forget_accounts

# Mastodon's messages (accounts.self_follow_error; Mastodon::NotPermittedError).
SELF_FOLLOW = "Following your own account is not allowed"
NOT_ALLOWED = "This action is not allowed"
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


# --- federation ---------------------------------------------------------------------------


def _follow_doc(uri: str | None, follower: Account, followee: Account) -> dict[str, Any]:
    return follows.follow_document(uri or "", follower.uri, followee.uri)


# --- follows ------------------------------------------------------------------------------


async def follow(
    backends: Backends,
    follower_id: int,
    target_id: int,
    *,
    reblogs: bool | None = None,
    notify_posts: bool | None = None,
) -> Relationship:
    """Follow an account: at once if it is local and unlocked; otherwise a request, which a
    remote account's server answers with Accept or Reject. Following again only changes the
    options (reblogs, notify) and answers the current relationship."""
    target = await get_account(target_id)
    if target.id == follower_id:
        raise Forbidden(SELF_FOLLOW)
    follower = await Account.get(id=follower_id)
    accepted, deliveries, reblogs_changed = False, [], False
    async with in_transaction() as conn:
        await follows.lock_pair(conn, follower.id, target.id)
        if await follows.blocked_either_way(follower.id, target.id):
            raise Forbidden(NOT_ALLOWED)
        existing = await Follow.filter(follower_id=follower.id, followee_id=target.id).first()
        if existing is not None:
            reblogs_changed = await _change_options(existing, reblogs, notify_posts)
        else:
            accepted = target.is_local and not target.locked
            row = await follows.create_follow(
                follower, target, accepted=accepted, reblogs=reblogs, notify_posts=notify_posts
            )
            activity = activities.simple_activity(
                "Follow", row.uri or "", follower, target.uri, to=[target.uri]
            )
            deliveries = await federate.queue_for(follower, target, activity)
    await federate.send(backends.queue, deliveries)
    if accepted:
        await follows.after_accepted(backends.redis, follower.id, target.id)
    if reblogs_changed:  # a big author's boosts are merged by it (services/viewer_cache)
        await viewer_cache.changed(backends.redis, [follower.id])
    return await relationship(follower.id, target.id)


async def _change_options(follow: Follow, reblogs: bool | None, notify_posts: bool | None) -> bool:
    """Save the follow's new options; answers whether show_reblogs changed."""
    changed = []
    if reblogs is not None and reblogs != follow.show_reblogs:
        follow.show_reblogs = reblogs
        changed.append("show_reblogs")
    if notify_posts is not None and notify_posts != follow.notify:
        follow.notify = notify_posts
        changed.append("notify")
    if changed:
        await follow.save(update_fields=changed)
    return "show_reblogs" in changed


async def unfollow(backends: Backends, follower_id: int, target_id: int) -> Relationship:
    """Stop following, or withdraw a pending request (a remote account's server hears Undo)."""
    target = await get_account(target_id)
    follower = await Account.get(id=follower_id)
    deliveries: list[int] = []
    async with in_transaction() as conn:
        await follows.lock_pair(conn, follower_id, target.id)
        removed = await follows.delete_follow(conn, follower_id, target.id)
        if removed is not None:
            undo = activities.undo_activity(follower, _follow_doc(removed.uri, follower, target))
            deliveries = await federate.queue_for(follower, target, undo)
    await federate.send(backends.queue, deliveries)
    if removed is not None and removed.state is FollowState.ACCEPTED:
        await follows.after_removed(backends.redis, follower_id, target.id)
    return await relationship(follower_id, target.id)


async def authorize(backends: Backends, me_id: int, requester_id: int) -> Relationship:
    """Accept a pending follow request from ``requester_id`` (404 if there is none)."""
    requester = await get_account(requester_id)
    me = await Account.get(id=me_id)
    async with in_transaction() as conn:
        await follows.lock_pair(conn, me.id, requester.id)
        pending = await Follow.filter(
            follower_id=requester.id, followee_id=me.id, state=FollowState.PENDING
        ).first()
        if pending is None or not await follows.accept_pending(requester.id, me.id):
            raise NotFound("Record not found")
        deliveries = await federate.queue_for(
            me, requester, follows.answer("Accept", pending.uri, me, requester)
        )
    await federate.send(backends.queue, deliveries)
    await follows.after_accepted(backends.redis, requester.id, me.id)
    return await relationship(me.id, requester.id)


async def reject(backends: Backends, me_id: int, requester_id: int) -> Relationship:
    """Refuse a pending follow request (404 if there is none)."""
    requester = await get_account(requester_id)
    me = await Account.get(id=me_id)
    async with in_transaction() as conn:
        await follows.lock_pair(conn, me.id, requester.id)
        pending = await Follow.filter(
            follower_id=requester.id, followee_id=me.id, state=FollowState.PENDING
        ).first()
        if pending is None:
            raise NotFound("Record not found")
        await follows.delete_follow(conn, requester.id, me.id)
        deliveries = await federate.queue_for(
            me, requester, follows.answer("Reject", pending.uri, me, requester)
        )
    await federate.send(backends.queue, deliveries)
    return await relationship(me.id, requester.id)


# --- blocks and mutes ---------------------------------------------------------------------


async def block(backends: Backends, me_id: int, target_id: int) -> Relationship:
    """Block: no follows or requests either way, and each out of the other's home timeline.
    A remote account's server hears Undo (our follow), Reject (theirs) and Block, as
    Mastodon sends them. Blocking yourself changes nothing (as Mastodon)."""
    target = await get_account(target_id)
    if target.id == me_id:
        return await relationship(me_id, me_id)
    me = await Account.get(id=me_id)
    async with in_transaction() as conn:
        await follows.lock_pair(conn, me.id, target.id)
        block_id = next_id()
        await conn.execute_query(
            "INSERT INTO blocks (id, created_at, account_id, target_id, uri) "
            "VALUES ($1, now(), $2, $3, $4) ON CONFLICT (account_id, target_id) DO NOTHING",
            [block_id, me.id, target.id, f"{me.uri}#blocks/{block_id}"],
        )
        ours = await follows.delete_follow(conn, me.id, target.id)
        theirs = await follows.delete_follow(conn, target.id, me.id)
        deliveries = await _tell_block(me, target, ours, theirs)
    await federate.send(backends.queue, deliveries)
    if FollowState.ACCEPTED in (ours and ours.state, theirs and theirs.state):
        await forget_accounts(backends.redis, [me.id, target.id])
    await timelines.remove_author(backends.redis, me.id, target.id)
    await timelines.remove_author(backends.redis, target.id, me.id)
    await viewer_cache.relations_changed(backends.redis, me.id, target.id)
    return await relationship(me.id, target.id)


async def _tell_block(
    me: Account, target: Account, ours: follows.Removed | None, theirs: follows.Removed | None
) -> list[int]:
    if target.is_local:
        return []
    deliveries = []
    if ours is not None:
        undo = activities.undo_activity(me, _follow_doc(ours.uri, me, target))
        deliveries += await federate.queue_for(me, target, undo)
    if theirs is not None:
        deliveries += await federate.queue_for(
            me, target, follows.answer("Reject", theirs.uri, me, target)
        )
    row = await Block.get(account_id=me.id, target_id=target.id)
    block_doc = activities.simple_activity("Block", row.uri or "", me, target.uri, to=[target.uri])
    return deliveries + await federate.queue_for(me, target, block_doc)


async def unblock(backends: Backends, me_id: int, target_id: int) -> Relationship:
    target = await get_account(target_id)
    me = await Account.get(id=me_id)
    deliveries: list[int] = []
    async with in_transaction():
        row = await Block.filter(account_id=me.id, target_id=target.id).first()
        if row is not None:
            await Block.filter(id=row.id).delete()
            block_doc = activities.simple_activity(
                "Block", row.uri or "", me, target.uri, to=[target.uri]
            )
            deliveries = await federate.queue_for(
                me, target, activities.undo_activity(me, block_doc)
            )
    await federate.send(backends.queue, deliveries)
    await viewer_cache.relations_changed(backends.redis, me.id, target.id)
    return await relationship(me.id, target.id)


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
    await viewer_cache.relations_changed(redis, me)
    return await relationship(me, target.id)


async def unmute(redis: Redis, me: int, target_id: int) -> Relationship:
    target = await get_account(target_id)
    await connections.get("default").execute_query(
        "DELETE FROM mutes WHERE account_id = $1 AND target_id = $2", [me, target.id]
    )
    await viewer_cache.relations_changed(redis, me)
    return await relationship(me, target.id)
