"""Accounts as moderators look for them: local and remote, suspended or not, by name, domain,
e-mail, sign-up address, status and role (Mastodon's AccountFilter, for /admin and the admin
API). Unlike every other read, suspended accounts are included."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from models.accounts import Account, Role, User
from services.paging import Page
from services.roles import STAFF_ROLES


class Origin(StrEnum):
    LOCAL = "local"
    REMOTE = "remote"


class Status(StrEnum):
    ACTIVE = "active"  # neither suspended nor disabled nor pending
    PENDING = "pending"
    DISABLED = "disabled"
    SILENCED = "silenced"
    SUSPENDED = "suspended"


@dataclass(frozen=True)
class AccountFilter:
    """Every field narrows the list; None (or empty) leaves it out."""

    origin: Origin | None = None
    status: Status | None = None
    staff: bool = False
    roles: frozenset[Role] = frozenset()
    by_domain: str | None = None
    username: str | None = None
    display_name: str | None = None
    email: str | None = None
    ip: str | None = None
    # The one box of the /admin/accounts page: a name, acct, domain, e-mail or address.
    text: str | None = None


@dataclass(frozen=True)
class AdminAccount:
    """An account with its login when it is local (None for remote ones)."""

    account: Account
    user: User | None

    @property
    def pending(self) -> bool:
        return self.user is not None and not self.user.approved

    @property
    def disabled(self) -> bool:
        return self.user is not None and self.user.disabled_at is not None

    @property
    def role(self) -> Role:
        return self.user.role if self.user is not None else Role.USER


_STATUS = {
    Status.ACTIVE: Q(suspended_at__isnull=True)
    & (Q(domain__not_isnull=True) | Q(user__approved=True, user__disabled_at__isnull=True)),
    Status.PENDING: Q(user__approved=False),
    Status.DISABLED: Q(user__disabled_at__not_isnull=True),
    Status.SILENCED: Q(silenced_at__not_isnull=True),
    Status.SUSPENDED: Q(suspended_at__not_isnull=True),
}


def _clean(value: str | None) -> str | None:
    # Postgres text holds no NUL: such a search matches nothing rather than failing.
    value = (value or "").strip().replace("\x00", "")
    return value or None


def _text_query(text: str) -> Q:
    text = text.lstrip("@")
    name, _, host = text.partition("@")
    by_acct = Q(username__istartswith=name) & (Q(domain__istartswith=host) if host else Q())
    return (
        by_acct
        | Q(display_name__icontains=text)
        | Q(domain__icontains=text)
        | Q(user__email__icontains=text)
        | Q(user__sign_up_ip__startswith=text)
    )


def _filtered(wanted: AccountFilter) -> QuerySet[Account]:
    query = Account.filter(actor_type__not="Application")  # the instance actor is nobody
    if wanted.origin is Origin.LOCAL:
        query = query.filter(domain__isnull=True)
    elif wanted.origin is Origin.REMOTE:
        query = query.filter(domain__not_isnull=True)
    if wanted.status is not None:
        query = query.filter(_STATUS[wanted.status])
    roles = set(wanted.roles) | (set(STAFF_ROLES) if wanted.staff else set())
    if roles:
        query = query.filter(user__role__in=sorted(roles))
    if domain := _clean(wanted.by_domain):
        query = query.filter(domain__iexact=domain)
    if username := _clean(wanted.username):
        query = query.filter(username__istartswith=username)
    if display_name := _clean(wanted.display_name):
        query = query.filter(display_name__icontains=display_name)
    if email := _clean(wanted.email):
        query = query.filter(user__email__icontains=email)
    if ip := _clean(wanted.ip):
        query = query.filter(user__sign_up_ip__startswith=ip)
    if text := _clean(wanted.text):
        query = query.filter(_text_query(text))
    return query


def _paged(query: QuerySet[Account], page: Page) -> QuerySet[Account]:
    if page.max_id is not None:
        query = query.filter(id__lt=page.max_id)
    if page.lower is not None:
        query = query.filter(id__gt=page.lower)
    return query.order_by("id" if page.ascending else "-id").limit(page.limit)


async def _with_users(accounts: list[Account]) -> list[AdminAccount]:
    users = await User.filter(account_id__in=[a.id for a in accounts])
    by_account = {user.account_id: user for user in users}  # type: ignore[attr-defined]
    return [AdminAccount(account, by_account.get(account.id)) for account in accounts]


async def search(wanted: AccountFilter, page: Page) -> list[AdminAccount]:
    """A page of matching accounts, newest first."""
    accounts = await _paged(_filtered(wanted), page).distinct()
    accounts.sort(key=lambda account: account.id, reverse=True)
    return await _with_users(accounts)


async def one(account_id: int) -> AdminAccount | None:
    account = await Account.filter(id=account_id).first() if 0 < account_id < 2**63 else None
    if account is None:
        return None
    return (await _with_users([account]))[0]
