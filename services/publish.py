"""What peers may fetch from us: actors, posts (as Notes and their Create / Announce), outboxes
and follower collections, with the visibility rules for a fetch.

Public and unlisted posts are served to anyone. Followers-only and direct posts only to a
fetch signed by an account allowed to see them (an accepted follower, a mentioned account),
checked by the same ``services/statuses`` rules as every other read.
"""

from __future__ import annotations

from typing import Any

from activitypub import render
from models.accounts import USER_ACTOR_TYPES, Account
from services import activities, post_delivery, reads
from services.backends import Backends
from services.errors import NotFound
from services.postcache import Snapshot, load_posts
from services.statuses import hydrate

PAGE_SIZE = 20
COLLECTION_PAGE = 40

_OUTBOX_SQL = """
SELECT id FROM posts
WHERE author_id = $1 AND deleted_at IS NULL AND visibility IN ('public', 'unlisted')
  AND ($2::bigint IS NULL OR id < $2)
ORDER BY id DESC LIMIT $3
"""

_FOLLOWS_SQL = {
    "followers": "SELECT f.id, a.uri FROM follows f JOIN accounts a ON a.id = f.follower_id "
    "WHERE f.followee_id = $1 AND f.state = 'accepted' AND a.suspended_at IS NULL",
    "following": "SELECT f.id, a.uri FROM follows f JOIN accounts a ON a.id = f.followee_id "
    "WHERE f.follower_id = $1 AND f.state = 'accepted' AND a.suspended_at IS NULL",
}


async def local_actor(username: str) -> Account:
    """A local user by name, as its actor (the instance actor is served at /actor)."""
    account = await Account.filter(
        acct=username.lower(),
        domain__isnull=True,
        suspended_at__isnull=True,
        actor_type__in=USER_ACTOR_TYPES,
    ).first()
    if account is None:
        raise NotFound("Record not found")
    return account


async def visible_post(
    backends: Backends, author: Account, post_id: int, viewer_id: int | None
) -> Snapshot:
    """A post (or boost) by ``author`` that ``viewer_id`` (the fetch's signer, if any) may see."""
    seen = await hydrate(backends.redis, viewer_id, [post_id])
    if not seen.posts or seen.posts[0]["author_id"] != author.id:
        raise NotFound("Record not found")
    return seen.posts[0]


async def note_document(backends: Backends, post: Snapshot, author: Account) -> dict[str, Any]:
    values = await post_delivery.note_of(post, author, backends.settings)
    return render.note(values)


async def activity_document(backends: Backends, post: Snapshot, author: Account) -> dict[str, Any]:
    """The activity that published a post: its Create, or for a boost its Announce."""
    if post["boost_of_id"]:
        original = (await load_posts(backends.redis, [post["boost_of_id"]])).get(
            post["boost_of_id"]
        )
        if original is None:
            raise NotFound("Record not found")
        original_author = await Account.get(id=original["author_id"])
        return activities.announce_activity(post, author, original["uri"], original_author.uri)
    values = await post_delivery.note_of(post, author, backends.settings)
    return activities.create_activity(values)


async def outbox_page(
    backends: Backends, author: Account, max_id: int | None
) -> tuple[list[dict[str, Any]], int | None]:
    """Public and unlisted posts and boosts, newest first, as activities; and the next max_id."""
    _, rows = await reads.query(_OUTBOX_SQL, [author.id, max_id, PAGE_SIZE])
    ids = [row["id"] for row in rows]
    posts = await load_posts(backends.redis, ids)
    items = []
    for post_id in ids:
        if post_id not in posts:
            continue
        try:
            items.append(await activity_document(backends, posts[post_id], author))
        except NotFound:
            continue  # a boost whose original is gone: leave it out, not the whole page
    return items, (ids[-1] if len(ids) == PAGE_SIZE else None)


async def collection_page(
    kind: str, account: Account, max_id: int | None
) -> tuple[list[str], int | None]:
    """A page of follower (or followed) actor ids, newest follow first; and the next max_id."""
    sql = _FOLLOWS_SQL[kind] + " AND ($2::bigint IS NULL OR f.id < $2) ORDER BY f.id DESC LIMIT $3"
    _, rows = await reads.query(sql, [account.id, max_id, COLLECTION_PAGE])
    next_max = rows[-1]["id"] if len(rows) == COLLECTION_PAGE else None
    return [row["uri"] for row in rows], next_max
