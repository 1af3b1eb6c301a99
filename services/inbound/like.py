"""Like (and Misskey's emoji reactions, which arrive as Likes or EmojiReacts): a remote account
likes a post we hold, if it may see it."""

from __future__ import annotations

from services.deletion import is_tombstoned
from services.inbound import DONE, IGNORED, Inbound
from services.inbound.lookup import post_by_uri
from services.interactions import add_like
from services.statuses import hydrate


async def handle(inbound: Inbound) -> str:
    post = await post_by_uri(inbound.backends, inbound.activity.object_id)
    if post is None or post["boost_of_id"] or await is_tombstoned(inbound.activity_id):
        return IGNORED
    seen = await hydrate(inbound.backends.redis, inbound.actor.id, [post["id"]])
    if not seen.posts:
        return IGNORED  # followers-only or direct, and the liker is not allowed to see it
    added = await add_like(inbound.backends, inbound.actor, post, uri=inbound.activity_id or None)
    return DONE if added else IGNORED
