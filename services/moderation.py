"""Moderating accounts: suspend, silence, disable, and their undoing; purging a suspended one.

Every action is reversible until an explicit ``purge``: a suspension hides the account and its
content everywhere (reads check ``suspended_at``: timelines and posts through
services/statuses, look-ups, search, notifications) but deletes nothing. Its effects are at
once: the account's snapshot is forgotten from the cache, its tokens revoked, its browser
sessions ended, and a local account's peers hear a ``Delete`` of the actor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from tortoise.timezone import now
from tortoise.transactions import in_transaction

from activitypub import render
from activitypub.vocab import PUBLIC
from models.accounts import Account, Role, User
from models.ids import next_id
from models.oauth import AccessToken
from models.relationships import Follow, FollowState
from services import activities, deletion, federate, streams, web_sessions
from services.backends import Backends
from services.errors import Forbidden, NotFound
from services.oauth import forget_token_contexts
from services.postcache import forget_accounts

MAX_ID = 2**63 - 1
_RANK = {Role.USER: 0, Role.MODERATOR: 1, Role.ADMIN: 2}


@dataclass(frozen=True)
class Moderator:
    """Who takes an action: a moderator's or admin's account and role."""

    account_id: int
    role: Role


async def target(account_id: int) -> Account:
    """Any account by id, suspended or not (moderators see them all)."""
    if not 0 < account_id <= MAX_ID:
        raise NotFound("Record not found")
    account = await Account.filter(id=account_id).first()
    if account is None:
        raise NotFound("Record not found")
    return account


async def check_may_act(by: Moderator, account: Account) -> User | None:
    """Refuse actions on oneself, the instance actor, and staff of the same or a higher role
    (a moderator cannot suspend an admin). Answers the target's login, if local."""
    if by.account_id == account.id:
        raise Forbidden("You cannot moderate your own account")
    if account.actor_type == "Application":
        raise Forbidden("The instance actor cannot be moderated")
    user = await User.filter(account_id=account.id).first() if account.is_local else None
    if user is not None and user.role != Role.USER and _RANK[by.role] <= _RANK[user.role]:
        raise Forbidden("Only an admin may act on a moderator, and no one on an admin")
    return user


# --- ending a login's access at once ---------------------------------------------------------


async def end_access(redis: Redis, user_id: int) -> None:
    """Revoke every API token of the user (and their cached contexts) and end their sessions."""
    digests = await AccessToken.filter(user_id=user_id, revoked_at__isnull=True).values_list(
        "token_hash", flat=True
    )
    await AccessToken.filter(user_id=user_id, revoked_at__isnull=True).update(revoked_at=now())
    await forget_token_contexts(redis, list(digests))
    await web_sessions.end_all(redis, user_id)
    accounts = await User.filter(id=user_id).values_list("account_id", flat=True)
    await streams.access_changed(redis, *accounts)  # open streams end now, not within a minute


# --- suspend --------------------------------------------------------------------------------


def delete_actor_activity(account: Account) -> dict[str, Any]:
    """Mastodon's shape: the actor deletes itself, addressed to the public. Its id is new each
    time: after an unsuspension, a second suspension must reach the peers again."""
    activity_id = f"{account.uri}#delete/{next_id()}"
    return render.activity("Delete", activity_id, account.uri, account.uri, to=[PUBLIC])


async def _peer_inboxes(account: Account) -> list[str]:
    """Every server that knows the account through a follow, one (shared) inbox each."""
    followees = await Follow.filter(
        follower_id=account.id, state=FollowState.ACCEPTED, followee__domain__isnull=False
    ).values_list("followee_id", flat=True)
    return [*await federate.follower_inboxes(account.id), *await federate.inboxes_of(followees)]


async def suspend(backends: Backends, account_id: int, by: Moderator) -> Account:
    """Hide the account and everything it wrote, everywhere, at once; keep the data. A local
    account also loses its tokens and sessions, and its peers hear a Delete of the actor."""
    account = await target(account_id)
    user = await check_may_act(by, account)
    if account.suspended_at is not None:
        return account
    deliveries: list[int] = []
    async with in_transaction():
        account.suspended_at = now()
        await account.save(update_fields=["suspended_at", "updated_at"])
        if account.is_local:
            inboxes = await _peer_inboxes(account)
            deliveries = await federate.queue(account, delete_actor_activity(account), inboxes)
    await forget_accounts(backends.redis, [account.id])
    if user is not None:
        await end_access(backends.redis, user.id)
    await federate.send(backends.queue, deliveries)
    return account


async def unsuspend(backends: Backends, account_id: int, by: Moderator) -> Account:
    """Show the account and its content again; a local account's peers hear an Update of the
    actor, so servers that deleted it on our Delete can fetch it again."""
    account = await target(account_id)
    await check_may_act(by, account)
    if account.suspended_at is None:
        raise Forbidden("The account is not suspended")
    deliveries: list[int] = []
    async with in_transaction():
        account.suspended_at = None
        await account.save(update_fields=["suspended_at", "updated_at"])
        if account.is_local:
            update = activities.update_actor_activity(account, backends.settings, next_id())
            deliveries = await federate.queue(account, update, await _peer_inboxes(account))
    await forget_accounts(backends.redis, [account.id])
    await federate.send(backends.queue, deliveries)
    return account


# --- silence ----------------------------------------------------------------------------------


async def silence(backends: Backends, account_id: int, by: Moderator) -> Account:
    """Keep the account out of public timelines and search; its new public posts go out
    unlisted, and only its followers hear from it (services/posting, services/notify)."""
    account = await target(account_id)
    await check_may_act(by, account)
    if account.silenced_at is None:
        account.silenced_at = now()
        await account.save(update_fields=["silenced_at", "updated_at"])
        await forget_accounts(backends.redis, [account.id])
    return account


async def unsilence(backends: Backends, account_id: int, by: Moderator) -> Account:
    account = await target(account_id)
    await check_may_act(by, account)
    if account.silenced_at is None:
        raise Forbidden("The account is not silenced")
    account.silenced_at = None
    await account.save(update_fields=["silenced_at", "updated_at"])
    await forget_accounts(backends.redis, [account.id])
    return account


# --- disable (a local login only: the account stays visible) ----------------------------------


async def disable(backends: Backends, account_id: int, by: Moderator) -> Account:
    """The user can no longer sign in or use tokens; their account and posts stay visible."""
    account = await target(account_id)
    user = await check_may_act(by, account)
    if user is None:
        raise Forbidden("Only a local account's login can be disabled")
    if user.disabled_at is None:
        user.disabled_at = now()
        await user.save(update_fields=["disabled_at"])
    await end_access(backends.redis, user.id)
    return account


async def enable(account_id: int, by: Moderator) -> Account:
    account = await target(account_id)
    user = await check_may_act(by, account)
    if user is None or user.disabled_at is None:
        raise Forbidden("The login is not disabled")
    user.disabled_at = None
    await user.save(update_fields=["disabled_at"])
    return account


# --- purge --------------------------------------------------------------------------------


async def purge(backends: Backends, account_id: int, by: Moderator) -> Account:
    """Delete a suspended account's content for good (posts, follows, likes, notifications);
    a local one loses its login too. The account row stays, suspended, so its name is not
    taken again and nothing it signed is accepted. Only for suspended accounts."""
    account = await target(account_id)
    user = await check_may_act(by, account)
    if account.suspended_at is None:
        raise Forbidden("Only a suspended account can be deleted")
    await deletion.purge_rows(backends, account)
    if user is not None:
        await end_access(backends.redis, user.id)
        await User.filter(id=user.id).delete()
    return await target(account_id)
