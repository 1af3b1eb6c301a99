"""Block: a remote account blocks one of ours. Follows end both ways, and the block is kept,
so the blocker's posts stay out of our user's timelines and it hears nothing from them."""

from __future__ import annotations

from tortoise import connections
from tortoise.transactions import in_transaction

from models.ids import next_id
from models.relationships import Block, FollowState
from services import follows, timelines, viewer_cache
from services.deletion import is_tombstoned
from services.inbound import DONE, IGNORED, Inbound
from services.inbound.lookup import local_account
from services.postcache import forget_accounts


async def handle(inbound: Inbound) -> str:
    target = await local_account(inbound.backends, inbound.activity.object_id)
    if target is None or await is_tombstoned(inbound.activity_id):
        return IGNORED
    blocker = inbound.actor
    async with in_transaction() as conn:
        await follows.lock_pair(conn, blocker.id, target.id)
        await connections.get("default").execute_query(
            "INSERT INTO blocks (id, created_at, account_id, target_id, uri) "
            "VALUES ($1, now(), $2, $3, $4) ON CONFLICT (account_id, target_id) DO NOTHING",
            [next_id(), blocker.id, target.id, inbound.activity_id or None],
        )
        removed = [
            await follows.delete_follow(conn, blocker.id, target.id),
            await follows.delete_follow(conn, target.id, blocker.id),
        ]
    redis = inbound.backends.redis
    if any(r is not None and r.state is FollowState.ACCEPTED for r in removed):
        await forget_accounts(redis, [blocker.id, target.id])
    await timelines.remove_author(redis, target.id, blocker.id)
    await viewer_cache.relations_changed(redis, target.id)
    return DONE


async def undo(inbound: Inbound, block_uri: str | None) -> str:
    """Undo(Block): by the Block's id, else the actor's block of the account it names."""
    rows = Block.filter(account_id=inbound.actor.id)
    redis = inbound.backends.redis
    if block_uri:
        by_uri = rows.filter(uri=block_uri)
        targets = await by_uri.values_list("target_id", flat=True)
        if targets and await by_uri.delete():
            await viewer_cache.relations_changed(redis, *targets)  # type: ignore[arg-type]
            return DONE
    target = await local_account(inbound.backends, _object_of(inbound))
    if target is not None and await rows.filter(target_id=target.id).delete():
        await viewer_cache.relations_changed(redis, target.id)
        return DONE
    return IGNORED


def _object_of(inbound: Inbound) -> str | None:
    embedded = inbound.activity.object or {}
    value = embedded.get("object")
    return value if isinstance(value, str) else None
