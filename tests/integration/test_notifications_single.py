"""One notification: show, dismiss, and clearing them all; only ever the recipient's own."""

from __future__ import annotations

import pytest

from models.notifications import Notification, NotificationType
from services import notify
from tests.factories import account_of, bearer, make_post, make_user, token_for


async def _user(settings, name: str, scopes: str = "read write follow"):
    user = await make_user(settings, name)
    return await account_of(user), bearer(await token_for(user, scopes))


@pytest.fixture
async def cast(settings):
    """bob mentioned alice once; carol is a bystander."""
    alice, alice_headers = await _user(settings, "alice")
    bob, _ = await _user(settings, "bob")
    carol, carol_headers = await _user(settings, "carol")
    post = await make_post(bob, "@alice hi", mentions=[alice])
    note = await notify.notify(NotificationType.MENTION, alice.id, bob.id, post.id)
    return note, alice_headers, carol, carol_headers


async def test_show_answers_the_recipients_notification(client, cast):
    note, headers, *_ = cast

    response = await client.get(f"/api/v1/notifications/{note.id}", headers=headers)

    assert response.status_code == 200
    entity = await response.get_json()
    assert (entity["id"], entity["type"]) == (str(note.id), "mention")
    assert entity["status"]["id"] == str(note.post_id)


async def test_another_users_notification_is_404(client, cast):
    note, _, _, carol_headers = cast

    shown = await client.get(f"/api/v1/notifications/{note.id}", headers=carol_headers)
    dismissed = await client.post(f"/api/v1/notifications/{note.id}/dismiss", headers=carol_headers)

    assert (shown.status_code, dismissed.status_code) == (404, 404)
    assert await Notification.exists()


@pytest.mark.parametrize("raw", ["abc", "0", "-5", "99999999999999999999", "123"])
async def test_unknown_or_malformed_ids_are_404(client, cast, raw):
    _, headers, *_ = cast

    shown = await client.get(f"/api/v1/notifications/{raw}", headers=headers)
    dismissed = await client.post(f"/api/v1/notifications/{raw}/dismiss", headers=headers)

    assert (shown.status_code, dismissed.status_code) == (404, 404)


async def test_dismiss_removes_it_from_the_list(client, cast):
    note, headers, *_ = cast

    response = await client.post(f"/api/v1/notifications/{note.id}/dismiss", headers=headers)

    assert (response.status_code, await response.get_json()) == (200, {})
    assert await (await client.get("/api/v1/notifications", headers=headers)).get_json() == []


async def test_clear_removes_only_the_callers_notifications(client, cast):
    note, headers, carol, _ = cast
    carol_note = await notify.notify(NotificationType.FOLLOW, carol.id, note.actor_id)

    response = await client.post("/api/v1/notifications/clear", headers=headers)

    assert (response.status_code, await response.get_json()) == (200, {})
    assert await (await client.get("/api/v1/notifications", headers=headers)).get_json() == []
    assert await Notification.filter(id=carol_note.id).exists()


async def test_dismiss_and_clear_need_write_notifications(client, settings, cast):
    note, *_ = cast
    user = await make_user(settings, "dave")
    headers = bearer(await token_for(user, "read write:statuses"))

    dismissed = await client.post(f"/api/v1/notifications/{note.id}/dismiss", headers=headers)
    cleared = await client.post("/api/v1/notifications/clear", headers=headers)

    assert (dismissed.status_code, cleared.status_code) == (403, 403)
    assert await Notification.exists()


async def test_dismiss_needs_a_token(client, cast):
    note, *_ = cast

    response = await client.post(f"/api/v1/notifications/{note.id}/dismiss")

    assert response.status_code == 401
