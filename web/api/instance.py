"""What clients ask on start-up: the instance (v1 and v2 shapes), rules, peers, custom emojis.

Every route answers with and without a trailing slash: Mastodon.py requests
``/api/v1/instance/`` and retries forever on a 404.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from quart import Blueprint

from instance.config import MASTODON_VERSION, Settings
from services import instance as instance_service
from services.instance import InstanceInfo, RegistrationMode, Rule, Stats
from web.api.entities import iso, render_account
from web.deps import backends, settings

instance = Blueprint("instance", __name__)

THUMBNAIL = "/static/preview.png"
ICON_SIZES = (48, 192, 512)  # web/static/icon-N.png, each N x N pixels
# Mastodon's API version: clients use /api/v2/notifications (grouped) only from 2 on.
API_VERSIONS = {"mastodon": 1}

# One place for the limits clients read before they let a user type or attach anything.
STATUSES = {"max_characters": 280, "max_media_attachments": 4, "characters_reserved_per_url": 23}
MEDIA_ATTACHMENTS = {
    "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp"],
    "image_size_limit": 1024 * 1024,
    "image_matrix_limit": 16_777_216,  # 4096 x 4096
    "video_size_limit": 0,
    "video_frame_rate_limit": 0,
    "video_matrix_limit": 0,
}
POLLS = {
    "max_options": 4,
    "max_characters_per_option": 50,
    "min_expiration": 300,
    "max_expiration": 2_629_746,
}
ACCOUNTS = {"max_featured_tags": 10}
ACCOUNTS_V2 = {
    **ACCOUNTS,
    "max_pinned_statuses": 5,
    "max_display_name_length": 30,
    "max_note_length": 500,
    "max_profile_fields": 4,
    "profile_field_name_limit": 255,
    "profile_field_value_limit": 255,
}
LANGUAGES = ["en"]


def _streaming_url(settings: Settings) -> str:
    scheme = "wss" if settings.instance.https else "ws"
    return f"{scheme}://{settings.instance.domain}"


def _icons(settings: Settings) -> list[dict[str, str]]:
    """Mastodon's InstanceIcon list: the icon in each size we ship."""
    base = f"{settings.base_url}/static"
    return [{"src": f"{base}/icon-{size}.png", "size": f"{size}x{size}"} for size in ICON_SIZES]


def _rule(rule: Rule) -> dict[str, str]:
    return {"id": rule.id, "text": rule.text, "hint": rule.hint}


def _contact_account(info: InstanceInfo, settings: Settings) -> dict[str, Any] | None:
    return render_account(info.contact, settings) if info.contact else None


def render_instance_v1(info: InstanceInfo, stats: Stats, settings: Settings) -> dict[str, Any]:
    """Mastodon 4.2's V1::Instance entity."""
    return {
        "uri": info.domain,
        "title": info.title,
        "short_description": info.description,
        "description": info.description,
        "email": info.email,
        "version": MASTODON_VERSION,
        "urls": {"streaming_api": _streaming_url(settings)},
        "stats": {
            "user_count": stats.user_count,
            "status_count": stats.status_count,
            "domain_count": stats.domain_count,
        },
        "thumbnail": f"{settings.base_url}{THUMBNAIL}",
        "languages": LANGUAGES,
        "registrations": info.registration_mode is not RegistrationMode.CLOSED,
        "approval_required": info.registration_mode is RegistrationMode.APPROVED,
        "invites_enabled": False,
        "configuration": {
            "accounts": ACCOUNTS,
            "statuses": STATUSES,
            "media_attachments": MEDIA_ATTACHMENTS,
            "polls": POLLS,
        },
        "contact_account": _contact_account(info, settings),
        "rules": [_rule(rule) for rule in info.rules],
    }


def _registrations_v2(info: InstanceInfo) -> dict[str, Any]:
    closed = info.registration_mode is RegistrationMode.CLOSED
    approval = info.registration_mode is RegistrationMode.APPROVED
    return {
        "enabled": not closed,
        "approval_required": approval,
        "reason_required": approval and info.reason_required,
        "message": info.registration_message if closed else None,
        "min_age": None,
        "url": None,
    }


def render_instance_v2(info: InstanceInfo, stats: Stats, settings: Settings) -> dict[str, Any]:
    """Mastodon 4.3's Instance entity (``/api/v2/instance``)."""
    return {
        "domain": info.domain,
        "title": info.title,
        "version": MASTODON_VERSION,
        "source_url": settings.base_url,
        "description": info.description,
        "usage": {"users": {"active_month": stats.active_month}},
        "thumbnail": {"url": f"{settings.base_url}{THUMBNAIL}", "blurhash": None, "versions": {}},
        "icon": _icons(settings),
        "languages": LANGUAGES,
        "configuration": {
            "urls": {"streaming": _streaming_url(settings), "status": None},
            "vapid": {"public_key": ""},
            "accounts": ACCOUNTS_V2,
            "statuses": STATUSES,
            "media_attachments": {**MEDIA_ATTACHMENTS, "description_limit": 1500},
            "polls": POLLS,
            "translation": {"enabled": False},
        },
        "registrations": _registrations_v2(info),
        "api_versions": API_VERSIONS,
        "contact": {"email": info.email, "account": _contact_account(info, settings)},
        "rules": [_rule(rule) for rule in info.rules],
    }


async def _load() -> tuple[InstanceInfo, Stats]:
    info = await instance_service.instance_info(settings())
    return info, await instance_service.stats(backends().redis)


@instance.get("/api/v1/instance", strict_slashes=False)
async def instance_v1() -> dict[str, Any]:
    info, stats = await _load()
    return render_instance_v1(info, stats, settings())


@instance.get("/api/v2/instance", strict_slashes=False)
async def instance_v2() -> dict[str, Any]:
    info, stats = await _load()
    return render_instance_v2(info, stats, settings())


@instance.get("/api/v1/instance/rules", strict_slashes=False)
async def instance_rules() -> list[dict[str, str]]:
    return [_rule(rule) for rule in await instance_service.rules()]


@instance.get("/api/v1/instance/extended_description", strict_slashes=False)
async def extended_description() -> dict[str, Any]:
    """Mastodon's ExtendedDescription: the admin's long "about" text, as HTML."""
    info = await instance_service.instance_info(settings())
    return {
        "updated_at": iso(info.extended_updated_at or datetime.now(UTC)),
        "content": instance_service.paragraphs_html(info.extended_description),
    }


@instance.get("/api/v1/instance/peers", strict_slashes=False)
async def instance_peers() -> list[str]:
    return await instance_service.peers()


@instance.get("/api/v1/custom_emojis", strict_slashes=False)
async def custom_emojis() -> list[Any]:
    return []
