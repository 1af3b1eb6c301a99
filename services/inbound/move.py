"""Move: a remote account says it moved. We record where to (clients show it); moving its
local followers over may come later."""

from __future__ import annotations

from models.accounts import Account
from services.inbound import DONE, IGNORED, Inbound
from services.postcache import forget_accounts


async def handle(inbound: Inbound) -> str:
    activity = inbound.activity
    if activity.object_id != inbound.actor.uri or not activity.target:
        return IGNORED  # only an account can move itself
    if len(activity.target) > 1024:
        return IGNORED
    await Account.filter(id=inbound.actor.id).update(moved_to_uri=activity.target)
    await forget_accounts(inbound.backends.redis, [inbound.actor.id])
    return DONE
