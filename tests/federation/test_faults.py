"""Faults: a peer that is down, a worker killed in the middle of deliveries with Redis wiped,
and requests whose signatures must not be believed. Nothing may be lost, nothing applied twice,
nothing forged stored."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest

from activitypub.signatures import sign_headers, sign_headers_rfc9421
from tests.federation.cluster import Cluster, Person, eventually, query
from tests.federation.proxy import HoldingProxy
from tests.instances import free_port


def _follow(follower: Person, followee: Person) -> None:
    follower.api.account_follow(follower.find(followee)["id"])
    eventually(lambda: follower.relationship(followee)["following"], what="the follow")


def test_a_post_made_while_the_receiver_is_down_arrives_when_it_is_back(cluster: Cluster):
    a, b = cluster.start("down_a", redis_db=3), cluster.start("down_b", redis_db=4)
    alice, bob = cluster.person(a, "alice"), cluster.person(b, "bob")
    _follow(bob, alice)
    b.stop()

    post = alice.api.status_post("written while B was away")
    activity_id = post["uri"] + "/activity"

    # A's attempts fail and are retried with back-off; the row waits, pending
    failed = eventually(
        lambda: query(a, "SELECT attempts, state, last_error FROM deliveries "
                         "WHERE activity_id = $1 AND attempts >= 2", activity_id),
        what="failed attempts",
    )  # fmt: skip
    assert failed[0]["state"] == "pending"
    b = cluster.restart(b)

    seen = eventually(lambda: bob.home_with(post["uri"]), what="the post at B after its return")
    assert "written while B was away" in seen["content"]
    row = query(a, "SELECT state FROM deliveries WHERE activity_id = $1", activity_id)
    assert [r["state"] for r in row] == ["delivered"]


def test_deliveries_survive_a_killed_worker_and_a_flushed_redis_and_arrive_once(
    cluster: Cluster,
):
    # Given B behind a proxy that can hold traffic, and A's worker in a process of its own
    b_port = free_port()
    proxy = HoldingProxy(b_port).start()
    try:
        b = cluster.start("kill_b", redis_db=5, port=b_port,
                          STARLING_INSTANCE_DOMAIN=f"127.0.0.1:{proxy.port}")  # fmt: skip
        a = cluster.start("kill_a", redis_db=6, split=True)
        worker = cluster.worker(a)
        alice, bob = cluster.person(a, "alice"), cluster.person(b, "bob")
        _follow(bob, alice)

        # When A's worker is killed (-9) while its deliveries are in flight, and Redis is wiped
        proxy.hold()
        posts = [alice.api.status_post(f"in flight {n}") for n in range(3)]
        eventually(lambda: proxy.waiting >= 1, what="deliveries in flight")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        with cluster.redis(a) as redis:
            redis.flushdb()
        proxy.release()  # what the dead worker had sent still reaches B
        cluster.worker(a)

        # Then every post reaches B exactly once
        uris = [p["uri"] for p in posts]
        eventually(lambda: all(bob.home_with(u) for u in uris), seconds=45, what="every post")
        home = [s["uri"] for s in bob.home()]
        assert sorted(u for u in home if u in uris) == sorted(uris)

        # ... and A, whose worker lost its jobs, still finishes every delivery (B dedups)
        def delivered() -> bool:
            rows = query(a, "SELECT state FROM deliveries WHERE activity_id = ANY($1::text[])",
                         [u + "/activity" for u in uris])  # fmt: skip
            return bool(rows) and {r["state"] for r in rows} == {"delivered"}

        eventually(delivered, seconds=45, what="A's deliveries marked delivered")
        for uri in uris:
            stored = query(b, "SELECT count(*) AS n FROM inbox_items WHERE activity_id = $1",
                           uri + "/activity")  # fmt: skip
            assert stored[0]["n"] == 1
    finally:
        proxy.stop()


# --- signatures that must not be believed --------------------------------------------------


@pytest.fixture
def signer(cluster: Cluster, a, b) -> tuple[Person, Person, dict]:
    """bob on B (whose real key we sign with), carol on B, and alice on A, who follows bob."""
    alice, bob, carol = (
        cluster.person(a, "alice"),
        cluster.person(b, "bob"),
        cluster.person(b, "carol"),
    )
    _follow(alice, bob)
    key = query(b, "SELECT public_key_id, private_key FROM accounts WHERE uri = $1", bob.actor)[0]
    return alice, carol, {"actor": bob.actor, "key_id": key["public_key_id"],
                          "pem": key["private_key"]}  # fmt: skip


def _create(actor: str, alice: Person, text: str) -> dict:
    note_id = f"{actor}/statuses/forged-{abs(hash(text))}"
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{note_id}/activity",
        "type": "Create",
        "actor": actor,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": note_id, "type": "Note", "attributedTo": actor, "content": f"<p>{text}</p>",
            "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [alice.actor],
            "published": datetime.now(UTC).isoformat(),
        },
    }  # fmt: skip


def _post(alice: Person, body: bytes, headers: dict[str, str]) -> httpx.Response:
    inbox = f"{alice.instance.base_url}/inbox"
    return httpx.post(inbox, content=body, headers=headers, timeout=10)


def _signed(alice: Person, key: dict, body: bytes, *, when: datetime | None = None) -> dict:
    inbox = f"{alice.instance.base_url}/inbox"
    headers = {"Content-Type": "application/activity+json"}
    return headers | sign_headers("POST", inbox, headers, body, key_id=key["key_id"],
                                  private_key_pem=key["pem"], now=when)  # fmt: skip


def _stored(alice: Person, activity: dict) -> bool:
    return bool(query(alice.instance, "SELECT 1 FROM inbox_items WHERE activity_id = $1",
                      activity["id"]))  # fmt: skip


def test_a_correctly_signed_create_is_accepted_and_applied(signer):
    alice, _, key = signer
    activity = _create(key["actor"], alice, "signed properly")
    body = orjson.dumps(activity)

    response = _post(alice, body, _signed(alice, key, body))

    assert response.status_code == 202
    assert _stored(alice, activity)
    eventually(lambda: alice.home_with(activity["object"]["id"]), what="the post at A")


def test_an_rfc9421_signed_create_is_accepted(signer):
    alice, _, key = signer
    activity = _create(key["actor"], alice, "signed the RFC 9421 way")
    body = orjson.dumps(activity)
    inbox = f"{alice.instance.base_url}/inbox"
    headers = {"Content-Type": "application/activity+json"}
    headers |= sign_headers_rfc9421("POST", inbox, headers, body, key_id=key["key_id"],
                                    private_key_pem=key["pem"])  # fmt: skip

    response = _post(alice, body, headers)

    assert response.status_code == 202
    assert _stored(alice, activity)


def test_a_tampered_body_is_refused_and_stored_nowhere(signer):
    alice, _, key = signer
    activity = _create(key["actor"], alice, "the original words")
    headers = _signed(alice, key, orjson.dumps(activity))
    activity["object"]["content"] = "<p>words put in bob's mouth</p>"

    response = _post(alice, orjson.dumps(activity), headers)

    assert response.status_code == 401
    assert not _stored(alice, activity)


def test_a_replayed_old_date_is_refused_and_stored_nowhere(signer):
    alice, _, key = signer
    activity = _create(key["actor"], alice, "from yesterday")
    body = orjson.dumps(activity)
    thirteen_hours_ago = datetime.now(UTC) - timedelta(hours=13)

    response = _post(alice, body, _signed(alice, key, body, when=thirteen_hours_ago))

    assert response.status_code == 401
    assert not _stored(alice, activity)


def test_a_signature_by_a_key_that_does_not_own_the_actor_is_refused(signer):
    alice, carol, key = signer
    activity = _create(carol.actor, alice, "carol did not write this")
    body = orjson.dumps(activity)

    response = _post(alice, body, _signed(alice, key, body))  # bob's key, carol's name

    assert response.status_code == 401
    assert not _stored(alice, activity)
