"""Local accounts: registration, sign-in, profiles, look-ups."""

from __future__ import annotations

import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.exceptions import IntegrityError
from tortoise.timezone import now
from tortoise.transactions import in_transaction

from activitypub.keys import generate_key_pair
from instance.config import Settings
from models.accounts import Account, Role, User
from services.errors import NotFound, ValidationFailed

USERNAME = re.compile(r"^[a-z0-9_]{1,30}$", re.IGNORECASE)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8
MAX_PASSWORD = 128

_hasher = PasswordHasher()
# Verifying against this keeps sign-in time the same whether or not the login exists.
_DUMMY_HASH = _hasher.hash("not a real password")


@dataclass(frozen=True)
class NewAccount:
    username: str
    email: str
    password: str | None
    role: Role = Role.USER
    approved: bool = True
    display_name: str = ""
    reason: str = ""


def actor_uris(settings: Settings, username: str) -> dict[str, str]:
    """The ActivityPub URIs of a local actor, minted from our base URL."""
    base = f"{settings.base_url}/users/{username}"
    return {
        "uri": base,
        "url": f"{settings.base_url}/@{username}",
        "inbox_uri": f"{base}/inbox",
        "shared_inbox_uri": f"{settings.base_url}/inbox",
        "outbox_uri": f"{base}/outbox",
        "followers_uri": f"{base}/followers",
        "following_uri": f"{base}/following",
        "public_key_id": f"{base}#main-key",
    }


def validate_new_account(new: NewAccount) -> None:
    if not USERNAME.match(new.username):
        raise ValidationFailed(
            "Validation failed: username must be 1 to 30 letters, digits or underscores"
        )
    if not EMAIL.match(new.email) or len(new.email) > 320:
        raise ValidationFailed("Validation failed: email is not a valid e-mail address")
    if new.password is not None and not MIN_PASSWORD <= len(new.password) <= MAX_PASSWORD:
        raise ValidationFailed(
            f"Validation failed: password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters"
        )


async def create_local_account(settings: Settings, new: NewAccount) -> User:
    """A local account, its login and its key pair, written together or not at all."""
    validate_new_account(new)
    username = new.username
    if await Account.filter(acct=username.lower()).exists():
        raise ValidationFailed("Validation failed: username is already taken")
    if await User.filter(email=new.email.lower()).exists():
        raise ValidationFailed("Validation failed: email is already taken")
    keys = generate_key_pair()
    try:
        async with in_transaction():
            account = await Account.create(
                username=username,
                domain=None,
                acct=username.lower(),
                display_name=new.display_name,
                public_key=keys.public_pem,
                private_key=keys.private_pem,
                **actor_uris(settings, username),
            )
            user = await User.create(
                account=account,
                email=new.email.lower(),
                password_hash=_hasher.hash(new.password) if new.password else None,
                role=new.role,
                approved=new.approved,
                registration_reason=new.reason,
            )
    except IntegrityError:
        # Two sign-ups racing for the same name or address: the unique index decides.
        raise ValidationFailed("Validation failed: username or email is already taken") from None
    return user


async def authenticate(login: str, password: str) -> User | None:
    """The user whose e-mail or username is ``login`` and whose password matches, else None."""
    login = login.strip().lower()
    query = User.filter(email=login) if "@" in login else User.filter(account__acct=login)
    user = await query.select_related("account").first()
    if user is None or not user.password_hash:
        _verify(_DUMMY_HASH, password)
        return None
    if not _verify(user.password_hash, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_sign_in_at = now()
    await user.save(update_fields=["password_hash", "last_sign_in_at"])
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def get_account(account_id: int) -> Account:
    account = await Account.filter(id=account_id, suspended_at__isnull=True).first()
    if account is None:
        raise NotFound("Record not found")
    return account


async def lookup_account(acct: str, settings: Settings) -> Account:
    """By Mastodon ``acct``: "user", "@user", "user@our.domain" or "user@remote.host"."""
    acct = acct.strip().lstrip("@").lower()
    username, _, domain = acct.partition("@")
    key = username if domain in ("", settings.instance.domain.lower()) else f"{username}@{domain}"
    account = await Account.filter(acct=key, suspended_at__isnull=True).first()
    if account is None:
        raise NotFound("Record not found")
    return account
