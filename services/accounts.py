"""Local accounts: registration, sign-in, profiles, look-ups."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.exceptions import IntegrityError
from tortoise.timezone import now
from tortoise.transactions import in_transaction

from activitypub.keys import KeyPair, generate_key_pair
from instance.config import Settings
from models.accounts import Account, Role, User
from models.ids import next_id
from models.oauth import AccessToken
from models.relationships import Follow, FollowState
from services import activities, federate, oauth, roles
from services import instance as instance_service
from services.backends import Backends
from services.errors import Forbidden, NotFound, ValidationFailed
from services.postcache import forget_accounts

USERNAME = re.compile(r"^[a-z0-9_]+$", re.IGNORECASE)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LOCALE = re.compile(r"^[a-z]{2,3}([_-][a-z0-9]{2,8})*$", re.IGNORECASE)
MAX_USERNAME = 30
MAX_EMAIL = 320
MIN_PASSWORD = 8
MAX_PASSWORD = 128
MAX_REASON = 420  # Mastodon's InviteRequest::TEXT_SIZE_LIMIT
MAX_DISPLAY_NAME = 30
MAX_NOTE = 500
# Mastodon's default reserved names: nobody signs up as staff. The operator's CLI may use them.
RESERVED_USERNAMES = frozenset(
    {"admin", "administrator", "help", "mod", "moderator", "root", "support", "webmaster"}
)
# Postgres bigint: larger ids cannot exist, and asking for them would overflow the driver.
MAX_ID = 2**63 - 1
# Mastodon counts follow requests only this far for the credential account.
FOLLOW_REQUESTS_SHOWN = 40

_hasher = PasswordHasher()
# Verifying against this keeps sign-in time the same whether or not the login exists.
_DUMMY_HASH = _hasher.hash("not a real password")

Details = dict[str, list[dict[str, str]]]
# Runs inside a new account's transaction, after its rows are written.
AfterInsert = Callable[[User], Awaitable[object]]


@dataclass(frozen=True)
class NewAccount:
    username: str
    email: str
    password: str | None
    role: Role = Role.USER
    approved: bool = True
    display_name: str = ""
    reason: str = ""
    locale: str = "en"
    # Sign-ups by the public must accept the rules and may not take reserved names.
    self_service: bool = False
    agreement: bool = False
    ip: str | None = None  # where a sign-up came from, shown to moderators


@dataclass(frozen=True)
class Registration:
    user: User
    raw_token: str
    token: AccessToken


@dataclass(frozen=True)
class ProfileChanges:
    """What update_credentials may change; None leaves a value as it is."""

    display_name: str | None = None
    note: str | None = None
    locked: bool | None = None
    bot: bool | None = None
    discoverable: bool | None = None
    indexable: bool | None = None


@dataclass(frozen=True)
class Credentials:
    """The signed-in user's own view of their account (Mastodon's CredentialAccount)."""

    account: Account
    user: User
    follow_requests_count: int = 0


@dataclass
class _Errors:
    """Field errors collected Mastodon-style: every bad field reported at once, with ERR_ codes."""

    details: Details = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)

    def add(self, name: str, code: str, description: str) -> None:
        self.details.setdefault(name, []).append({"error": code, "description": description})
        self.messages.append(f"{name.replace('_', ' ').capitalize()} {description}")

    def raise_if_any(self) -> None:
        if self.details:
            raise invalid(self.details, ", ".join(self.messages))


def invalid(details: Details, summary: str) -> ValidationFailed:
    """A 422 whose body carries ``details`` per field, as Mastodon answers."""
    error = ValidationFailed(f"Validation failed: {summary}")
    error.details = details  # type: ignore[attr-defined]
    return error


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
        "featured_uri": f"{base}/collections/featured",
        "public_key_id": f"{base}#main-key",
    }


def _check_username(new: NewAccount, errors: _Errors) -> None:
    name = new.username
    if not name:
        errors.add("username", "ERR_BLANK", "can't be blank")
    elif len(name) > MAX_USERNAME:
        errors.add(
            "username", "ERR_TOO_LONG", f"is too long (maximum is {MAX_USERNAME} characters)"
        )
    elif not USERNAME.match(name):
        errors.add("username", "ERR_INVALID", "must contain only letters, numbers and underscores")
    elif new.self_service and name.lower() in RESERVED_USERNAMES:
        errors.add("username", "ERR_RESERVED", "is reserved")


def _check_password(password: str | None, errors: _Errors) -> None:
    if password is None:
        return
    if not password:
        errors.add("password", "ERR_BLANK", "can't be blank")
    elif len(password) < MIN_PASSWORD:
        errors.add(
            "password", "ERR_TOO_SHORT", f"is too short (minimum is {MIN_PASSWORD} characters)"
        )
    elif len(password) > MAX_PASSWORD:
        errors.add(
            "password", "ERR_TOO_LONG", f"is too long (maximum is {MAX_PASSWORD} characters)"
        )


def _check_no_nul(values: dict[str, str | None], errors: _Errors) -> None:
    # Postgres text cannot hold NUL: refuse it as invalid input rather than fail on insert.
    for name, value in values.items():
        if value and "\x00" in value:
            errors.add(name, "ERR_INVALID", "contains a NUL character")


def validate_new_account(new: NewAccount) -> None:
    """Every field's errors at once (422 with details), before touching the database."""
    errors = _Errors()
    _check_no_nul({"email": new.email, "password": new.password, "reason": new.reason}, errors)
    _check_username(new, errors)
    if not new.email:
        errors.add("email", "ERR_BLANK", "can't be blank")
    elif len(new.email) > MAX_EMAIL or not EMAIL.match(new.email):
        errors.add("email", "ERR_INVALID", "is invalid")
    _check_password(new.password, errors)
    if new.self_service and not new.agreement:
        errors.add("agreement", "ERR_ACCEPTED", "must be accepted")
    if not LOCALE.match(new.locale) or len(new.locale) > 16:
        errors.add("locale", "ERR_INCLUSION", "is not included in the list")
    if len(new.reason) > MAX_REASON:
        errors.add("reason", "ERR_TOO_LONG", f"is too long (maximum is {MAX_REASON} characters)")
    errors.raise_if_any()


