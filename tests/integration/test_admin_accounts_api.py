"""Mastodon's admin API for accounts, over HTTP: the Admin::Account entity, the v1 and v2
filters, actions, approve / reject, undoing, purging, and who may call it."""

from __future__ import annotations

import pytest
from tortoise.timezone import now

from models.accounts import Account, Role, User
from models.admin import Report, ReportState
from models.notifications import Notification
from services import instance as instance_service
from tests.factories import bearer, make_remote_account, make_user, member, token_for
from tests.integration.accounts_support import registration

ADMIN_SCOPES = "read write admin:read admin:write"


@pytest.fixture
async def admin_token(settings) -> str:
    user = await make_user(settings, "boss", role=Role.ADMIN)
    return await token_for(user, ADMIN_SCOPES)


async def get(client, path: str, token: str, **query):
    response = await client.get(path, headers=bearer(token), query_string=query)
    return response.status_code, await response.get_json()


async def post(client, path: str, token: str, **form):
    response = await client.post(path, headers=bearer(token), form=form)
    return response.status_code, await response.get_json()


def usernames(entities) -> list[str]:
    return sorted(entity["username"] for entity in entities)


async def test_an_admin_account_has_mastodons_shape(client, settings, admin_token):
    user = await make_user(settings, "alice")
    await User.filter(id=user.id).update(sign_up_ip="203.0.113.7", registration_reason="hi")

    status, entity = await get(client, f"/api/v1/admin/accounts/{user.account_id}", admin_token)  # type: ignore[attr-defined]

    assert status == 200
    assert entity["id"] == str(user.account_id)  # type: ignore[attr-defined]
    assert entity["username"] == "alice"
    assert entity["domain"] is None
    assert entity["email"] == "alice@example.com"
    assert entity["ip"] == "203.0.113.7"
    assert entity["ips"][0]["ip"] == "203.0.113.7"
    assert entity["ips"][0]["used_at"].endswith("Z")
    assert entity["invite_request"] == "hi"
    assert entity["role"]["id"] == "-99"
    assert "permissions" in entity["role"]
    for flag in ("confirmed", "approved"):
        assert entity[flag] is True
    for flag in ("disabled", "silenced", "suspended", "sensitized"):
        assert entity[flag] is False
    assert entity["account"]["acct"] == "alice"
    assert entity["locale"] == "en"
    assert entity["created_at"].endswith("Z")


async def test_a_remote_account_has_no_login_details(client, admin_token):
    rob = await make_remote_account("rob", "one.example")

    status, entity = await get(client, f"/api/v1/admin/accounts/{rob.id}", admin_token)

    assert status == 200
    assert entity["domain"] == "one.example"
    assert entity["email"] is None
    assert entity["ip"] is None
    assert entity["role"] is None


async def test_v1_filters_by_origin_status_and_text(client, settings, admin_token):
    await make_user(settings, "alice")
    await make_user(settings, "waiting", approved=False)
    carol = await make_user(settings, "carol", email="carol@mail.example")
    await User.filter(id=carol.id).update(sign_up_ip="198.51.100.9")
    rob = await make_remote_account("rob", "one.example")
    await Account.filter(id=rob.id).update(suspended_at=now())

    path = "/api/v1/admin/accounts"
    assert usernames((await get(client, path, admin_token, local="true"))[1]) == [
        "alice", "boss", "carol", "waiting",
    ]  # fmt: skip
    assert usernames((await get(client, path, admin_token, remote="true"))[1]) == ["rob"]
    assert usernames((await get(client, path, admin_token, pending="true"))[1]) == ["waiting"]
    assert usernames((await get(client, path, admin_token, suspended="true"))[1]) == ["rob"]
    assert usernames((await get(client, path, admin_token, staff="true"))[1]) == ["boss"]
    assert usernames((await get(client, path, admin_token, email="mail.example"))[1]) == ["carol"]
    assert usernames((await get(client, path, admin_token, ip="198.51.100"))[1]) == ["carol"]
    assert usernames((await get(client, path, admin_token, by_domain="ONE.example"))[1]) == ["rob"]
    assert usernames((await get(client, path, admin_token, username="ca"))[1]) == ["carol"]


async def test_v2_filters_by_origin_status_permissions_and_role(client, settings, admin_token):
    await make_user(settings, "alice")
    await make_user(settings, "modest", role=Role.MODERATOR)
    rob = await make_remote_account("rob", "one.example")
    await Account.filter(id=rob.id).update(silenced_at=now())

    path = "/api/v2/admin/accounts"
    assert usernames((await get(client, path, admin_token, origin="remote"))[1]) == ["rob"]
    assert usernames((await get(client, path, admin_token, status="silenced"))[1]) == ["rob"]
    active = await get(client, path, admin_token, status="active", origin="local")
    assert usernames(active[1]) == ["alice", "boss", "modest"]
    staff = await get(client, path, admin_token, permissions="staff")
    assert usernames(staff[1]) == ["boss", "modest"]
    moderators = await get(client, path, admin_token, **{"role_ids[]": "1"})
    assert usernames(moderators[1]) == ["modest"]
    assert (await get(client, path, admin_token, status="nonsense"))[0] == 422


async def test_lists_are_paged_newest_first_with_links(client, settings, admin_token):
    for name in ("a1", "a2", "a3"):
        await make_user(settings, name)

    response = await client.get(
        "/api/v2/admin/accounts", headers=bearer(admin_token), query_string={"limit": "2"}
    )

    assert usernames(await response.get_json()) == ["a2", "a3"]
    assert 'rel="next"' in response.headers["Link"]


