"""Staff roles: who is a moderator or an admin, and changing a user's role."""

from __future__ import annotations

from models.accounts import Role, User
from models.notifications import NotificationType
from services import notify
from services.errors import NotFound, ValidationFailed

STAFF_ROLES = frozenset({Role.MODERATOR, Role.ADMIN})


def parse_role(name: str) -> Role:
    """``admin``, ``moderator`` or ``user`` (any case); anything else is refused."""
    try:
        return Role(name.strip().lower())
    except ValueError:
        choices = ", ".join(role.value for role in Role)
        raise ValidationFailed(f"unknown role {name!r}: choose one of {choices}") from None


async def user_by_username(username: str) -> User:
    """The login of the local account ``username`` ("@name" works too)."""
    name = username.strip().lstrip("@").lower()
    user = (
        await User.filter(account__acct=name, account__domain__isnull=True)
        .select_related("account")
        .first()
    )
    if user is None:
        raise NotFound(f"no local user named @{name}")
    return user


async def set_role(user: User, role: Role) -> User:
    """Give ``user`` the role; it takes effect on their next request (pages and the admin
    API read the role from the database each time)."""
    if user.role != role:
        user.role = role
        await user.save(update_fields=["role"])
    return user


async def staff_account_ids() -> list[int]:
    """The accounts of every moderator and admin who can act now (for admin notifications)."""
    return await User.filter(
        role__in=list(STAFF_ROLES),
        disabled_at__isnull=True,
        account__suspended_at__isnull=True,
    ).values_list("account_id", flat=True)


async def tell_staff_of_sign_up(account_id: int) -> None:
    """An ``admin.sign_up`` notification for every moderator and admin (Mastodon's: the
    notification's account is the new one). Here, not in services/signups, so that signing up
    (services/accounts) does not import moderation, which imports services/oauth, which
    imports services/accounts."""
    staff = await staff_account_ids()
    await notify.notify_many(NotificationType.ADMIN_SIGN_UP, staff, account_id)
