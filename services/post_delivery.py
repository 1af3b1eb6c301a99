"""Who hears of a local post, its deletion and its boosts: Create, Delete and Announce rows.

Recipients as Mastodon's StatusReachFinder picks them: the author's remote followers (not for
direct posts), the remote accounts it mentions, and for public and unlisted posts the author
of the post it replies to. A Delete also reaches the remote accounts that boosted the post.
Each function runs inside the transaction that writes (or deletes) the post.
"""

from __future__ import annotations

from typing import Any

from activitypub import render
from instance.config import Settings
from models.accounts import Account
from models.posts import Post, Visibility
from services import activities, federate
from services.postcache import Snapshot

DISTRIBUTABLE = (Visibility.PUBLIC, Visibility.UNLISTED)


async def _parent(post: Snapshot) -> tuple[str | None, int | None]:
    """The replied-to post's id (uri) and its author, whether we hold it or only know its uri."""
    if post["in_reply_to_id"] is None:
        return post.get("in_reply_to_uri"), None
    parent = await Post.filter(id=post["in_reply_to_id"]).values("uri", "author_id")
    if not parent:
        return post.get("in_reply_to_uri"), post["in_reply_to_account_id"]
    return parent[0]["uri"], parent[0]["author_id"]


async def _mentioned(post: Snapshot) -> list[Snapshot]:
    ids = list(post["mention_ids"])
    if not ids:
        return []
    rows = await Account.filter(id__in=ids).values("id", "uri", "username", "domain")
    by_id = {row["id"]: row for row in rows}
    return [by_id[i] for i in ids if i in by_id]


async def note_of(post: Snapshot, author: Account, settings: Settings) -> render.NoteValues:
    """A local post (a snapshot-shaped dict) as the Note we publish."""
    return (await _note_and_parent_author(post, author, settings))[0]


async def _note_and_parent_author(
    post: Snapshot, author: Account, settings: Settings
) -> tuple[render.NoteValues, int | None]:
    parent_uri, parent_author = await _parent(post)
    note = activities.note_values(post, author, await _mentioned(post), parent_uri, settings)
    return note, parent_author


async def _recipients(
    post: Snapshot,
    author: Account,
    extra_ids: list[int],
    parent_author: int | None,
    follower_inboxes: list[str] | None = None,
) -> list[str]:
    """``follower_inboxes``: the author's remote followers' inboxes when the caller read them
    already (None: read them here)."""
    visibility = Visibility(post["visibility"])
    if visibility == Visibility.DIRECT:
        inboxes = []
    elif follower_inboxes is None:
        inboxes = await federate.follower_inboxes(author.id)
    else:
        inboxes = follower_inboxes
    account_ids = list(post["mention_ids"]) + extra_ids
    if visibility in DISTRIBUTABLE and parent_author is not None:
        account_ids.append(parent_author)
    return inboxes + await federate.inboxes_of(account_ids)


async def queue_create(
    post: Snapshot, author: Account, settings: Settings, follower_inboxes: list[str] | None = None
) -> list[int]:
    values, parent_author = await _note_and_parent_author(post, author, settings)
    inboxes = await _recipients(post, author, [], parent_author, follower_inboxes)
    return await federate.queue(author, activities.create_activity(values), inboxes)


async def queue_delete(
    post: Snapshot, author: Account, settings: Settings, boosters: list[int]
) -> list[int]:
    """Delete reaches whoever got the Create, and the remote accounts that boosted it."""
    values, parent_author = await _note_and_parent_author(post, author, settings)
    inboxes = await _recipients(post, author, boosters, parent_author)
    return await federate.queue(author, activities.delete_activity(values), inboxes)


async def queue_announce(
    boost: Snapshot, booster: Account, original: Snapshot, undo: bool = False
) -> list[int]:
    """A boost (or its Undo) to the booster's remote followers and the original's author."""
    author = await Account.get(id=original["author_id"])
    announce: dict[str, Any] = activities.announce_activity(
        boost, booster, original["uri"], author.uri
    )
    inboxes = await federate.follower_inboxes(booster.id)
    inboxes += await federate.inboxes_of([author.id])
    if undo:
        announce = activities.undo_activity(booster, announce)
    return await federate.queue(booster, announce, inboxes)