async def _check_taken(new: NewAccount) -> None:
    errors = _Errors()
    if await Account.filter(acct=new.username.lower()).exists():
        errors.add("username", "ERR_TAKEN", "has already been taken")
    if await User.filter(email=new.email.lower()).exists():
        errors.add("email", "ERR_TAKEN", "has already been taken")
    errors.raise_if_any()


@dataclass(frozen=True)
class _Prepared:
    new: NewAccount
    keys: KeyPair
    password_hash: str | None


async def _prepare(new: NewAccount) -> _Prepared:
    """Validate, then do the slow work (RSA key, argon2) off the event loop and outside
    any transaction, so a sign-up holds a database connection only for its inserts."""
    validate_new_account(new)
    await _check_taken(new)
    keys = await asyncio.to_thread(generate_key_pair)
    password_hash = await asyncio.to_thread(_hasher.hash, new.password) if new.password else None
    return _Prepared(new=new, keys=keys, password_hash=password_hash)


async def _insert(settings: Settings, prepared: _Prepared) -> User:
    new = prepared.new
    account = await Account.create(
        username=new.username,
        domain=None,
        acct=new.username.lower(),
        display_name=new.display_name,
        public_key=prepared.keys.public_pem,
        private_key=prepared.keys.private_pem,
        **actor_uris(settings, new.username),
    )
    return await User.create(
        account=account,
        email=new.email.lower(),
        password_hash=prepared.password_hash,
        role=new.role,
        approved=new.approved,
        locale=new.locale,
        registration_reason=new.reason,
        sign_up_ip=new.ip,
    )


