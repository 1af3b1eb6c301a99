"""Domain blocks: the admin API, what silence and suspend do, lifting them, and the command
line reaching a running instance."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import orjson
from tortoise.timezone import now

from models.accounts import Account, Role
from models.federation import Delivery, DeliveryState, Domain, InboxItem
from models.relationships import Follow, FollowState
from services import delivery, domains, posting
from tests.factories import bearer, make_post, make_remote_account, make_user, member, token_for
from tests.instances import ROOT
from tests.integration.test_federation_inbox import INBOX, create_note
from tests.integration.test_search_index import child_env

BLOCKS = "/api/v1/admin/domain_blocks"


async def admin_token(settings, name: str = "boss", role: Role = Role.ADMIN) -> str:
    user = await make_user(settings, name, role=role)
    return await token_for(user, "read write admin:read admin:write")


async def block(client, token: str, domain: str = "remote.example", **fields) -> dict:
    response = await client.post(BLOCKS, json={"domain": domain, **fields}, headers=bearer(token))
    assert response.status_code == 200, await response.get_data()
    return await response.get_json()


async def test_a_block_is_created_shown_listed_and_changed_in_mastodons_shape(client, settings):
    token = await admin_token(settings)

    made = await block(client, token, "Spam.Example", severity="suspend", public_comment="spam",
                       private_comment="seen on 1 Dec", reject_media="true")  # fmt: skip

    assert made["domain"] == "spam.example"
    assert made["severity"] == "suspend"
    assert (made["reject_media"], made["reject_reports"], made["obfuscate"]) == (True, False, False)
    assert (made["public_comment"], made["private_comment"]) == ("spam", "seen on 1 Dec")
    assert len(made["digest"]) == 64
    assert made["created_at"].endswith("Z")
    shown = await (await client.get(f"{BLOCKS}/{made['id']}", headers=bearer(token))).get_json()
    assert shown == made
    listed = await (await client.get(BLOCKS, headers=bearer(token))).get_json()
    assert [item["id"] for item in listed] == [made["id"]]
    changed = await client.put(f"{BLOCKS}/{made['id']}", json={"severity": "silence"},
                               headers=bearer(token))  # fmt: skip
    assert (await changed.get_json())["severity"] == "silence"
    assert (await changed.get_json())["public_comment"] == "spam"


async def test_blocking_a_domain_twice_is_422_with_the_existing_block(client, settings):
    token = await admin_token(settings)
    first = await block(client, token, severity="silence")

    again = await client.post(BLOCKS, json={"domain": "remote.example"}, headers=bearer(token))

    assert again.status_code == 422
    assert (await again.get_json())["existing_domain_block"]["id"] == first["id"]


async def test_bad_domains_and_severities_are_422(client, settings):
    token = await admin_token(settings)
    for body in ({"domain": "not a domain"}, {"domain": "starling.test"},
                 {"domain": "x.example", "severity": "obliterate"}, {}):  # fmt: skip
        response = await client.post(BLOCKS, json=body, headers=bearer(token))
        assert response.status_code == 422, body
        assert "error" in await response.get_json()


async def test_non_staff_and_tokens_without_the_scope_get_403(client, settings):
    user = await make_user(settings, "plain")
    plain = await token_for(user, "read write admin:read admin:write")
    moderator = await admin_token(settings, "mod", Role.MODERATOR)
    no_scope = await token_for(await make_user(settings, "boss2", role=Role.ADMIN), "read write")

    assert (await client.get(BLOCKS, headers=bearer(plain))).status_code == 403
    assert (await client.get(BLOCKS, headers=bearer(no_scope))).status_code == 403
    assert (await client.get(BLOCKS)).status_code == 401
    assert (await client.get(BLOCKS, headers=bearer(moderator))).status_code == 200


async def test_the_public_list_shows_severity_comment_and_stars_out_obfuscated_ones(
    client, settings
):
    token = await admin_token(settings)
    await block(client, token, "hidden.example", severity="suspend", obfuscate=True)
    await block(client, token, "open.example", public_comment="harassment")

    listed = await (await client.get("/api/v1/instance/domain_blocks")).get_json()

    by_severity = {item["severity"]: item for item in listed}
    assert by_severity["silence"] == {
        "domain": "open.example",
        "digest": by_severity["silence"]["digest"],
        "severity": "silence",
        "comment": "harassment",
    }
    hidden = by_severity["suspend"]["domain"]
    assert hidden != "hidden.example"
    assert "*" in hidden
    assert hidden.count(".") == 1


async def test_a_suspended_domain_gets_403_at_the_inbox(client, settings, fediverse):
    token = await admin_token(settings)
    await block(client, token, severity="suspend")
    rob = fediverse.server("remote.example").actor("rob")
    body = orjson.dumps(create_note(rob, f"{rob.id}/statuses/1", "<p>x</p>", []))

    response = await client.post(INBOX, data=body, headers=rob.signed(INBOX, body))

    assert response.status_code == 403
    assert not await InboxItem.exists()


async def test_suspending_severs_follows_fixes_counts_and_hides_content(client, settings):
    alice, alice_token = await member(settings, "alice")
    rob = await make_remote_account("rob", "remote.example")
    other = await make_remote_account("olga", "other.example")
    for follower, followee in ((alice, rob), (rob, alice), (alice, other)):
        await Follow.create(follower=follower, followee=followee, state=FollowState.ACCEPTED)
    await Account.filter(id=alice.id).update(followers_count=1, following_count=2)
    robs_post = await make_post(rob, "hello from rob")
    token = await admin_token(settings)

    await block(client, token, severity="suspend")

    # Then the follows with the domain are gone, the counts with them; others are kept
    assert await Follow.filter(follower_id=alice.id).values_list("followee_id", flat=True) == [
        other.id
    ]
    assert not await Follow.filter(follower_id=rob.id).exists()
    me = await (await client.get("/api/v1/accounts/verify_credentials",
                                 headers=bearer(alice_token))).get_json()  # fmt: skip
    assert (me["followers_count"], me["following_count"]) == (0, 1)
    # And rob and his posts are gone from the API
    status = await client.get(f"/api/v1/statuses/{robs_post.id}", headers=bearer(alice_token))
    assert status.status_code == 404
    assert (await client.get(f"/api/v1/accounts/{rob.id}")).status_code == 404


async def test_lifting_a_suspension_restores_the_accounts_it_suspended(client, settings):
    rob = await make_remote_account("rob", "remote.example")
    robs_post = await make_post(rob, "back again")
    token = await admin_token(settings)
    made = await block(client, token, severity="suspend")
    assert (await Account.get(id=rob.id)).suspended_at is not None

    lifted = await client.delete(f"{BLOCKS}/{made['id']}", headers=bearer(token))

    assert lifted.status_code == 200
    assert (await Account.get(id=rob.id)).suspended_at is None
    assert (await client.get(f"/api/v1/statuses/{robs_post.id}")).status_code == 200
    assert (await client.get(BLOCKS, headers=bearer(token))).status_code == 200
    assert await (await client.get("/api/v1/instance/domain_blocks")).get_json() == []


async def test_a_silenced_domains_posts_stay_out_of_the_public_timeline(client, settings):
    rob = await make_remote_account("rob", "remote.example")
    olga = await make_remote_account("olga", "other.example")
    await make_post(rob, "from a silenced server")
    kept = await make_post(olga, "from a fine server")
    token = await admin_token(settings)

    await block(client, token, severity="silence")

    public = await (await client.get("/api/v1/timelines/public")).get_json()
    assert [status["id"] for status in public] == [str(kept.id)]
    assert (await Account.get(id=rob.id)).silenced_at is not None


async def test_an_account_first_seen_after_a_silence_starts_silenced(fed, fediverse, settings):
    from services.domain_blocks import BlockSpec, Severity
    from services.domain_blocks import block as block_domain
    from services.remote.actors import fetch_actor

    await block_domain(fed, "remote.example", BlockSpec(severity=Severity.SILENCE))
    rob = fediverse.server("remote.example").actor("rob")

    account = await fetch_actor(fed, rob.id)

    assert account.silenced_at is not None


async def test_nothing_is_delivered_to_a_suspended_domain(client, fed, fediverse, settings):
    alice, _ = await member(settings, "alice")
    rob = await make_remote_account("rob", "remote.example")
    await Follow.create(follower=rob, followee=alice, state=FollowState.ACCEPTED)
    fediverse.server("remote.example")
    await posting.create_post(fed, alice.id, posting.NewPost(text="before"))
    (waiting,) = await Delivery.filter(state=DeliveryState.PENDING)
    token = await admin_token(settings)

    await block(client, token, severity="suspend")
    await posting.create_post(fed, alice.id, posting.NewPost(text="after"))
    outcome = await delivery.attempt(fed, waiting.id)

    # Then the waiting delivery was given up, the new post queued nothing, nothing was sent
    assert outcome is None
    assert (await Delivery.get(id=waiting.id)).state is DeliveryState.FAILED
    assert await Delivery.all().count() == 1
    assert fediverse.server("remote.example").received == []


def run_cli(settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "instance.cli", "domains", *args], cwd=ROOT,
        env=child_env(settings), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


async def _listening() -> None:
    """Until this process's subscription to domain changes is confirmed (as in any instance
    that has been up for more than a moment)."""
    async with asyncio.timeout(5):
        while not domains.LOCAL.subscriptions:  # noqa: ASYNC110 - set by the listener task
            await asyncio.sleep(0.02)


async def test_the_command_line_block_takes_effect_in_a_running_instance_at_once(
    client, settings, fediverse
):
    rob = fediverse.server("remote.example").actor("rob")
    body = orjson.dumps(create_note(rob, f"{rob.id}/statuses/1", "<p>x</p>", []))
    redis = client.app.extensions["starling"].redis
    await _listening()
    assert not await domains.is_blocked(redis, "remote.example")

    async def busy() -> None:  # looks at the states all the time, as a busy inbox does
        while True:
            await domains.is_blocked(redis, "remote.example")
            await asyncio.sleep(0.02)

    # While the running instance keeps looking at its copy, the admin blocks the domain
    looking = asyncio.create_task(busy())
    try:
        done = await asyncio.to_thread(
            run_cli, settings, "block", "remote.example", "--severity", "suspend",
            "--public-comment", "spam",
        )  # fmt: skip
    finally:
        looking.cancel()

    assert done.returncode == 0, done.stderr
    assert "remote.example is blocked (suspend)" in done.stdout
    # No wait: what the domain sends the moment the command has returned is refused
    response = await client.post(INBOX, data=body, headers=rob.signed(INBOX, body))
    assert response.status_code == 403
    listed = await asyncio.to_thread(run_cli, settings, "list")
    assert "remote.example" in listed.stdout
    assert "suspend" in listed.stdout
    lifted = await asyncio.to_thread(run_cli, settings, "unblock", "remote.example")
    assert lifted.returncode == 0, lifted.stderr
    missing = await asyncio.to_thread(run_cli, settings, "unblock", "remote.example")
    assert missing.returncode != 0
    assert "not blocked" in missing.stderr


async def test_without_pub_sub_a_change_made_elsewhere_is_seen_within_a_second(backends):
    redis = backends.redis
    await _listening()
    await backends.listener.stop()  # as when this process's subscription is lost
    assert not await domains.is_blocked(redis, "remote.example")  # the copy it now holds

    # Another process blocks the domain and bumps the counter; its message is never heard
    await Domain.create(domain="remote.example", blocked=True, blocked_at=now())
    await redis.incr(domains.VERSION_KEY)
    held = await domains.is_blocked(redis, "remote.example")
    await asyncio.sleep(domains.CHECK_SECONDS + 0.1)

    assert not held  # the copy, until the counter is read again
    assert await domains.is_blocked(redis, "remote.example")
