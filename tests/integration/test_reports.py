"""Reports: filing one through the API, the moderators' queue and actions, the admin.report
notification, and Flags out to and in from other servers."""

from __future__ import annotations

import orjson

from models.accounts import Account, Role
from models.admin import Report
from models.federation import Delivery, Domain
from models.notifications import Notification
from services import delivery
from services.remote.fetch import instance_actor
from tests.factories import bearer, make_post, make_remote_account, make_user, member, token_for
from tests.integration.test_federation_inbox import INBOX, apply_all

ADMIN = "/api/v1/admin/reports"


async def staff_token(settings, name: str = "boss", role: Role = Role.ADMIN) -> tuple[Account, str]:
    user = await make_user(settings, name, role=role)
    return await Account.get(id=user.account_id), await token_for(
        user, "read write admin:read admin:write"
    )


async def report(client, token: str, **body) -> dict:
    response = await client.post("/api/v1/reports", json=body, headers=bearer(token))
    assert response.status_code == 200, await response.get_data()
    return await response.get_json()


async def test_a_report_answers_mastodons_report_entity(client, settings):
    _, token = await member(settings, "alice")
    bob, _ = await member(settings, "bob")
    post = await make_post(bob, "rude")

    made = await report(client, token, account_id=str(bob.id), status_ids=[str(post.id)],
                        comment="not nice", category="spam")  # fmt: skip

    assert made["status_ids"] == [str(post.id)]
    assert (made["category"], made["comment"], made["forwarded"]) == ("spam", "not nice", False)
    assert made["action_taken"] is False
    assert made["action_taken_at"] is None
    assert made["target_account"]["id"] == str(bob.id)
    assert made["rule_ids"] is None


async def test_bad_reports_are_refused(client, settings):
    alice, token = await member(settings, "alice")
    bob, _ = await member(settings, "bob")
    carol, _ = await member(settings, "carol")
    carols = await make_post(carol, "not bob's")
    cases = [
        ({"account_id": str(bob.id), "comment": "x" * 1001}, 422),
        ({"account_id": str(bob.id), "status_ids": [str(carols.id)]}, 422),
        ({"account_id": str(bob.id), "category": "boring"}, 422),
        ({"account_id": str(bob.id), "rule_ids": ["99"]}, 422),
        ({"account_id": str(alice.id)}, 422),
        ({"account_id": "123456"}, 404),
        ({}, 422),
    ]
    for body, status in cases:
        response = await client.post("/api/v1/reports", json=body, headers=bearer(token))
        assert response.status_code == status, body
        assert "error" in await response.get_json()
    assert not await Report.exists()


async def test_staff_are_notified_of_a_new_report(client, settings):
    boss, boss_token = await staff_token(settings)
    moderator, _ = await staff_token(settings, "mod", Role.MODERATOR)
    _, token = await member(settings, "alice")
    bob, _ = await member(settings, "bob")

    made = await report(client, token, account_id=str(bob.id), comment="help")

    recipients = await Notification.filter(type="admin.report").values_list(
        "recipient_id", flat=True
    )
    assert sorted(recipients) == sorted([boss.id, moderator.id])
    listed = await (
        await client.get("/api/v1/notifications", headers=bearer(boss_token))
    ).get_json()
    assert listed[0]["type"] == "admin.report"
    assert listed[0]["report"]["id"] == made["id"]
    assert listed[0]["report"]["target_account"]["id"] == str(bob.id)


async def test_the_queue_assign_resolve_and_reopen(client, settings):
    boss, token = await staff_token(settings)
    _, alice_token = await member(settings, "alice")
    bob, _ = await member(settings, "bob")
    post = await make_post(bob, "spam spam")
    made = await report(client, alice_token, account_id=str(bob.id), status_ids=[str(post.id)])
    rid = made["id"]

    queue = await (await client.get(ADMIN, headers=bearer(token))).get_json()
    assert [item["id"] for item in queue] == [rid]
    assert queue[0]["target_account"]["id"] == str(bob.id)
    assert queue[0]["account"]["username"] == "alice"
    assert [status["id"] for status in queue[0]["statuses"]] == [str(post.id)]

    assigned = await (await client.post(f"{ADMIN}/{rid}/assign_to_self",
                                        headers=bearer(token))).get_json()  # fmt: skip
    assert assigned["assigned_account"]["id"] == str(boss.id)
    unassigned = await (await client.post(f"{ADMIN}/{rid}/unassign",
                                          headers=bearer(token))).get_json()  # fmt: skip
    assert unassigned["assigned_account"] is None
    resolved = await (await client.post(f"{ADMIN}/{rid}/resolve", headers=bearer(token))).get_json()
    assert resolved["action_taken"] is True
    assert resolved["action_taken_by_account"]["id"] == str(boss.id)
    assert await (await client.get(ADMIN, headers=bearer(token))).get_json() == []
    done = await (await client.get(f"{ADMIN}?resolved=true", headers=bearer(token))).get_json()
    assert [item["id"] for item in done] == [rid]
    reopened = await (await client.post(f"{ADMIN}/{rid}/reopen", headers=bearer(token))).get_json()
    assert reopened["action_taken"] is False
    by_target = await client.get(f"{ADMIN}?target_account_id={bob.id}", headers=bearer(token))
    assert [item["id"] for item in await by_target.get_json()] == [rid]
    by_other = await client.get(f"{ADMIN}?account_id={bob.id}", headers=bearer(token))
    assert await by_other.get_json() == []