async def _taken_after_race(new: NewAccount) -> ValidationFailed:
    # Two sign-ups racing for the same name or address: the unique index decided; say which.
    try:
        await _check_taken(new)
    except ValidationFailed as exc:
        return exc
    return invalid(
        {"username": [{"error": "ERR_TAKEN", "description": "has already been taken"}]},
        "Username has already been taken",
    )


async def create_local_account(
    settings: Settings, new: NewAccount, *, then: AfterInsert | None = None
) -> User:
    """A local account, its login and its key pair, written together or not at all, with
    what ``then`` adds for the new user (its OpenID Connect identity, say)."""
    prepared = await _prepare(new)
    try:
        async with in_transaction():
            user = await _insert(settings, prepared)
            if then is not None:
                await then(user)
            return user
    except IntegrityError:
        raise await _taken_after_race(new) from None


def _check_passwords_allowed(settings: Settings, new: NewAccount) -> None:
    # auth.password_sign_in = false: accounts come from OpenID Connect sign-ins only.
    if new.password is not None and not settings.auth.password_sign_in:
        raise Forbidden("Sign-ups with a password are turned off on this server")


async def _self_service(new: NewAccount) -> NewAccount:
    """A sign-up by the public, as the instance's registration mode allows it (or Forbidden)."""
    mode = await instance_service.registration_mode()
    if mode is instance_service.RegistrationMode.CLOSED:
        raise Forbidden("This action is not allowed")
    approval = mode is instance_service.RegistrationMode.APPROVED
    if approval and not new.reason.strip() and await instance_service.reason_required():
        blank = {"error": "ERR_BLANK", "description": "can't be blank"}
        raise invalid({"reason": [blank]}, "Reason can't be blank")
    return replace(new, approved=mode is instance_service.RegistrationMode.OPEN, self_service=True)


async def sign_up(settings: Settings, new: NewAccount, *, then: AfterInsert | None = None) -> User:
    """Sign-up by the public on the web: as ``register``, without an app or a token."""
    _check_passwords_allowed(settings, new)
    user = await create_local_account(settings, await _self_service(new), then=then)
    await roles.tell_staff_of_sign_up(user.account_id)  # type: ignore[attr-defined]
    return user


async def register(
    settings: Settings, new: NewAccount, *, application_id: int | None, scopes: frozenset[str]
) -> Registration:
    """Sign-up by the public through an app: the account and the app's first token for it, in one
    transaction. Closed sign-ups are refused; in approval mode the login waits for a moderator."""
    _check_passwords_allowed(settings, new)
    new = await _self_service(new)
    prepared = await _prepare(new)
    try:
        async with in_transaction():
            user = await _insert(settings, prepared)
            raw, token = await oauth.issue_token(
                application_id=application_id, user_id=user.id, scopes=scopes
            )
    except IntegrityError:
        raise await _taken_after_race(new) from None
    await roles.tell_staff_of_sign_up(user.account_id)  # type: ignore[attr-defined]
    return Registration(user=user, raw_token=raw, token=token)


