"""Follows across two real instances: resolve, follow both ways, requests, unfollow, block."""

from __future__ import annotations

from tests.federation.cluster import Cluster, eventually, query


def test_a_remote_account_resolves_through_webfinger_with_its_acct_and_urls(cluster, a, b):
    alice, bob = cluster.person(a, "alice"), cluster.person(b, "bob")

    found = alice.find(bob)

    assert found["acct"] == bob.acct
    assert found["username"] == bob.username
    assert found["uri"] == bob.actor
    assert found["url"] == f"{b.base_url}/@{bob.username}"


def test_following_a_remote_account_waits_for_its_accept_then_follows(cluster, a, b):
    alice, bob = cluster.person(a, "alice"), cluster.person(b, "bob")

    rel = alice.api.account_follow(alice.find(bob)["id"])

    assert rel["requested"] or rel["following"]
    eventually(lambda: alice.relationship(bob)["following"], what="Accept from B")
    assert alice.relationship(bob)["requested"] is False
    # Both sides count the follow, each from its own rows.
    assert eventually(lambda: bob.api.me()["followers_count"] == 1)
    assert alice.api.me()["following_count"] == 1
    assert bob.relationship(alice)["followed_by"] is True


def test_follows_work_both_ways(cluster, a, b):
    alice, bob = cluster.person(a, "alice"), cluster.person(b, "bob")

    alice.api.account_follow(alice.find(bob)["id"])
    bob.api.account_follow(bob.find(alice)["id"])

    eventually(lambda: alice.relationship(bob)["following"], what="alice follows bob")
    eventually(lambda: bob.relationship(alice)["following"], what="bob follows alice")
    assert alice.relationship(bob)["followed_by"] is True
    assert bob.relationship(alice)["followed_by"] is True


def test_a_locked_accounts_request_is_accepted_by_its_owner(cluster: Cluster, a, b):
    alice, carol = cluster.person(a, "alice"), cluster.person(b, "carol", locked=True)

    alice.api.account_follow(alice.find(carol)["id"])

    # Carol sees the request, with a notification, and accepts it
    requests = eventually(lambda: carol.api.follow_requests(), what="the request at B")
    assert [r["acct"] for r in requests] == [alice.acct]
    assert carol.notifications_of("follow_request")
    assert alice.relationship(carol)["requested"] is True
    carol.api.follow_request_authorize(requests[0]["id"])

    eventually(lambda: alice.relationship(carol)["following"], what="the Accept at A")
    assert carol.api.me()["followers_count"] == 1


def test_a_locked_accounts_rejected_request_leaves_no_follow(cluster: Cluster, a, b):
    alice, carol = cluster.person(a, "alice"), cluster.person(b, "carol", locked=True)
    alice.api.account_follow(alice.find(carol)["id"])
    requests = eventually(lambda: carol.api.follow_requests(), what="the request at B")

    carol.api.follow_request_reject(requests[0]["id"])

    eventually(lambda: not alice.relationship(carol)["requested"], what="the Reject at A")
    assert alice.relationship(carol)["following"] is False
    assert not query(a, "SELECT 1 FROM follows f JOIN accounts a ON a.id = f.followee_id "
                        "WHERE a.uri = $1", carol.actor)  # fmt: skip


def test_unfollowing_stops_deliveries(cluster: Cluster, a, b):
    alice, bob = cluster.person(a, "alice"), cluster.person(b, "bob")
    alice.api.account_follow(alice.find(bob)["id"])
    eventually(lambda: bob.api.me()["followers_count"] == 1, what="the follow at B")

    alice.api.account_unfollow(alice.find(bob)["id"])
    eventually(lambda: bob.api.me()["followers_count"] == 0, what="the Undo at B")
    post = bob.api.status_post("after the unfollow")

    # Then B queues nothing for A's inbox, and A never stores the post
    rows = query(
        b, "SELECT inbox FROM deliveries WHERE activity_id = $1", post["uri"] + "/activity"
    )
    assert rows == []
    assert alice.relationship(bob)["following"] is False
    assert not query(a, "SELECT 1 FROM posts WHERE uri = $1", post["uri"])


def test_a_block_severs_follows_on_both_sides(cluster: Cluster, a, b):
    alice, bob = cluster.person(a, "alice"), cluster.person(b, "bob")
    alice.api.account_follow(alice.find(bob)["id"])
    bob.api.account_follow(bob.find(alice)["id"])
    eventually(lambda: alice.relationship(bob)["following"], what="alice follows bob")
    eventually(lambda: bob.relationship(alice)["following"], what="bob follows alice")

    alice.api.account_block(alice.find(bob)["id"])

    # On A at once, on B when the Block arrives: no follow either way, and B knows it is blocked
    assert alice.relationship(bob)["following"] is False
    assert alice.relationship(bob)["followed_by"] is False
    eventually(lambda: bob.relationship(alice)["blocked_by"], what="the Block at B")
    assert bob.relationship(alice)["following"] is False
    assert bob.relationship(alice)["followed_by"] is False
    assert bob.api.me()["following_count"] == 0
    assert bob.api.me()["followers_count"] == 0
