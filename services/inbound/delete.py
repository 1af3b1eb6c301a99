"""Delete: a remote post is gone (it becomes a tombstone), or a whole remote account is (its
content here goes with it). A Delete that comes before its Create leaves a tombstone too."""

from __future__ import annotations

from models.posts import Post
from services.deletion import purge_account, remove_post, tombstone
from services.domains import host_of
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
        if host_of(object_id) == host_of(inbound.actor.uri):
            await tombstone(object_id)  # its Create may still be on its way: drop it then
        return IGNORED  # nothing of theirs by that id (someone else's is not theirs to delete)
    await remove_post(inbound.backends, post)
    return DONE
