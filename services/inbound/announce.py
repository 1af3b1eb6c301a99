"""Announce: a remote account boosts a post. Stored when its author is ours or the booster has
local followers; a post we do not hold is fetched from its own server (depth-limited)."""

from __future__ import annotations

from activitypub import parse
from models.posts import Visibility
from models.relationships import Follow, FollowState
from services.deletion import is_tombstoned
from services.inbound import DONE, IGNORED, Inbound
from services.inbound.lookup import post_by_uri
from services.interactions import add_boost
from services.postcache import load_posts
from services.remote.notes import fetch_post

BOOSTABLE = (Visibility.PUBLIC, Visibility.UNLISTED)


async def _has_local_followers(account_id: int) -> bool:
    return await Follow.filter(
        followee_id=account_id, state=FollowState.ACCEPTED, follower__domain__isnull=True
    ).exists()


async def handle(inbound: Inbound) -> str:
    activity, backends = inbound.activity, inbound.backends
    if not activity.object_id or await is_tombstoned(inbound.activity_id):
        return IGNORED
    original = await post_by_uri(backends, activity.object_id)
    followed = await _has_local_followers(inbound.actor.id)
    if original is None and followed:
        post_id = await fetch_post(backends, activity.object_id, depth=1)
        original = (await load_posts(backends.redis, [post_id])).get(post_id) if post_id else None
    if original is None or original["boost_of_id"]:
        return IGNORED
    if Visibility(original["visibility"]) not in BOOSTABLE:
        return IGNORED  # only public and unlisted posts may be boosted by others
    if not followed and not original["local"]:
        return IGNORED  # neither the booster's followers nor the author are here
    chosen = Visibility(
        parse.visibility(activity.to, activity.cc, inbound.actor.followers_uri or None)
    )
    if chosen not in BOOSTABLE and chosen != Visibility.FOLLOWERS:
        chosen = Visibility.FOLLOWERS
    await add_boost(backends, inbound.actor, original, chosen, uri=inbound.activity_id or None)
    return DONE