async def test_suspend_action_resolves_the_report_and_unsuspend_undoes_it(
    client, settings, admin_token
):
    mallory, _ = await member(settings, "mallory")
    alice, _ = await member(settings, "alice")
    report = await Report.create(reporter=alice, target=mallory, comment="spam")

    status, body = await post(
        client, f"/api/v1/admin/accounts/{mallory.id}/action", admin_token,
        type="suspend", report_id=str(report.id), text="spam, again",
    )  # fmt: skip

    assert (status, body) == (200, {})
    assert (await Account.get(id=mallory.id)).suspended_at is not None
    report = await Report.get(id=report.id)
    assert report.state is ReportState.RESOLVED
    assert report.action == "suspend"
    status, entity = await post(
        client, f"/api/v1/admin/accounts/{mallory.id}/unsuspend", admin_token
    )
    assert status == 200
    assert entity["suspended"] is False


async def test_silence_and_disable_actions_and_their_undoing(client, settings, admin_token):
    bob, _ = await member(settings, "bob")
    path = f"/api/v1/admin/accounts/{bob.id}"

    assert (await post(client, f"{path}/action", admin_token, type="silence"))[0] == 200
    assert (await post(client, f"{path}/action", admin_token, type="disable"))[0] == 200
    entity = (await get(client, path, admin_token))[1]
    assert entity["silenced"] is True
    assert entity["disabled"] is True
    assert entity["account"]["limited"] is True

    assert (await post(client, f"{path}/unsilence", admin_token))[1]["silenced"] is False
    assert (await post(client, f"{path}/enable", admin_token))[1]["disabled"] is False
    assert (await post(client, f"{path}/action", admin_token, type="bogus"))[0] == 422


async def test_approving_and_rejecting_pending_sign_ups(client, settings, admin_token):
    waiting = await make_user(settings, "waiting", approved=False)
    doubtful = await make_user(settings, "doubtful", approved=False)
    base = "/api/v1/admin/accounts"

    status, entity = await post(client, f"{base}/{waiting.account_id}/approve", admin_token)  # type: ignore[attr-defined]
    assert status == 200
    assert entity["approved"] is True
    status, entity = await post(client, f"{base}/{doubtful.account_id}/reject", admin_token)  # type: ignore[attr-defined]
    assert status == 200
    assert entity["username"] == "doubtful"

    assert (await User.get(id=waiting.id)).approved
    assert not await Account.filter(username="doubtful").exists()
    assert not await User.filter(id=doubtful.id).exists()
    again = await post(client, f"{base}/{waiting.account_id}/approve", admin_token)  # type: ignore[attr-defined]
    assert again[0] == 403


async def test_delete_purges_only_a_suspended_account(client, settings, admin_token):
    mallory, _ = await member(settings, "mallory")
    path = f"/api/v1/admin/accounts/{mallory.id}"

    refused = await client.delete(path, headers=bearer(admin_token))
    assert refused.status_code == 403
    await post(client, f"{path}/action", admin_token, type="suspend")
    purged = await client.delete(path, headers=bearer(admin_token))
    assert purged.status_code == 200
    assert (await purged.get_json())["suspended"] is True


async def test_non_staff_get_403_with_a_json_error(client, settings):
    user = await make_user(settings, "alice")
    token = await token_for(user, ADMIN_SCOPES)

    status, body = await get(client, "/api/v1/admin/accounts", token)

    assert status == 403
    assert body == {"error": "This action is not allowed"}


async def test_the_admin_scopes_are_required(client, settings):
    moderator = await make_user(settings, "modest", role=Role.MODERATOR)
    reader = await token_for(moderator, "read admin:read:accounts")

    assert (await get(client, "/api/v1/admin/accounts", reader))[0] == 200
    other = await make_user(settings, "alice")
    status, _ = await post(
        client, f"/api/v1/admin/accounts/{other.account_id}/action", reader, type="none"
    )  # type: ignore[attr-defined]
    assert status == 403
    plain = await token_for(moderator, "read write")
    assert (await get(client, "/api/v1/admin/accounts", plain))[0] == 403
    assert (await client.get("/api/v1/admin/accounts")).status_code == 401


async def test_a_moderator_cannot_suspend_an_admin(client, settings):
    boss = await make_user(settings, "boss", role=Role.ADMIN)
    moderator = await make_user(settings, "modest", role=Role.MODERATOR)
    token = await token_for(moderator, ADMIN_SCOPES)

    status, body = await post(
        client,
        f"/api/v1/admin/accounts/{boss.account_id}/action",
        token,
        type="suspend",  # type: ignore[attr-defined]
    )

    assert status == 403
    assert "error" in body
    assert (await Account.get(id=boss.account_id)).suspended_at is None  # type: ignore[attr-defined]


async def test_every_sign_up_notifies_staff_and_records_its_address(client, settings):
    boss = await make_user(settings, "boss", role=Role.ADMIN)
    moderator = await make_user(settings, "modest", role=Role.MODERATOR)
    await make_user(settings, "alice")
    await instance_service.set_setting("registration_mode", "approved")
    app_token = await token_for(None, "read write")

    response = await client.post(
        "/api/v1/accounts", json=registration("newbie", reason="I like birds"),
        headers=bearer(app_token),
    )  # fmt: skip

    assert response.status_code == 200, await response.get_data(as_text=True)
    newbie = await User.get(account__username="newbie")
    assert newbie.sign_up_ip
    assert not newbie.approved
    told = await Notification.filter(type="admin.sign_up").values_list("recipient_id", flat=True)
    assert sorted(told) == sorted([boss.account_id, moderator.account_id])  # type: ignore[attr-defined]
    staff_token = await token_for(boss, "read")
    listed = await client.get("/api/v1/notifications", headers=bearer(staff_token))
    (notification,) = await listed.get_json()
    assert notification["type"] == "admin.sign_up"
    assert notification["account"]["username"] == "newbie"
