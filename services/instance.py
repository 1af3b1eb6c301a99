"""What the instance says about itself: settings an admin edits at run time, and real counts."""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import orjson
from redis.asyncio import Redis
from tortoise.exceptions import DBConnectionError, OperationalError
from tortoise.expressions import Q
from tortoise.timezone import now

from instance.config import Settings
from models.accounts import Account, Role, User
from models.admin import InstanceSetting
from models.posts import Post

# Clients ask for the instance on every start-up: count at most once a minute.
STATS_CACHE_KEY = "instance:stats:v2"
STATS_CACHE_SECONDS = 60
ACTIVE_DAYS = 30
HALF_YEAR_DAYS = 180


class RegistrationMode(StrEnum):
    OPEN = "open"
    APPROVED = "approved"  # sign-ups wait for a moderator
    CLOSED = "closed"


@dataclass(frozen=True)
class Rule:
    id: str
    text: str
    hint: str = ""


@dataclass(frozen=True)
class Stats:
    user_count: int
    status_count: int
    domain_count: int
    active_month: int
    active_halfyear: int


@dataclass(frozen=True)
class InstanceInfo:
    domain: str
    title: str
    description: str
    email: str
    registration_mode: RegistrationMode
    registration_message: str | None
    rules: tuple[Rule, ...]
    contact: Account | None
    extended_description: str = ""  # the long "about" text, plain text with paragraphs
    extended_updated_at: datetime | None = None
    reason_required: bool = False  # approval mode: sign-ups must say why they want to join


@dataclass(frozen=True)
class Site:
    """What every page's layout shows of the instance (``name`` may be set by an admin)."""

    name: str
    domain: str
    description: str
    sign_ups: str = RegistrationMode.OPEN.value  # the registration mode: the header's link


SITE_CACHE_SECONDS = 5.0  # other processes see an admin's new name within this
_site: tuple[float, Site] | None = None


async def set_setting(key: str, value: Any) -> None:
    """Store a run-time setting wrapped as {"value": ...}: Tortoise's JSONField takes a bare
    string for JSON text, so "closed" alone could not be stored."""
    global _site
    await InstanceSetting.update_or_create(key=key, defaults={"value": {"value": value}})
    _site = None


def forget_site() -> None:
    """Drop this process's copy (tests that empty the database call this)."""
    global _site
    _site = None


async def site(settings: Settings) -> Site:
    """The layout's name and description: config values overridden by an admin's, read at
    most every few seconds (every page shows them)."""
    global _site
    if _site is not None and time.monotonic() - _site[0] < SITE_CACHE_SECONDS:
        return _site[1]
    try:
        keys = ("title", "description", "registration_mode")
        rows = await InstanceSetting.filter(key__in=keys).values("key", "value")
    except (OSError, DBConnectionError, OperationalError):
        rows = []  # an error page while PostgreSQL is down still renders, with config values
    values = {row["key"]: _unwrap(row["value"]) for row in rows}
    found = Site(
        name=str(values.get("title") or settings.instance.name),
        domain=settings.instance.domain,
        description=str(values.get("description") or settings.instance.description),
        sign_ups=_mode(values.get("registration_mode")).value,
    )
    _site = (time.monotonic(), found)
    return found


def _unwrap(stored: Any) -> Any:
    if isinstance(stored, dict) and set(stored) == {"value"}:
        return stored["value"]
    return stored


async def _setting(key: str) -> Any:
    row = await InstanceSetting.filter(key=key).first()
    return _unwrap(row.value) if row else None


async def get_setting(key: str) -> Any:
    """One run-time setting as stored, or None."""
    return await _setting(key)


async def _setting_values() -> dict[str, Any]:
    return {row.key: _unwrap(row.value) for row in await InstanceSetting.all()}