async def authenticate(login: str, password: str) -> User | None:
    """The user whose e-mail or username is ``login`` and whose password matches, else None."""
    if "\x00" in login or "\x00" in password:
        return None  # no stored login holds NUL, and PostgreSQL would refuse the query
    login = login.strip().lower()
    query = User.filter(email=login) if "@" in login else User.filter(account__acct=login)
    user = await query.select_related("account").first()
    if user is None or not user.password_hash:
        await asyncio.to_thread(_verify, _DUMMY_HASH, password)
        return None
    if not await asyncio.to_thread(_verify, user.password_hash, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = await asyncio.to_thread(_hasher.hash, password)
    user.last_sign_in_at = now()
    await user.save(update_fields=["password_hash", "last_sign_in_at"])
    return user


async def change_password(user_id: int, current: str, new_password: str) -> None:
    """Replace the password after checking the current one (422 naming the field if wrong).
    Ending other browser sessions is the caller's (services/web_sessions); API tokens stay."""
    user = await User.get(id=user_id)
    errors = _Errors()
    if not user.password_hash or not await asyncio.to_thread(_verify, user.password_hash, current):
        errors.add("current_password", "ERR_INVALID", "is invalid")
    _check_no_nul({"password": new_password}, errors)
    _check_password(new_password, errors)
    errors.raise_if_any()
    user.password_hash = await asyncio.to_thread(_hasher.hash, new_password)
    await user.save(update_fields=["password_hash"])


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def get_account(account_id: int) -> Account:
    if not 0 < account_id <= MAX_ID:
        raise NotFound("Record not found")
    account = await Account.filter(id=account_id, suspended_at__isnull=True).first()
    if account is None:
        raise NotFound("Record not found")
    return account


async def lookup_account(acct: str, settings: Settings) -> Account:
    """By Mastodon ``acct``: "user", "@user", "user@our.domain" or "user@remote.host"."""
    acct = acct.strip().lstrip("@").lower()
    if "\x00" in acct:
        raise NotFound("Record not found")
    username, _, domain = acct.partition("@")
    key = username if domain in ("", settings.instance.domain.lower()) else f"{username}@{domain}"
    account = await Account.filter(acct=key, suspended_at__isnull=True).first()
    if account is None:
        raise NotFound("Record not found")
    return account


def note_html(text: str) -> str:
    """A plain-text bio as HTML: escaped, blank lines make paragraphs, newlines make <br>."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip().replace("\r\n", "\n")) if p.strip()]
    return "".join(f"<p>{html.escape(p.strip()).replace(chr(10), '<br>')}</p>" for p in paragraphs)


async def get_credentials(user_id: int) -> Credentials:
    user = await User.filter(id=user_id).select_related("account").first()
    if user is None:
        raise NotFound("Record not found")
    requests = (
        await Follow.filter(followee_id=user.account.id, state=FollowState.PENDING)
        .limit(FOLLOW_REQUESTS_SHOWN)
        .values_list("id", flat=True)
    )
    return Credentials(account=user.account, user=user, follow_requests_count=len(requests))


def _check_profile(changes: ProfileChanges) -> None:
    errors = _Errors()
    _check_no_nul({"display_name": changes.display_name, "note": changes.note}, errors)
    if changes.display_name is not None and len(changes.display_name) > MAX_DISPLAY_NAME:
        limit = f"is too long (maximum is {MAX_DISPLAY_NAME} characters)"
        errors.add("display_name", "ERR_TOO_LONG", limit)
    if changes.note is not None and len(changes.note) > MAX_NOTE:
        errors.add("note", "ERR_TOO_LONG", f"is too long (maximum is {MAX_NOTE} characters)")
    errors.raise_if_any()


async def update_profile(backends: Backends, user_id: int, changes: ProfileChanges) -> Credentials:
    """Apply the changes that were given (the bio is kept as typed and as HTML); remote
    followers' servers hear an Update of the actor."""
    _check_profile(changes)
    credentials = await get_credentials(user_id)
    account = credentials.account
    updated = ["updated_at"]
    if changes.display_name is not None:
        account.display_name = changes.display_name.strip()
        updated.append("display_name")
    if changes.note is not None:
        account.note_source = changes.note
        account.note = note_html(changes.note)
        updated += ["note_source", "note"]
    for flag in ("locked", "bot", "discoverable", "indexable"):
        value = getattr(changes, flag)
        if value is not None:
            setattr(account, flag, value)
            updated.append(flag)
    if changes.bot is not None:
        # Peers read a bot from the actor's type, as Mastodon publishes it.
        account.actor_type = "Service" if changes.bot else "Person"
        updated.append("actor_type")
    async with in_transaction():
        await account.save(update_fields=updated)
        update = activities.update_actor_activity(account, backends.settings, next_id())
        deliveries = await federate.queue(
            account, update, await federate.follower_inboxes(account.id)
        )
    await forget_accounts(backends.redis, [account.id])
    await federate.send(backends.queue, deliveries)
    return credentials
