"""Follow: a remote account follows one of ours. Accepted at once (and told so), or a follow
request when the account is locked; refused (Reject) when either blocks the other."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from models.accounts import Account
from models.relationships import Follow, FollowState
from services import federate, follows
from services.deletion import is_tombstoned
from services.inbound import DONE, IGNORED, Inbound
from services.inbound.lookup import local_account


async def handle(inbound: Inbound) -> str:
    target = await local_account(inbound.backends, inbound.activity.object_id)
    follow_uri = inbound.activity_id
    if target is None or not follow_uri or await is_tombstoned(follow_uri):
        return IGNORED
    follower = inbound.actor
    accepted = False
    async with in_transaction() as conn:
        await follows.lock_pair(conn, follower.id, target.id)
        if await follows.blocked_either_way(follower.id, target.id):
            kind = "Reject"
        else:
            accepted, kind = await _follow(follower, target, follow_uri)
        deliveries = []
        if kind:
            activity = follows.answer(kind, follow_uri, target, follower)
            deliveries = await federate.queue_for(target, follower, activity)
    await federate.send(inbound.backends.queue, deliveries)
    if accepted:
        await follows.after_accepted(inbound.backends.redis, follower.id, target.id)
    return DONE


async def _follow(follower: Account, target: Account, follow_uri: str) -> tuple[bool, str]:
    """(newly accepted, the answer to send: "Accept", or "" while the request waits)."""
    existing = await Follow.filter(follower_id=follower.id, followee_id=target.id).first()
    if existing is not None:
        if existing.uri != follow_uri:
            # Their server asks again (it lost our Accept): the new id is the one it waits on.
            await Follow.filter(id=existing.id).update(uri=follow_uri)
        return False, "Accept" if existing.state is FollowState.ACCEPTED else ""
    accepted = not target.locked
    await follows.create_follow(follower, target, accepted=accepted, uri=follow_uri)
    return accepted, "Accept" if accepted else ""
