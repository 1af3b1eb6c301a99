"""What a home timeline holds: the rules the push path, the rebuild and the merge on read share.

Plain functions over post snapshots (``services.postcache``), no I/O: ``services.timelines``
applies them on write and after reading Postgres, and states the same rules in its SQL. They
follow Mastodon's FeedManager: ``filter_from_home`` (a reply to someone the reader does not
follow stays out), ``filter_from_tags`` (posts reaching a hashtag's followers, where that reply
rule does not apply) and ``REBLOG_FALLOFF`` (a boost of a post that is already among the
reader's 40 most recent entries, itself or boosted, is not added again).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any, NamedTuple

from models.posts import Visibility

REBLOG_FALLOFF = 40

# A timeline entry: the post's id, and for a boost the boosted post's id (None otherwise).
Entry = tuple[int, int | None]

PostFields = Mapping[str, Any]  # a post snapshot, or a row with the same columns


class Follower(NamedTuple):
    """A local follower of an author, as the fan-out sees it (a tuple: a fan-out builds one
    per follower, and a frozen dataclass costs several times as much to make)."""

    account_id: int
    show_reblogs: bool  # wants the author's boosts
    follows: frozenset[int] = frozenset()  # which of the replied-to accounts it follows


def replies_to_another(post: PostFields) -> bool:
    """A reply to someone other than the author (self-replies make threads, and stay), or to a
    post we do not hold, whose author we cannot know."""
    account = post["in_reply_to_account_id"]
    if account is not None:
        return bool(account != post["author_id"])
    return post["in_reply_to_id"] is None and post.get("in_reply_to_uri") is not None


# replies_to_another in SQL, over posts ``p``.
REPLIES_TO_ANOTHER_SQL = """(CASE WHEN p.in_reply_to_account_id IS NOT NULL
                THEN p.in_reply_to_account_id <> p.author_id
                ELSE p.in_reply_to_id IS NULL AND p.in_reply_to_uri IS NOT NULL END)"""


def for_every_follower(post: PostFields) -> bool:
    """Whether every follower of the author gets the post (boosts aside: only those who want
    them): not a direct post, not a reply to someone else. The others depend on the follower."""
    return post["visibility"] != Visibility.DIRECT and not replies_to_another(post)


def reply_target(post: PostFields) -> int | None:
    """The account a reply to someone else answers, when we know it: whether the reader
    follows it decides."""
    return post["in_reply_to_account_id"] if replies_to_another(post) else None


def hides_reply(post: PostFields, reader: int, followed: Collection[int]) -> bool:
    """Mastodon's filter_from_home for replies: a followed author's reply to someone the reader
    does not follow stays out, unless it answers or mentions the reader. The reader's own posts
    always show."""
    if post["author_id"] == reader or not replies_to_another(post):
        return False
    target = post["in_reply_to_account_id"]
    return target != reader and target not in followed and reader not in post["mention_ids"]


def reaches_follower(post: PostFields, follower: Follower) -> bool:
    """Whether a follower of the post's author gets it (blocks and mutes are left to the read:
    ``hydrate(hide_muted=True)``; visibility too, beyond direct posts)."""
    if post["boost_of_id"] and not follower.show_reblogs:
        return False
    if post["visibility"] == Visibility.DIRECT and follower.account_id not in post["mention_ids"]:
        return False
    return not hides_reply(post, follower.account_id, follower.follows)


def reaches_tag_followers(post: PostFields) -> bool:
    """Public original posts reach the local followers of their hashtags, local and remote
    posts alike (Mastodon's deliver_to_hashtag_followers). No reply rule: Mastodon files these
    through filter_from_tags, which has none, so a public reply with a followed tag reaches the
    tag's followers even when it answers someone they do not follow."""
    return (
        post["visibility"] == Visibility.PUBLIC
        and not post["boost_of_id"]
        and bool(post.get("tags"))
    )


def without_repeated_boosts(entries: Iterable[Entry], own: Collection[int] = ()) -> list[Entry]:
    """The entries (oldest first) a timeline keeps: a boost is dropped when the boosted post, or
    a boost of it that was kept, is among the REBLOG_FALLOFF entries kept just before it. The
    reader's own boosts (ids in ``own``) always show, and others are not judged against them
    (Mastodon dedups those too; here one's own posts always appear)."""
    kept: list[Entry] = []
    latest: dict[int, int] = {}  # post id -> index in kept of the post or its newest boost
    for entry in entries:
        post_id, boosted = entry
        if boosted is None:
            latest[post_id] = len(kept)
        elif post_id not in own:
            seen = latest.get(boosted)
            if seen is not None and len(kept) - seen <= REBLOG_FALLOFF:
                continue
            latest[boosted] = len(kept)
        kept.append(entry)
    return kept


def boost_links(entries: Iterable[Entry], own: Collection[int] = ()) -> dict[str, str]:
    """The timeline's boosts hash for its entries (oldest first), as the push script keeps it:
    ``b:<boost>`` -> the boosted post, ``o:<post>`` -> its newest boost in the timeline (the
    reader's own boosts, in ``own``, are not judged and not recorded)."""
    links: dict[str, str] = {}
    for post_id, boosted in entries:
        if boosted is not None and post_id not in own:
            links[f"b:{post_id}"] = str(boosted)
            links[f"o:{boosted}"] = str(post_id)
    return links
