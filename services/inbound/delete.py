"""Delete: a remote post is gone (it becomes a tombstone), or a whole remote account is (its
content here goes with it). A Delete that comes before its Create leaves a tombstone too."""

from __future__ import annotations

from models.posts import Post
from services.deletion import purge_account, remove_post, tombstone
from services.inbound import DONE, IGNORED, Inbound


async def handle(inbound: Inbound) -> str:
    object_id = inbound.activity.object_id
    if object_id is None:
        return IGNORED
    if object_id == inbound.actor.uri:
        await purge_account(inbound.backends, inbound.actor)
        return DONE
    post = await Post.filter(uri=object_id, author_id=inbound.actor.id).first()
    if post is None:
        if await Post.filter(uri=object_id).exists():
            return IGNORED  # someone else's post: not theirs to delete
        await tombstone(object_id)
        return IGNORED
    await remove_post(inbound.backends, post)
    return DONE
