"""Delivering to peers: who gets an activity, signed how, and what happens when they do not
answer (retries with back-off, final refusals, the circuit breaker, the sweep)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from tortoise.timezone import now

from activitypub import signatures
from models.accounts import Account
from models.federation import Delivery, DeliveryState, Domain
from models.posts import Visibility
from models.relationships import Follow, FollowState
from services import delivery, posting
from tests.factories import member
from tests.fakes import Fediverse


async def remote_follower(fediverse: Fediverse, host: str, name: str, followee: Account) -> Account:
    actor = fediverse.server(host).actor(name)
    account = await Account.create(
        username=name, domain=host, acct=f"{name}@{host}", uri=actor.id,
        inbox_uri=f"{actor.id}/inbox", shared_inbox_uri=f"https://{host}/inbox",
        public_key_id=actor.key_id, public_key=actor.keys.public_pem,
    )  # fmt: skip
    await Follow.create(follower=account, followee=followee, state=FollowState.ACCEPTED)
    return account


async def write(
    fed, author: Account, text: str = "hello fediverse", visibility: Visibility | None = None
) -> list[Delivery]:
    new = posting.NewPost(text=text, visibility=visibility)
    post_id = await posting.create_post(fed, author.id, new)
    return await Delivery.filter(activity_id__startswith=f"{author.uri}/statuses/{post_id}")


async def test_a_post_is_queued_once_per_shared_inbox(fed, fediverse, settings):
    alice, _ = await member(settings, "alice")
    for name in ("rob", "ruth", "rhea"):
        await remote_follower(fediverse, "one.example", name, alice)
    await remote_follower(fediverse, "two.example", "tom", alice)

    rows = await write(fed, alice)

    assert sorted(row.inbox for row in rows) == [
        "https://one.example/inbox",
        "https://two.example/inbox",
    ]
    assert {row.payload["type"] for row in rows} == {"Create"}


async def test_a_direct_post_goes_to_the_mentioned_and_not_to_the_followers(
    fed, fediverse, settings
):
    alice, _ = await member(settings, "alice")
    await remote_follower(fediverse, "one.example", "rob", alice)
    ann = await remote_follower(fediverse, "two.example", "ann", alice)
    await Follow.filter(follower=ann).delete()  # ann is mentioned, not a follower

    rows = await write(fed, alice, "@ann@two.example psst", Visibility.DIRECT)

    assert [row.inbox for row in rows] == ["https://two.example/inbox"]
    assert rows[0].payload["object"]["to"] == [ann.uri]


async def test_a_delivery_is_signed_by_its_author_and_marked_delivered(fed, fediverse, settings):
    alice, _ = await member(settings, "alice")
    await remote_follower(fediverse, "one.example", "rob", alice)
    (row,) = await write(fed, alice)

    outcome = await delivery.attempt(fed, row.id)

    assert outcome.state is DeliveryState.DELIVERED
    received = fediverse.server("one.example").received[0]
    assert received.verified
    signature = signatures.read_signature("POST", received.url, received.headers)
    assert signature.key_id == alice.public_key_id
    signatures.verify_signature(signature, alice.public_key)
    assert {"(request-target)", "host", "date", "digest"} <= set(signature.covered)
    assert received.headers["Content-Type"] == "application/activity+json"
    stored = await Delivery.get(id=row.id)
    assert (stored.state, stored.attempts, stored.last_status) == (DeliveryState.DELIVERED, 1, 202)


async def test_a_server_error_is_retried_later_with_back_off(fed, fediverse, settings):
    alice, _ = await member(settings, "alice")
    await remote_follower(fediverse, "one.example", "rob", alice)
    (row,) = await write(fed, alice)
    fediverse.server("one.example").inbox_status = 503

    outcome = await delivery.attempt(fed, row.id)

    assert outcome.state is DeliveryState.PENDING
    stored = await Delivery.get(id=row.id)
    assert stored.attempts == 1
    assert stored.last_status == 503
    base = settings.federation.retry_base_seconds
    wait = (stored.next_attempt_at - now()).total_seconds()
    assert 0.7 * base <= wait <= 1.3 * base
    # A job sent before it is due changes nothing
    assert await delivery.attempt(fed, row.id) is None


@pytest.mark.parametrize("status", [400, 403, 404, 410, 422, 501])
async def test_a_refusal_is_final(fed, fediverse, settings, status):
    alice, _ = await member(settings, "alice")
    await remote_follower(fediverse, "one.example", "rob", alice)
    (row,) = await write(fed, alice)
    fediverse.server("one.example").inbox_status = status

    outcome = await delivery.attempt(fed, row.id)

    assert outcome.state is DeliveryState.FAILED
    assert (await Delivery.get(id=row.id)).next_attempt_at is None


@pytest.mark.parametrize("status", [401, 408, 429, 500, 502, 503])
async def test_a_passing_trouble_is_retried(fed, fediverse, settings, status):
    """Mastodon answers 401 while it cannot fetch our key (its breaker for us may be open)."""
    alice, _ = await member(settings, "alice")
    await remote_follower(fediverse, "one.example", "rob", alice)
    (row,) = await write(fed, alice)
    fediverse.server("one.example").inbox_status = status

    assert (await delivery.attempt(fed, row.id)).state is DeliveryState.PENDING


async def test_an_unreachable_host_is_retried(fed, fediverse, settings):
    alice, _ = await member(settings, "alice")
    await remote_follower(fediverse, "one.example", "rob", alice)
    (row,) = await write(fed, alice)
    del fediverse.servers["one.example"]  # connections now fail

    outcome = await delivery.attempt(fed, row.id)

    assert outcome.state is DeliveryState.PENDING
    assert "no such host" in (await Delivery.get(id=row.id)).last_error


async def test_a_delivery_older_than_the_retry_window_gives_up(fed, fediverse, settings):
    alice, _ = await member(settings, "alice")
    await remote_follower(fediverse, "one.example", "rob", alice)
    (row,) = await write(fed, alice)
    hours = settings.federation.retry_max_hours
    await Delivery.filter(id=row.id).update(created_at=now() - timedelta(hours=hours + 1))
    fediverse.server("one.example").inbox_status = 500

    outcome = await delivery.attempt(fed, row.id)

    assert outcome.state is DeliveryState.FAILED
    assert outcome.error.startswith("gave up")


async def test_a_domain_that_keeps_failing_is_probed_sparingly_until_it_answers(
    fed, fediverse, settings
):
    alice, _ = await member(settings, "alice")
    await remote_follower(fediverse, "one.example", "rob", alice)
    server = fediverse.server("one.example")
    server.inbox_status = 500
    for attempt in range(settings.federation.breaker_failures):
        (row,) = await write(fed, alice, f"post {attempt}")
        await delivery.attempt(fed, row.id)
    assert (await Domain.get(domain="one.example")).unreachable_since is not None

    # When it is unreachable: one probe goes out, the next delivery waits without an attempt
    (probe,) = await write(fed, alice, "probe")
    (waiting,) = await write(fed, alice, "waits")
    sent = len(server.received)
    await delivery.attempt(fed, probe.id)
    postponed = await delivery.attempt(fed, waiting.id)
    assert len(server.received) == sent + 1
    assert postponed.error == "domain unreachable"
    assert (await Delivery.get(id=waiting.id)).attempts == 0

    # Then a success resets the domain and brings waiting deliveries forward
    server.inbox_status = 202
    await backends_reset_probe(fed)
    await delivery.attempt(fed, probe.id)  # not due: nothing
    await Delivery.filter(id=probe.id).update(next_attempt_at=now())
    assert (await delivery.attempt(fed, probe.id)).state is DeliveryState.DELIVERED
    domain = await Domain.get(domain="one.example")
    assert domain.unreachable_since is None
    assert domain.consecutive_failures == 0
    assert (await Delivery.get(id=waiting.id)).next_attempt_at <= now()


async def backends_reset_probe(fed) -> None:
    await fed.redis.delete("domain:probe:one.example")


async def test_the_sweep_enqueues_due_deliveries_that_lost_their_job(fed, fediverse, settings):
    alice, _ = await member(settings, "alice")
    await remote_follower(fediverse, "one.example", "rob", alice)
    (row,) = await write(fed, alice)
    await fed.redis.flushdb()  # Redis lost the job
    await Delivery.filter(id=row.id).update(created_at=now() - timedelta(minutes=1))

    assert await delivery.sweep(fed) == 1
    assert await delivery.sweep(fed) == 0  # already queued: not twice
    assert await fed.queue.zcard("arq:queue") == 1


async def test_a_blocked_domain_gets_nothing(fed, fediverse, settings):
    alice, _ = await member(settings, "alice")
    await remote_follower(fediverse, "one.example", "rob", alice)
    await Domain.create(domain="one.example", blocked=True)

    assert await write(fed, alice) == []


async def test_two_jobs_for_one_delivery_post_it_once(fed, fediverse, settings):
    """The sweep, a retry and a worker that died mid-way may all name one row: an attempt
    claims it, so the peer gets one POST."""
    alice, _ = await member(settings, "alice")
    await remote_follower(fediverse, "one.example", "rob", alice)
    (row,) = await write(fed, alice)

    outcomes = await asyncio.gather(delivery.attempt(fed, row.id), delivery.attempt(fed, row.id))

    assert len(fediverse.server("one.example").received) == 1
    assert sorted(outcome is None for outcome in outcomes) == [False, True]
