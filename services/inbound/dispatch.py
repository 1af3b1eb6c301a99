"""The dispatch table, and applying one stored ``InboxItem``: the row records the outcome."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from tortoise.timezone import now

from activitypub import parse
from activitypub.errors import FetchError, ProtocolError
from models.accounts import Account
from models.federation import InboxItem, InboxState
from services import logcontext
from services.backends import Backends
from services.errors import StarlingError
from services.inbound import (
    DONE,
    Handler,
    Inbound,
    accept,
    announce,
    block,
    create,
    delete,
    flag,
    follow,
    like,
    move,
    undo,
    update,
)
from services.remote.actors import REFRESH_JOB, is_stale

log = logging.getLogger(__name__)

# Unknown types (Add, Remove, Question votes...) are stored and ignored, never errors.
HANDLERS: dict[str, Handler] = {
    "Follow": follow.handle,
    "Accept": accept.handle_accept,
    "Reject": accept.handle_reject,
    "Undo": undo.handle,
    "Create": create.handle,
    "Update": update.handle,
    "Delete": delete.handle,
    "Like": like.handle,
    "EmojiReact": like.handle,  # Misskey / Pleroma reactions count as likes here
    "Announce": announce.handle,
    "Block": block.handle,
    "Move": move.handle,
    "Flag": flag.handle,
}

MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Outcome:
    state: InboxState
    retry: bool = False  # try again later (a fetch that may work then)


async def process(backends: Backends, item_id: int) -> Outcome:
    """Apply one pending item; the row is updated with what happened."""
    item = await InboxItem.filter(id=item_id).first()
    if item is None or item.state is not InboxState.PENDING:
        return Outcome(InboxState.DONE if item else InboxState.IGNORED)
    logcontext.activity_id.set(item.activity_id)  # on every log line while it is applied
    try:
        state = await _apply(backends, item)
    except FetchError as exc:
        retry = exc.retryable and item.attempts + 1 < MAX_ATTEMPTS
        return await _record(item, InboxState.PENDING if retry else InboxState.FAILED, exc.message)
    except (ProtocolError, StarlingError) as exc:
        return await _record(item, InboxState.FAILED, exc.message)
    return await _record(item, state, "")


async def _apply(backends: Backends, item: InboxItem) -> InboxState:
    activity = parse.parse_activity(item.payload)
    handler = HANDLERS.get(activity.type)
    if handler is None:
        return InboxState.IGNORED
    actor = await Account.filter(uri=activity.actor, suspended_at__isnull=True).first()
    if actor is None or actor.is_local:
        return InboxState.IGNORED  # the actor went away (or was suspended) since it was received
    if is_stale(actor):
        await backends.queue.enqueue_job(REFRESH_JOB, actor.id, _job_id=f"refresh:{actor.id}")
    outcome = await handler(Inbound(backends=backends, activity=activity, actor=actor))
    return InboxState.DONE if outcome == DONE else InboxState.IGNORED


async def _record(item: InboxItem, state: InboxState, error: str) -> Outcome:
    item.state = state
    item.attempts += 1
    item.last_error = error[:2000]
    fields = ["state", "attempts", "last_error"]
    if state is not InboxState.PENDING:
        item.processed_at = now()
        fields.append("processed_at")
    await item.save(update_fields=fields)
    if error:
        log.info(
            "inbox item not applied",
            extra={"item": item.id, "activity_id": item.activity_id, "error": error},
        )
    return Outcome(state, retry=state is InboxState.PENDING)
