"""Posts across two real instances: timelines, replies, mentions, likes, boosts, deletes, edits
of the profile, and posts that only some may see."""

from __future__ import annotations

import pytest
from mastodon import MastodonNotFoundError

from tests.federation.cluster import Cluster, Person, eventually, get, query


@pytest.fixture
def pair(cluster: Cluster, a, b) -> tuple[Person, Person]:
    """alice on A follows bob on B, and bob follows alice."""
    alice, bob = cluster.person(a, "alice"), cluster.person(b, "bob")
    alice.api.account_follow(alice.find(bob)["id"])
    bob.api.account_follow(bob.find(alice)["id"])
    eventually(lambda: alice.relationship(bob)["following"], what="alice follows bob")
    eventually(lambda: bob.relationship(alice)["following"], what="bob follows alice")
    return alice, bob


def arrived(person: Person, uri: str) -> dict:
    return eventually(lambda: person.home_with(uri), what=f"{uri} in {person.acct}'s home")


def test_a_post_arrives_in_a_remote_followers_home_timeline(pair):
    alice, bob = pair

    post = bob.api.status_post("Hello from B #starling")

    seen = arrived(alice, post["uri"])
    assert seen["account"]["acct"] == bob.acct
    assert "Hello from B" in seen["content"]
    assert [t["name"] for t in seen["tags"]] == ["starling"]
    assert seen["visibility"] == "public"
    assert seen["url"] == post["url"]


def test_a_reply_thread_spans_both_instances(pair):
    alice, bob = pair
    root = alice.api.status_post("a question from A")
    root_at_b = arrived(bob, root["uri"])

    reply = bob.api.status_post(f"@{alice.acct} an answer from B", in_reply_to_id=root_at_b["id"])
    reply_at_a = arrived(alice, reply["uri"])
    answer = alice.api.status_post(f"@{bob.acct} thanks", in_reply_to_id=reply_at_a["id"])

    # A threads bob's reply under alice's post; B holds the whole thread in order
    assert reply_at_a["in_reply_to_id"] == str(root["id"])
    answer_at_b = arrived(bob, answer["uri"])
    assert answer_at_b["in_reply_to_id"] == str(reply["id"])
    context = bob.api.status_context(answer_at_b["id"])
    assert [s["uri"] for s in context["ancestors"]] == [root["uri"], reply["uri"]]
    assert eventually(lambda: alice.api.status(root["id"])["replies_count"] == 1)


def test_a_mention_notifies_the_remote_account(cluster: Cluster, a, b):
    alice, bob = cluster.person(a, "alice"), cluster.person(b, "bob")

    post = alice.api.status_post(f"hello @{bob.acct}, do you know us?")

    mention = eventually(lambda: bob.notifications_of("mention"), what="the mention at B")[0]
    assert mention["account"]["acct"] == alice.acct
    assert mention["status"]["uri"] == post["uri"]
    assert [m["acct"] for m in mention["status"]["mentions"]] == [bob.username]
    # The mention is a link to bob's profile in what A shows too
    assert f'href="{b.base_url}/@{bob.username}"' in post["content"]


def test_a_like_and_a_boost_notify_the_author_on_the_other_side(pair):
    alice, bob = pair
    post = alice.api.status_post("like and boost me")
    at_b = arrived(bob, post["uri"])

    bob.api.status_favourite(at_b["id"])
    bob.api.status_reblog(at_b["id"])

    like = eventually(lambda: alice.notifications_of("favourite"), what="the Like at A")[0]
    boost = eventually(lambda: alice.notifications_of("reblog"), what="the Announce at A")[0]
    assert like["account"]["acct"] == bob.acct
    assert boost["account"]["acct"] == bob.acct
    counts = alice.api.status(post["id"])
    assert (counts["favourites_count"], counts["reblogs_count"]) == (1, 1)


