"""Local accounts behind OpenID Connect identities: who an (issuer, subject) is here, and the
account a first sign-in creates.

An identity is never linked to an existing local account by its e-mail address, not even one
the provider calls verified: providers differ in what they verify, and whoever holds a provider
account showing someone's address would take over that person's account here. An identity gets
a user only by creating an account with it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass

import orjson
from redis.asyncio import Redis
from tortoise.timezone import now

from instance.config import Settings
from models.accounts import Identity, User
from services import accounts, tokens
from services import instance as instance_service
from services.accounts import EMAIL, MAX_DISPLAY_NAME, MAX_EMAIL, MAX_USERNAME, NewAccount
from services.errors import Forbidden, ValidationFailed
from services.instance import RegistrationMode
from services.oidc import Completed, VerifiedIdentity

PENDING_KEY = "oidc:signup:{}"  # the browser's digest
PENDING_SECONDS = 900  # time to choose a username
# User.email is required and unique, but these logins never use it: an address under the
# reserved .invalid domain (RFC 2606) keeps both true without claiming anyone's address.
PLACEHOLDER_DOMAIN = "oidc.invalid"


@dataclass(frozen=True)
class Outcome:
    """Signed in as ``user``, or (``user`` None) the sign-up form is needed: for a username
    (``suggestion`` was refused because of ``problem``), or, in approval mode, for a reason."""

    user: User | None = None
    suggestion: str = ""
    problem: str = ""


@dataclass(frozen=True)
class Held:
    """A verified first sign-in waiting for its username."""

    completed: Completed
    suggestion: str
    problem: str


async def user_for(identity: VerifiedIdentity) -> User | None:
    found = (
        await Identity.filter(issuer=identity.issuer, subject=identity.subject)
        .select_related("user__account")
        .first()
    )
    return found.user if found else None


def normalise_username(raw: str) -> str:
    """Our username rules (letters, digits, underscores, 30 at most) applied to a provider's
    name: accents dropped, other characters become underscores."""
    ascii_only = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode()
    name = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]", "_", ascii_only)).strip("_")
    return name[:MAX_USERNAME]


def suggest_username(identity: VerifiedIdentity) -> str:
    local_part = identity.email.partition("@")[0] if identity.email_verified else ""
    for candidate in (identity.preferred_username, local_part, identity.name):
        if name := normalise_username(candidate):
            return name
    return ""


async def _email_for(identity: VerifiedIdentity) -> str:
    email = identity.email.strip().lower()
    usable = identity.email_verified and len(email) <= MAX_EMAIL and EMAIL.match(email)
    if usable and not await User.filter(email=email).exists():
        return email
    return f"{tokens.new_secret(12)}@{PLACEHOLDER_DOMAIN}"


def form_problem(exc: ValidationFailed) -> str:
    """What the username form should say about a refused sign-up."""
    for name in ("username", "reason"):
        problems = exc.details.get(name) or []
        if problems:
            return f"{name.capitalize()} {problems[0]['description']}."
    return exc.message


async def create_account(
    settings: Settings,
    identity: VerifiedIdentity,
    username: str,
    *,
    reason: str = "",
    ip: str | None = None,
) -> User:
    """A sign-up by the public with this identity, as the registration mode allows (Forbidden
    when closed; waiting for a moderator in approval mode). ValidationFailed names the field."""
    existing = await user_for(identity)  # the username form sent twice, say
    if existing is not None:
        return existing
    await _check_open(settings)
    new = NewAccount(
        username=username.strip(),
        email=await _email_for(identity),
        password=None,  # this login has no password: it signs in through the provider
        display_name=identity.name.strip()[:MAX_DISPLAY_NAME],
        reason=reason,
        agreement=True,  # the provider's sign-in button is the agreement; no form to tick
        ip=ip,
    )

    async def link(user: User) -> None:
        await Identity.create(user=user, issuer=identity.issuer, subject=identity.subject)

    return await accounts.sign_up(settings, new, then=link)


async def _check_open(settings: Settings) -> RegistrationMode:
    mode = await instance_service.registration_mode()
    if mode is RegistrationMode.CLOSED:
        raise Forbidden(
            f"Sign-ups are closed on {settings.instance.name}: the account you signed in with "
            "has no account here, and none can be created now."
        )
    return mode


async def sign_in(
    settings: Settings,
    identity: VerifiedIdentity,
    *,
    ip: str | None = None,
) -> Outcome:
    """The user behind a verified identity: its own, or a new account under the provider's
    preferred username (when that name is free and valid, and no moderator has to read why the
    person joins; else the outcome asks for the form)."""
    user = await user_for(identity)
    if user is not None:
        user.last_sign_in_at = now()
        await user.save(update_fields=["last_sign_in_at"])
        return Outcome(user=user)
    mode = await _check_open(settings)
    suggestion = suggest_username(identity)
    if mode is RegistrationMode.APPROVED:
        return Outcome(suggestion=suggestion)  # the form asks the moderators' question: why join
    if not suggestion:
        return Outcome(problem="Choose the username you will have here.")
    try:
        return Outcome(user=await create_account(settings, identity, suggestion, ip=ip))
    except ValidationFailed as exc:
        raced = await user_for(identity)  # the same first sign-in twice at once
        if raced is not None:
            return Outcome(user=raced)
        return Outcome(suggestion=suggestion, problem=form_problem(exc))


# A first sign-in waiting for its username, bound to the browser that made it.


async def hold(redis: Redis, browser: str, completed: Completed, outcome: Outcome) -> None:
    value = {
        "identity": asdict(completed.identity),
        "next": completed.next,
        "suggestion": outcome.suggestion,
        "problem": outcome.problem,
    }
    key = PENDING_KEY.format(tokens.digest(browser))
    await redis.set(key, orjson.dumps(value), ex=PENDING_SECONDS)


async def held(redis: Redis, browser: str | None, provider: str) -> Held | None:
    if not browser:
        return None
    raw = await redis.get(PENDING_KEY.format(tokens.digest(browser)))
    if raw is None:
        return None
    value = orjson.loads(raw)
    identity = VerifiedIdentity(**value["identity"])
    if identity.provider != provider:
        return None
    completed = Completed(identity=identity, next=value["next"])
    return Held(completed=completed, suggestion=value["suggestion"], problem=value["problem"])


async def release(redis: Redis, browser: str) -> None:
    await redis.delete(PENDING_KEY.format(tokens.digest(browser)))
