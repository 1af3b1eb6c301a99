"""What clients read on start-up: the instance (v1 and v2), rules, peers, custom emojis."""

from __future__ import annotations

from typing import Any

import pytest

from instance.config import VERSION
from models.accounts import Account, Role
from models.posts import Post
from services.instance import set_setting
from tests.integration.accounts_support import assert_account_shape, assert_typed, make_user

V1_TYPES: dict[str, Any] = {
    "uri": str,
    "title": str,
    "short_description": str,
    "description": str,
    "email": str,
    "version": str,
    "urls": dict,
    "stats": dict,
    "thumbnail": str,
    "languages": list,
    "registrations": bool,
    "approval_required": bool,
    "invites_enabled": bool,
    "configuration": dict,
    "rules": list,
}
V2_TYPES: dict[str, Any] = {
    "api_versions": dict,
    "icon": list,
    "domain": str,
    "title": str,
    "version": str,
    "source_url": str,
    "description": str,
    "usage": dict,
    "thumbnail": dict,
    "languages": list,
    "configuration": dict,
    "registrations": dict,
    "contact": dict,
    "rules": list,
}
STATUSES_TYPES = {
    "max_characters": int,
    "max_media_attachments": int,
    "characters_reserved_per_url": int,
}


async def get_json(client, path: str) -> Any:
    response = await client.get(path)
    assert response.status_code == 200, path
    return await response.get_json()


async def make_remote(username: str, domain: str) -> Account:
    return await Account.create(
        username=username,
        domain=domain,
        acct=f"{username}@{domain}",
        uri=f"https://{domain}/u/{username}",
    )


async def test_v1_instance_has_mastodon_42_fields_and_types(client):
    body = await get_json(client, "/api/v1/instance")

    assert_typed(body, V1_TYPES)
    assert body["uri"] == "starling.test"
    assert body["urls"]["streaming_api"] == "wss://starling.test"
    assert_typed(body["configuration"]["statuses"], STATUSES_TYPES)
    assert body["configuration"]["statuses"]["max_characters"] == 280
    assert isinstance(body["configuration"]["accounts"]["max_featured_tags"], int)
    assert isinstance(body["configuration"]["media_attachments"]["supported_mime_types"], list)
    assert isinstance(body["configuration"]["polls"]["max_options"], int)


async def test_version_is_mastodon_compatible_and_names_starling(client):
    body = await get_json(client, "/api/v1/instance")

    assert body["version"] == f"4.2.0 (compatible; Starling {VERSION})"


@pytest.mark.parametrize(
    "path", ["/api/v1/instance/", "/api/v2/instance/", "/api/v1/instance/rules/"]
)
async def test_trailing_slash_answers_200_not_a_redirect(client, path):
    response = await client.get(path)

    assert response.status_code == 200


async def test_v2_instance_has_mastodon_42_fields_and_types(client):
    body = await get_json(client, "/api/v2/instance")

    assert_typed(body, V2_TYPES)
    assert body["domain"] == "starling.test"
    assert body["registrations"] == {
        "enabled": True,
        "approval_required": False,
        "reason_required": False,
        "message": None,
        "min_age": None,
        "url": None,
    }
    assert body["configuration"]["urls"]["streaming"] == "wss://starling.test"
    assert_typed(body["configuration"]["statuses"], STATUSES_TYPES)
    assert isinstance(body["usage"]["users"]["active_month"], int)
    assert body["thumbnail"]["url"].startswith("https://starling.test/")


async def test_stats_count_local_users_local_posts_and_known_domains(client, settings):
    alice = await make_user(settings, "alice")
    await make_user(settings, "bob")
    remote = await make_remote("carol", "one.example")
    await make_remote("dave", "two.example")
    await make_remote("erin", "two.example")
    for number in range(3):
        await Post.create(author_id=alice.account_id, uri=f"https://starling.test/p/{number}")
    await Post.create(author=remote, uri="https://one.example/p/1", local=False)

    stats = (await get_json(client, "/api/v1/instance"))["stats"]

    assert stats == {"user_count": 2, "status_count": 3, "domain_count": 2}


async def test_v2_usage_counts_recently_active_users(client, settings):
    await make_user(settings, "alice")

    body = await get_json(client, "/api/v2/instance")

    assert body["usage"]["users"]["active_month"] == 1