async def test_non_staff_get_403_from_the_admin_reports_api(client, settings):
    user = await make_user(settings, "plain")
    token = await token_for(user, "read write admin:read admin:write")

    assert (await client.get(ADMIN, headers=bearer(token))).status_code == 403
    assert (await client.post(f"{ADMIN}/1/resolve", headers=bearer(token))).status_code == 403


async def test_a_forwarded_report_is_a_flag_from_the_instance_actor(
    client, fed, fediverse, settings
):
    _, token = await member(settings, "alice")
    fediverse.server("remote.example")
    rob = await make_remote_account("rob", "remote.example")
    post = await make_post(rob, "remote spam")

    made = await report(client, token, account_id=str(rob.id), status_ids=[str(post.id)],
                        comment="spam from rob", forward=True)  # fmt: skip

    assert made["forwarded"] is True
    (row,) = await Delivery.all()
    await delivery.attempt(fed, row.id)
    (received,) = fediverse.server("remote.example").received
    flag = received.activity
    actor = await instance_actor(settings)
    assert received.verified
    assert received.url == "https://remote.example/inbox"
    assert (flag["type"], flag["actor"], flag["content"]) == ("Flag", actor.uri, "spam from rob")
    assert flag["object"] == [rob.uri, post.uri]
    assert "alice" not in orjson.dumps(flag).decode()


async def test_a_report_about_a_local_account_is_never_forwarded(client, settings):
    _, token = await member(settings, "alice")
    bob, _ = await member(settings, "bob")

    made = await report(client, token, account_id=str(bob.id), forward=True)

    assert made["forwarded"] is False
    assert not await Delivery.exists()


def flag_from(actor, objects: list[str], content: str = "bad posts") -> dict:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor.server.base}/flags/1",
        "type": "Flag",
        "actor": actor.id,
        "content": content,
        "object": objects,
    }


async def send(client, actor, activity: dict):
    body = orjson.dumps(activity)
    return await client.post(INBOX, data=body, headers=actor.signed(INBOX, body))


async def test_an_incoming_flag_becomes_a_report_and_tells_staff(
    peer_client, fed, fediverse, settings
):
    boss, _ = await staff_token(settings)
    bob, _ = await member(settings, "bob")
    post = await make_post(bob, "reported")
    server_actor = fediverse.server("remote.example").actor(
        "actor", actor_id="https://remote.example/actor"
    )
    activity = flag_from(server_actor, [bob.uri, post.uri])

    assert (await send(peer_client, server_actor, activity)).status_code == 202
    await apply_all(fed)
    await send(peer_client, server_actor, activity)  # a retry files nothing new
    await apply_all(fed)

    (made,) = await Report.all()
    reporter = await Account.get(uri=server_actor.id)
    assert (made.reporter_id, made.target_id) == (reporter.id, bob.id)
    assert (made.post_ids, made.comment, made.uri) == ([post.id], "bad posts", activity["id"])
    assert await Notification.filter(type="admin.report", recipient_id=boss.id).count() == 1


async def test_a_flag_from_a_domain_whose_reports_are_rejected_is_ignored(
    peer_client, fed, fediverse, settings
):
    await Domain.create(
        domain="remote.example", reject_reports=True, blocked_at="2026-01-01T00:00:00Z"
    )
    bob, _ = await member(settings, "bob")
    server_actor = fediverse.server("remote.example").actor("actor")

    assert (
        await send(peer_client, server_actor, flag_from(server_actor, [bob.uri]))
    ).status_code == 202
    await apply_all(fed)

    assert not await Report.exists()