def _rules(raw: Any) -> tuple[Rule, ...]:
    """Rules as an admin stored them: a list of strings, or of {"text", "hint"} objects."""
    if not isinstance(raw, list):
        return ()
    parsed = []
    for index, item in enumerate(raw, start=1):
        if isinstance(item, str):
            parsed.append(Rule(id=str(index), text=item))
        elif isinstance(item, dict) and isinstance(item.get("text"), str):
            # An id once given stays (reports cite rules by id), whatever is removed before it.
            rule_id = str(item.get("id") or index)
            parsed.append(Rule(id=rule_id, text=item["text"], hint=str(item.get("hint", ""))))
    return tuple(parsed)


def _mode(raw: Any) -> RegistrationMode:
    try:
        return RegistrationMode(raw)
    except ValueError:
        return RegistrationMode.OPEN


async def registration_mode() -> RegistrationMode:
    return _mode(await _setting("registration_mode"))


def paragraphs_html(text: str) -> str:
    """Plain text an admin typed as HTML: paragraphs at blank lines, line breaks kept."""
    blocks = [block.strip() for block in text.replace("\r\n", "\n").split("\n\n")]
    return "".join(
        "<p>" + "<br>".join(html.escape(line) for line in block.split("\n")) + "</p>"
        for block in blocks
        if block
    )


async def reason_required() -> bool:
    """Whether sign-ups in approval mode must say why they want to join (Mastodon's
    ``require_invite_text``)."""
    return await _setting("require_reason") is True


async def contact_account(username: Any = None) -> Account | None:
    """Who clients show as the instance's contact: the local account an admin chose, else
    the first admin's."""
    if isinstance(username, str) and username:
        chosen = await Account.filter(
            acct=username.lower(), domain__isnull=True, suspended_at__isnull=True
        ).first()
        if chosen is not None:
            return chosen
    user = (
        await User.filter(role=Role.ADMIN, account__suspended_at__isnull=True)
        .order_by("id")
        .select_related("account")
        .first()
    )
    return user.account if user else None


async def instance_info(settings: Settings) -> InstanceInfo:
    """Config-file values, overridden by what an admin set at run time."""
    values = await _setting_values()
    message = values.get("closed_registrations_message")
    return InstanceInfo(
        domain=settings.instance.domain,
        title=str(values.get("title") or settings.instance.name),
        description=str(values.get("description") or settings.instance.description),
        email=str(values.get("contact_email") or settings.instance.contact_email),
        registration_mode=_mode(values.get("registration_mode")),
        registration_message=message if isinstance(message, str) and message else None,
        rules=_rules(values.get("rules")),
        contact=await contact_account(values.get("contact_username")),
        extended_description=str(values.get("extended_description") or ""),
        extended_updated_at=await _updated_at("extended_description"),
        reason_required=values.get("require_reason") is True,
    )


async def _updated_at(key: str) -> datetime | None:
    row = await InstanceSetting.filter(key=key).first().values("updated_at")
    return row["updated_at"] if row else None


async def rules() -> tuple[Rule, ...]:
    return _rules(await _setting("rules"))


async def _count_stats() -> Stats:
    local_users = User.filter(account__suspended_at__isnull=True, disabled_at__isnull=True)

    async def active(days: int) -> int:
        since = now() - timedelta(days=days)
        return await local_users.filter(
            Q(last_sign_in_at__gte=since) | Q(created_at__gte=since)
        ).count()

    return Stats(
        user_count=await local_users.count(),
        status_count=await Post.filter(local=True, deleted_at__isnull=True).count(),
        domain_count=len(await peers()),
        active_month=await active(ACTIVE_DAYS),
        active_halfyear=await active(HALF_YEAR_DAYS),
    )


async def stats(redis: Redis) -> Stats:
    """Local users, local posts and known domains, cached for a minute."""
    cached = await redis.get(STATS_CACHE_KEY)
    if cached:
        return Stats(**orjson.loads(cached))
    counted = await _count_stats()
    await redis.set(STATS_CACHE_KEY, orjson.dumps(counted.__dict__), ex=STATS_CACHE_SECONDS)
    return counted


async def peers() -> list[str]:
    """The remote hosts we know accounts on."""
    domains = (
        await Account.filter(domain__isnull=False)
        .distinct()
        .order_by("domain")
        .values_list("domain", flat=True)
    )
    return [str(domain) for domain in domains]
