"""Undo: a remote account takes back a Follow, Like, Announce or Block. When the activity it
undoes has not reached us yet, its id becomes a tombstone, so it is dropped when it does."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from models.posts import Post
from models.relationships import FollowState, Like
from services import follows
from services.deletion import tombstone
from services.domains import host_of
from services.inbound import DONE, IGNORED, Inbound, block
from services.inbound.lookup import local_account, post_by_uri
from services.interactions import remove_boost, remove_like
from services.postcache import load_posts


def _inner(inbound: Inbound) -> tuple[str | None, dict[str, object]]:
    embedded = inbound.activity.object or {}
    kind = embedded.get("type")
    return (kind if isinstance(kind, str) else None), embedded


def _id_of(value: object) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


async def _undo_follow(inbound: Inbound, embedded: dict[str, object]) -> bool:
    target = await local_account(inbound.backends, _id_of(embedded.get("object")))
    if target is None:
        return False
    follower_id = inbound.actor.id
    async with in_transaction() as conn:
        await follows.lock_pair(conn, follower_id, target.id)
        removed = await follows.delete_follow(conn, follower_id, target.id)
    if removed is None:
        return False
    if removed.state is FollowState.ACCEPTED:
        await follows.after_removed(inbound.backends.redis, follower_id, target.id)
    return True


async def _undo_like(inbound: Inbound, like_uri: str | None, embedded: dict[str, object]) -> bool:
    like = (
        await Like.filter(account_id=inbound.actor.id, uri=like_uri).first() if like_uri else None
    )
    post_id = like.post_id if like is not None else None  # type: ignore[attr-defined]
    if post_id is None:
        post = await post_by_uri(inbound.backends, _id_of(embedded.get("object")))
        post_id = post["id"] if post else None
    original = (
        (await load_posts(inbound.backends.redis, [post_id])).get(post_id) if post_id else None
    )
    return original is not None and await remove_like(inbound.backends, inbound.actor, original)


async def _undo_announce(inbound: Inbound, announce_uri: str | None) -> bool:
    boost = await Post.filter(uri=announce_uri, author_id=inbound.actor.id).first()
    if boost is None or boost.boost_of_id is None:  # type: ignore[attr-defined]
        return False
    original_id = boost.boost_of_id  # type: ignore[attr-defined]
    original = (await load_posts(inbound.backends.redis, [original_id])).get(original_id)
    return original is not None and await remove_boost(inbound.backends, inbound.actor, original)


async def handle(inbound: Inbound) -> str:
    kind, embedded = _inner(inbound)
    undone_id = inbound.activity.object_id
    if kind == "Follow":
        done = await _undo_follow(inbound, embedded)
    elif kind == "Like":
        done = await _undo_like(inbound, undone_id, embedded)
    elif kind == "Announce" or (kind is None and await Post.exists(uri=undone_id or "")):
        done = await _undo_announce(inbound, undone_id)
    elif kind == "Block":
        return await block.undo(inbound, undone_id)
    else:
        done = False
    if not done and undone_id and host_of(undone_id) == host_of(inbound.actor.uri):
        await tombstone(undone_id)  # the activity it undoes may still be on its way
    return DONE if done else IGNORED
