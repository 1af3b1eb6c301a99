"""Sign-ups as moderators see them: staff are told of each one, and approve or reject those
that wait (the approval registration mode, services/instance)."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from models.accounts import Account, User
from services.backends import Backends
from services.errors import Forbidden
from services.moderation import Moderator, check_may_act, target
from services.postcache import forget_accounts


async def _pending(account_id: int, by: Moderator) -> tuple[Account, User]:
    account = await target(account_id)
    user = await check_may_act(by, account)
    if user is None or user.approved:
        raise Forbidden("The account is not waiting for approval")
    return account, user


async def approve(backends: Backends, account_id: int, by: Moderator) -> Account:
    """The user may sign in from now on."""
    account, user = await _pending(account_id, by)
    user.approved = True
    await user.save(update_fields=["approved"])
    await forget_accounts(backends.redis, [account.id])
    return account


async def reject(backends: Backends, account_id: int, by: Moderator) -> Account:
    """Delete the waiting user and their account (nobody has seen it: it never signed in);
    answers the account as it was. The name is free again."""
    account, _user = await _pending(account_id, by)
    async with in_transaction():
        await account.delete()  # the login, its tokens and notifications go with it (CASCADE)
    await forget_accounts(backends.redis, [account.id])
    return account