def test_undoing_a_like_and_a_boost_takes_them_back_on_the_other_side(pair):
    alice, bob = pair
    post = alice.api.status_post("changed my mind")
    at_b = arrived(bob, post["uri"])
    bob.api.status_favourite(at_b["id"])
    bob.api.status_reblog(at_b["id"])
    eventually(lambda: alice.api.status(post["id"])["reblogs_count"] == 1, what="the boost at A")
    eventually(lambda: alice.api.status(post["id"])["favourites_count"] == 1, what="the like")

    bob.api.status_unfavourite(at_b["id"])
    bob.api.status_unreblog(at_b["id"])

    eventually(lambda: alice.api.status(post["id"])["favourites_count"] == 0, what="Undo Like")
    eventually(lambda: alice.api.status(post["id"])["reblogs_count"] == 0, what="Undo Announce")
    assert alice.notifications_of("favourite") == []
    assert alice.notifications_of("reblog") == []


def test_a_remote_boost_reaches_the_boosters_followers(cluster: Cluster, pair):
    alice, bob = pair
    dave = cluster.person(bob.instance, "dave")  # on B, follows bob only
    dave.api.account_follow(bob.account_id())
    post = alice.api.status_post("boost me to your followers")
    at_b = arrived(bob, post["uri"])

    bob.api.status_reblog(at_b["id"])

    # dave (local to bob) sees it; alice's server stores bob's Announce as a boost of her post
    boosted = eventually(lambda: next((s for s in dave.home() if s["reblog"]), None))
    assert boosted["reblog"]["uri"] == post["uri"]
    eventually(lambda: query(alice.instance, "SELECT 1 FROM posts WHERE boost_of_id = $1",
                             int(post["id"])), what="the boost row at A")  # fmt: skip


def test_a_deleted_post_is_gone_on_the_other_side(pair):
    alice, bob = pair
    post = alice.api.status_post("this will not last")
    at_b = arrived(bob, post["uri"])

    alice.api.status_delete(post["id"])

    eventually(lambda: bob.home_with(post["uri"]) is None, what="the Delete at B")
    assert not query(bob.instance, "SELECT 1 FROM posts WHERE uri = $1", post["uri"])
    assert query(bob.instance, "SELECT 1 FROM tombstones WHERE uri = $1", post["uri"])
    with pytest.raises(MastodonNotFoundError):
        bob.api.status(at_b["id"])


def test_a_profile_update_reaches_the_followers_server(pair):
    alice, bob = pair

    alice.api.account_update_credentials(display_name="Alice of A", note="I live on A.")

    def updated():
        found = bob.find(alice)
        return found if found["display_name"] == "Alice of A" else None

    found = eventually(updated, what="the Update at B")
    assert "I live on A." in found["note"]


def test_a_followers_only_post_reaches_followers_and_no_unsigned_fetch(pair):
    alice, bob = pair

    post = alice.api.status_post("for my followers", visibility="private")

    seen = arrived(bob, post["uri"])
    assert seen["visibility"] == "private"
    for accept in ("application/activity+json", "text/html"):
        assert get(post["uri"], headers={"Accept": accept}).status_code == 404
    # A public post is served to anyone, as ActivityStreams JSON
    public = alice.api.status_post("for everyone")
    response = get(public["uri"], headers={"Accept": "application/activity+json"})
    assert response.status_code == 200
    assert response.json()["id"] == public["uri"]


def test_a_direct_message_reaches_only_the_mentioned(cluster: Cluster, pair):
    alice, bob = pair
    eve = cluster.person(bob.instance, "eve")
    eve.api.account_follow(eve.find(alice)["id"])
    eventually(lambda: eve.relationship(alice)["following"], what="eve follows alice")

    post = alice.api.status_post(f"@{bob.acct} just for you", visibility="direct")

    mention = eventually(lambda: bob.notifications_of("mention"), what="the DM at B")[0]
    assert mention["status"]["visibility"] == "direct"
    assert mention["status"]["uri"] == post["uri"]
    assert eve.home_with(post["uri"]) is None
