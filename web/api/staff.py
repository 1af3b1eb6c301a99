"""The admin API's guard: a user token with the admin scope, held by a moderator or an admin.

Mastodon answers 403 ``{"error": "This action is not allowed"}`` to a user without the role.
The role is read from the database on every request, so a demotion takes effect at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from models.accounts import Role, User
from services.errors import Forbidden
from services.moderation import Moderator
from services.oauth import TokenContext
from services.roles import STAFF_ROLES
from web.api.auth import require_auth

View = Callable[..., Awaitable[Any]]


async def staff_of(token: TokenContext) -> Moderator:
    """The token's user as a Moderator, or Forbidden when they are neither staff role."""
    role = await User.filter(id=token.user_id).first().values_list("role", flat=True)
    if role is None or Role(role) not in STAFF_ROLES or token.account_id is None:
        raise Forbidden("This action is not allowed")
    return Moderator(account_id=token.account_id, role=Role(role))


def require_staff(scope: str) -> Callable[[View], View]:
    """``require_auth(scope)`` plus the staff check; the view receives ``staff``."""

    def decorate(view: View) -> View:
        @require_auth(scope)
        @wraps(view)
        async def wrapper(*args: Any, token: TokenContext, **kwargs: Any) -> Any:
            kwargs["staff"] = await staff_of(token)
            return await view(*args, **kwargs)

        return wrapper

    return decorate