async def test_closed_sign_ups_show_in_both_versions(client):
    await set_setting("registration_mode", "closed")
    await set_setting("closed_registrations_message", "Invite only.")

    v1 = await get_json(client, "/api/v1/instance")
    v2 = await get_json(client, "/api/v2/instance")

    assert v1["registrations"] is False
    assert v2["registrations"]["enabled"] is False
    assert v2["registrations"]["message"] == "Invite only."


async def test_approval_mode_shows_in_both_versions(client):
    await set_setting("registration_mode", "approved")

    v1 = await get_json(client, "/api/v1/instance")
    v2 = await get_json(client, "/api/v2/instance")

    assert v1["approval_required"] is True
    assert v2["registrations"]["approval_required"] is True


async def test_contact_account_is_the_first_admin(client, settings):
    await make_user(settings, "alice")
    boss = await make_user(settings, "boss", role=Role.ADMIN)

    v1 = await get_json(client, "/api/v1/instance")
    v2 = await get_json(client, "/api/v2/instance")

    assert_account_shape(v1["contact_account"])
    assert v1["contact_account"]["id"] == str(boss.account_id)
    assert v2["contact"]["account"]["id"] == str(boss.account_id)


async def test_contact_account_is_null_without_an_admin(client):
    body = await get_json(client, "/api/v1/instance")

    assert body["contact_account"] is None


async def test_rules_are_listed_with_string_ids(client):
    await set_setting("rules", ["Be kind", {"text": "No spam", "hint": "Ads included"}])

    rules = await get_json(client, "/api/v1/instance/rules")

    assert rules == [
        {"id": "1", "text": "Be kind", "hint": ""},
        {"id": "2", "text": "No spam", "hint": "Ads included"},
    ]
    assert (await get_json(client, "/api/v2/instance"))["rules"] == rules


async def test_rules_are_empty_on_a_fresh_instance(client):
    assert await get_json(client, "/api/v1/instance/rules") == []


async def test_peers_are_empty_on_a_fresh_instance(client):
    assert await get_json(client, "/api/v1/instance/peers") == []


async def test_peers_list_each_known_remote_host_once(client):
    await make_remote("carol", "one.example")
    await make_remote("dave", "two.example")
    await make_remote("erin", "two.example")

    assert await get_json(client, "/api/v1/instance/peers") == ["one.example", "two.example"]


async def test_custom_emojis_are_an_empty_list(client):
    assert await get_json(client, "/api/v1/custom_emojis") == []


async def test_instance_thumbnail_is_served(client):
    thumbnail = (await get_json(client, "/api/v1/instance"))["thumbnail"]

    image = await client.get(thumbnail.removeprefix("https://starling.test"))

    assert image.status_code == 200
    assert image.mimetype == "image/png"


async def test_v2_advertises_mastodon_api_version_1(client):
    # Clients move to grouped notifications (/api/v2/notifications) from version 2 on.
    body = await get_json(client, "/api/v2/instance")

    assert body["api_versions"] == {"mastodon": 1}


def _png_size(data: bytes) -> str:
    """``WxH`` from a PNG's IHDR chunk (width and height follow the 16-byte signature+header)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return f"{int.from_bytes(data[16:20], 'big')}x{int.from_bytes(data[20:24], 'big')}"


async def test_v2_icons_are_served_pngs_of_the_size_they_claim(client):
    icons = (await get_json(client, "/api/v2/instance"))["icon"]

    assert len(icons) >= 2
    for icon in icons:
        assert set(icon) == {"src", "size"}
        image = await client.get(icon["src"].removeprefix("https://starling.test"))
        assert image.status_code == 200
        assert image.mimetype == "image/png"
        assert _png_size(await image.get_data()) == icon["size"]


async def test_openapi_lists_the_accounts_and_instance_endpoints(client):
    spec = await get_json(client, "/openapi.json")

    paths = spec["paths"]
    for path in (
        "/api/v1/accounts",
        "/api/v1/accounts/verify_credentials",
        "/api/v1/accounts/update_credentials",
        "/api/v1/accounts/lookup",
        "/api/v1/accounts/{account_id}",
        "/api/v1/instance",
        "/api/v2/instance",
    ):
        assert path in paths, path
    assert "requestBody" in paths["/api/v1/accounts"]["post"]
