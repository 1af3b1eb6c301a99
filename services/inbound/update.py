"""Update: a remote account changed its profile, or edited a post of its own."""

from __future__ import annotations

from activitypub import parse
from activitypub.errors import ParseError
from services.inbound import DONE, IGNORED, Inbound
from services.remote.actors import upsert_actor
from services.remote.notes import apply_edit


async def handle(inbound: Inbound) -> str:
    obj = inbound.activity.object
    if obj is None:
        return IGNORED
    if parse.first_id(obj) == inbound.actor.uri:
        actor = parse.parse_actor(obj)
        await upsert_actor(inbound.backends, actor, inbound.actor.domain)
        return DONE
    try:
        note = parse.parse_note(obj)
    except ParseError:
        return IGNORED  # an Update of something we do not keep (a poll's votes, a collection)
    if note.attributed_to.split("#", 1)[0] != inbound.actor.uri:
        raise ParseError("an Update of someone else's post")
    return DONE if await apply_edit(inbound.backends, note, inbound.actor) else IGNORED
