"""Create: a remote post. Stored when it concerns someone here — its author has local
followers, it mentions or addresses a local account, or it replies to a post we hold — and
then reaches timelines and notifications by the same path as a local post."""

from __future__ import annotations

from activitypub import parse
from activitypub.errors import ParseError
from activitypub.parse import ParsedNote
from models.posts import Post
from models.relationships import Follow, FollowState
from services.domains import host_of
from services.inbound import DONE, IGNORED, Inbound
from services.remote.fetch import is_local_uri
from services.remote.notes import fetch_post, store_note


async def _relevant(inbound: Inbound, note: ParsedNote) -> bool:
    settings = inbound.backends.settings
    addressed = [*note.to, *note.cc, *(m.href for m in note.mentions)]
    if any(is_local_uri(settings, uri) for uri in addressed):
        return True
    if note.in_reply_to and (
        is_local_uri(settings, note.in_reply_to) or await Post.filter(uri=note.in_reply_to).exists()
    ):
        return True
    return await Follow.filter(
        followee_id=inbound.actor.id, state=FollowState.ACCEPTED, follower__domain__isnull=True
    ).exists()


async def handle(inbound: Inbound) -> str:
    activity = inbound.activity
    if activity.object is None:
        # Only the object's id: fetch it from its server rather than trust the sender.
        if activity.object_id is None or host_of(activity.object_id) != host_of(inbound.actor.uri):
            return IGNORED
        return DONE if await fetch_post(inbound.backends, activity.object_id) else IGNORED
    try:
        note = parse.parse_note(activity.object)
    except ParseError:
        return IGNORED  # not a kind of post we show (a chat message, a Tombstone...)
    if host_of(note.id) != host_of(inbound.actor.uri):
        raise ParseError("a Create of an object from another host")
    if not await _relevant(inbound, note):
        return IGNORED
    stored = await store_note(inbound.backends, note, inbound.actor)
    return DONE if stored else IGNORED
