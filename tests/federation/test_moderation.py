"""Moderation across two real instances: a report forwarded as a Flag becomes a report on the
reported account's server, and a suspended domain is cut off (follows severed, deliveries
refused)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.federation.cluster import eventually, query
from tests.instances import ROOT


def starling(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "instance.cli", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_a_forwarded_report_reaches_the_reported_accounts_server_as_a_flag(cluster, a, b):
    alice, bob = cluster.person(a, "alice"), cluster.person(b, "bob")
    post = bob.api.status_post("something to report")
    remote_post = alice.api.search_v2(post["url"], resolve=True)["statuses"][0]

    # Alice reports Bob at A and asks for a copy to go to his server
    alice.api.report(
        alice.find(bob)["id"], status_ids=[remote_post["id"]], comment="spam, surely",
        forward=True, category="spam",
    )  # fmt: skip

    # Then B holds a report about Bob, with the post, filed by A's instance actor
    sql = """SELECT r.comment, r.category, r.post_ids, t.username AS target, f.uri AS reporter
             FROM reports r JOIN accounts t ON t.id = r.target_id
             JOIN accounts f ON f.id = r.reporter_id"""
    rows = eventually(lambda: query(b, sql), what="the Flag at B")
    assert len(rows) == 1
    report = rows[0]
    assert (report["target"], report["comment"]) == (bob.username, "spam, surely")
    assert str(post["id"]) in [str(p) for p in json.loads(report["post_ids"])]
    assert report["reporter"] == f"{a.base_url}/actor"  # the server, never the reporter


def test_a_suspended_domain_is_cut_off(cluster, a, b):
    alice, bob = cluster.person(a, "alice"), cluster.person(b, "bob")
    alice.api.account_follow(alice.find(bob)["id"])
    eventually(lambda: alice.relationship(bob)["following"], what="alice follows bob")

    # A's admin suspends B's domain from the command line, while A runs
    result = starling(a.env, "domains", "block", b.domain, "--severity", "suspend")
    assert result.returncode == 0, result.stderr

    # Then the follow is severed on A, and what B sends next is refused and never shown
    eventually(lambda: not query(a, "SELECT 1 FROM follows"), what="the follow severed at A")
    post = bob.api.status_post("after the block")
    sql = "SELECT last_status FROM deliveries WHERE activity_id LIKE $1 AND last_status IS NOT NULL"
    answered = eventually(lambda: query(b, sql, post["uri"] + "%"), what="B's delivery answered")
    assert [row["last_status"] for row in answered] == [403]
    assert not query(a, "SELECT 1 FROM posts WHERE uri = $1", post["uri"])
    assert alice.home_with(post["uri"]) is None
