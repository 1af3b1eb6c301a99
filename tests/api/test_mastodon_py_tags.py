"""Mastodon.py against a running instance: a hashtag, following it, and its timeline."""

from __future__ import annotations

from tests.api.test_mastodon_py_social import sign_up


def test_a_reader_follows_a_hashtag_reads_its_timeline_and_unfollows(instance):
    alice = sign_up(instance.base_url, "alice")
    bob = sign_up(instance.base_url, "bob")
    posts = [alice.status_post(f"Swift number {n} #Birds") for n in range(3)]
    alice.status_post("a quiet one #birds", visibility="unlisted")

    # Bob looks at the tag, then follows it (case does not matter)
    tag = bob.tag("birds")
    assert (tag["name"], tag["following"]) == ("birds", False)
    assert tag["url"] == f"{instance.base_url}/tags/birds"
    assert len(tag["history"]) == 7
    assert int(tag["history"][0]["uses"]) == 3  # public posts only
    assert bob.tag_follow("BIRDS")["following"] is True
    assert [t["name"] for t in bob.followed_tags()] == ["birds"]
    assert bob.tag("birds")["following"] is True

    # The hashtag timeline, newest first, two at a time through the Link headers
    page = bob.timeline_hashtag("birds", limit=2)
    seen = [str(status["id"]) for status in page]
    page = bob.fetch_next(page)
    seen += [str(status["id"]) for status in page or []]
    assert seen == [str(post["id"]) for post in reversed(posts)]
    assert bob.timeline_hashtag("birds", remote=True) == []

    # Unfollowing answers the tag, no longer followed
    assert bob.tag_unfollow("birds")["following"] is False
    assert bob.followed_tags() == []
