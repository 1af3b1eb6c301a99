"""Mastodon.py against a running instance (web + worker): the social core end to end."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from mastodon import Mastodon, MastodonNotFoundError

SCOPES = ["read", "write", "follow"]


def sign_up(base_url: str, username: str) -> Mastodon:
    client_id, client_secret = Mastodon.create_app(
        f"{username}'s app", api_base_url=base_url, scopes=SCOPES
    )
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base_url)
    api.create_account(
        username, "a long password", f"{username}@example.com", agreement=True, scopes=SCOPES
    )
    return api


def eventually(check: Callable[[], bool], seconds: float = 15) -> None:
    """Fan-out runs in the worker: wait (bounded) until the check holds."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.1)


def home_ids(api: Mastodon, limit: int = 40) -> list[str]:
    return [str(status["id"]) for status in api.timeline_home(limit=limit)]


def test_two_people_follow_post_reply_like_boost_and_page(instance):
    alice = sign_up(instance.base_url, "alice")
    bob = sign_up(instance.base_url, "bob")
    alice_id = alice.me()["id"]

    # Bob follows Alice, and Alice is told
    relationship = bob.account_follow(alice_id)
    assert relationship["following"] is True
    assert home_ids(bob) == []  # builds Bob's (empty) timeline, so later posts are pushed

    # Alice posts; the worker pushes the posts into Bob's home timeline
    posts = [alice.status_post(f"post number {n} #starling") for n in range(5)]
    expected = [str(post["id"]) for post in reversed(posts)]
    eventually(lambda: home_ids(bob) == expected)
    assert "#<span>starling</span>" in posts[0]["content"]

    # Bob replies with a mention, likes and boosts
    reply = bob.status_post("@alice nice one", in_reply_to_id=posts[-1]["id"])
    assert str(reply["in_reply_to_id"]) == str(posts[-1]["id"])
    assert bob.status_favourite(posts[-1]["id"])["favourited"] is True
    boost = bob.status_reblog(posts[0]["id"])
    assert str(boost["reblog"]["id"]) == str(posts[0]["id"])

    context = alice.status_context(posts[-1]["id"])
    assert [str(s["id"]) for s in context["descendants"]] == [str(reply["id"])]
    assert alice.status(posts[-1]["id"])["favourites_count"] == 1
    assert alice.status(posts[0]["id"])["reblogs_count"] == 1

    # Alice's notifications: a follow, a mention, a favourite and a reblog, newest first
    kinds = [notification["type"] for notification in alice.notifications()]
    assert kinds == ["reblog", "favourite", "mention", "follow"]

    # Bob pages through his home timeline two at a time, as apps do
    everything = [str(boost["id"]), str(reply["id"]), *expected]
    eventually(lambda: home_ids(bob) == everything)
    page = bob.timeline_home(limit=2)
    seen = [str(status["id"]) for status in page]
    for _ in range(10):  # bounded: 8 entries in pages of 2
        page = bob.fetch_next(page)
        if not page:
            break
        seen += [str(status["id"]) for status in page]
    assert seen == everything

    # Unfollowing removes Alice's posts from Bob's home at once (his own entries stay)
    bob.account_unfollow(alice_id)
    assert home_ids(bob) == [str(boost["id"]), str(reply["id"])]

    # Alice deletes a post: it is gone for everyone
    alice.status_delete(posts[1]["id"])
    with pytest.raises(MastodonNotFoundError):
        bob.status(posts[1]["id"])
