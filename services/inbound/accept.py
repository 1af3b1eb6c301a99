"""Accept and Reject: a remote account answers one of our follow requests."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from models.relationships import Follow, FollowState
from services import follows
from services.inbound import DONE, IGNORED, Inbound
from services.inbound.lookup import local_account


async def _our_follow(inbound: Inbound) -> Follow | None:
    """The follow of ours the answer is about: by the Follow's id, else by who follows whom
    (some servers answer with a Follow of their own making)."""
    activity = inbound.activity
    follow = None
    if activity.object_id:
        follow = await Follow.filter(uri=activity.object_id, followee_id=inbound.actor.id).first()
    if follow is None and activity.object is not None:
        follower = await local_account(inbound.backends, _actor_of(activity.object))
        if follower is not None:
            follow = await Follow.filter(
                follower_id=follower.id, followee_id=inbound.actor.id
            ).first()
    return follow


def _actor_of(embedded: dict[str, object]) -> str | None:
    actor = embedded.get("actor")
    if isinstance(actor, dict):
        actor = actor.get("id")
    return actor if isinstance(actor, str) else None


async def handle_accept(inbound: Inbound) -> str:
    follow = await _our_follow(inbound)
    if follow is None or follow.state is not FollowState.PENDING:
        return IGNORED
    follower_id, followee_id = follow.follower_id, follow.followee_id  # type: ignore[attr-defined]
    async with in_transaction() as conn:
        await follows.lock_pair(conn, follower_id, followee_id)
        accepted = await follows.accept_pending(follower_id, followee_id)
    if not accepted:
        return IGNORED
    await follows.after_accepted(inbound.backends.redis, follower_id, followee_id)
    return DONE


async def handle_reject(inbound: Inbound) -> str:
    """A refused request, or a follow the remote account ended (Mastodon: "remove follower")."""
    follow = await _our_follow(inbound)
    if follow is None:
        return IGNORED
    follower_id, followee_id = follow.follower_id, follow.followee_id  # type: ignore[attr-defined]
    async with in_transaction() as conn:
        await follows.lock_pair(conn, follower_id, followee_id)
        removed = await follows.delete_follow(conn, follower_id, followee_id)
    if removed is not None and removed.state is FollowState.ACCEPTED:
        await follows.after_removed(inbound.backends.redis, follower_id, followee_id)
    return DONE
