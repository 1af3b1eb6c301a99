"""Likes (Mastodon's favourites) and boosts (reblogs): who may, the counts, the notifications.

Both act on the original post: liking or boosting a boost likes or boosts what it boosts, as
Mastodon does. Both are idempotent; under a race the unique indexes on (account, post) and
(author, boost_of) decide. Each write is one transaction (row, counters, notification); the
post and account snapshots are forgotten and the boost fanned out only after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.timezone import now
from tortoise.transactions import in_transaction

from models.accounts import Account, User
from models.ids import next_id
from models.notifications import NotificationType
from models.posts import Post, Visibility
from models.relationships import Follow, FollowState, Like
from services import timelines
from services.backends import Backends
from services.errors import Forbidden, NotFound, ValidationFailed
from services.notify import notify, withdraw
from services.paging import Page
from services.postcache import Snapshot, forget_accounts, forget_posts, load_accounts, load_posts
from services.statuses import ViewerState, hydrate

# Mastodon counts only boosts others can see in reblogs_count (a self-boost of a
# followers-only post is not counted), and lists only those in reblogged_by.
COUNTED = (Visibility.PUBLIC, Visibility.UNLISTED)
# The visibilities a client may ask a boost to have, by their API names.
BOOST_VISIBILITY = {
    "public": Visibility.PUBLIC,
    "unlisted": Visibility.UNLISTED,
    "private": Visibility.FOLLOWERS,
}


async def visible_original(backends: Backends, viewer_id: int | None, post_id: int) -> Snapshot:
    """The post (or, for a boost, the post it boosts) if the viewer may see it; else NotFound."""
    return (await _visible(backends, viewer_id, post_id))[0]


async def _visible(
    backends: Backends, viewer_id: int | None, post_id: int
) -> tuple[Snapshot, ViewerState]:
    hydrated = await hydrate(backends.redis, viewer_id, [post_id])
    if not hydrated.posts:
        raise NotFound("Record not found")
    post = hydrated.posts[0]
    original = hydrated.originals[post["boost_of_id"]] if post["boost_of_id"] else post
    return original, hydrated.viewer


# --- likes ------------------------------------------------------------------------------


async def like(backends: Backends, account_id: int, post_id: int) -> int:
    """Like a post the account can see; returns the id of the post liked (the original)."""
    original = await visible_original(backends, account_id, post_id)
    target = original["id"]
    if await Like.exists(account_id=account_id, post_id=target):
        return target
    try:
        async with in_transaction():
            await Like.create(account_id=account_id, post_id=target)
            await Post.filter(id=target).update(likes_count=F("likes_count") + 1)
            await notify(NotificationType.FAVOURITE, original["author_id"], account_id, target)
    except IntegrityError:
        # A concurrent request liked it first (or the post was deleted meanwhile).
        if await Like.exists(account_id=account_id, post_id=target):
            return target
        raise NotFound("Record not found") from None
    await forget_posts(backends.redis, [target])
    return target


async def unlike(backends: Backends, account_id: int, post_id: int) -> int:
    """Take a like back, if there is one; returns the id of the original post.

    Mastodon removes the favourite notification with the favourite, and lets an account
    withdraw its like without checking whether it may still see the post.
    """
    original = await _original(backends, post_id)
    target = original["id"]
    async with in_transaction():
        deleted = await Like.filter(account_id=account_id, post_id=target).delete()
        if deleted:
            await Post.filter(id=target, likes_count__gt=0).update(likes_count=F("likes_count") - 1)
            await withdraw(NotificationType.FAVOURITE, original["author_id"], account_id, target)
    if deleted:
        await forget_posts(backends.redis, [target])
    return target


async def _original(backends: Backends, post_id: int) -> Snapshot:
    """The post itself, or the post a boost boosts, whoever may see it (NotFound if gone)."""
    post = (await load_posts(backends.redis, [post_id])).get(post_id)
    if post is not None and post["boost_of_id"]:
        post = (await load_posts(backends.redis, [post["boost_of_id"]])).get(post["boost_of_id"])
    if post is None:
        raise NotFound("Record not found")
    return post


# --- boosts -----------------------------------------------------------------------------


def check_boostable(original: Snapshot, account_id: int) -> None:
    """Mastodon's StatusPolicy#reblog?: never a direct post, and a followers-only post only by
    its author (the caller has already checked that the account may see it)."""
    visibility = original["visibility"]
    if visibility == Visibility.DIRECT or (
        visibility == Visibility.FOLLOWERS and original["author_id"] != account_id
    ):
        raise Forbidden("This action is not allowed")


def boost_visibility(original: Snapshot, asked: str | None, default: Visibility) -> Visibility:
    """A boost of a followers-only post keeps that visibility (Mastodon: hidden statuses);
    otherwise what the client asked, else the booster's default posting visibility."""
    if original["visibility"] == Visibility.FOLLOWERS:
        return Visibility.FOLLOWERS
    if asked is None or asked == "":
        return default if default != Visibility.DIRECT else Visibility.PUBLIC
    if asked not in BOOST_VISIBILITY:
        detail = {"error": "ERR_INCLUSION", "description": "is not included in the list"}
        raise ValidationFailed(
            "Validation failed: Visibility is not included in the list", {"visibility": [detail]}
        )
    return BOOST_VISIBILITY[asked]


async def _existing_boost(account_id: int, original_id: int) -> int | None:
    row = await Post.filter(author_id=account_id, boost_of_id=original_id).only("id").first()
    return row.id if row is not None else None


async def boost(
    backends: Backends, account_id: int, post_id: int, visibility: str | None = None
) -> int:
    """Boost a post (a boost boosts its original); returns the id of the boost."""
    original = await visible_original(backends, account_id, post_id)
    check_boostable(original, account_id)
    original_id = original["id"]
    existing = await _existing_boost(account_id, original_id)
    if existing is not None:
        return existing
    booster = await Account.get(id=account_id)
    user = await User.get_or_none(account_id=account_id)
    default = Visibility(user.default_visibility) if user is not None else Visibility.PUBLIC
    chosen = boost_visibility(original, visibility, default)
    boost_id = next_id()
    try:
        async with in_transaction():
            await _insert_boost(backends, booster, original, boost_id, chosen)
    except IntegrityError:
        existing = await _existing_boost(account_id, original_id)
        if existing is not None:
            return existing  # a concurrent request boosted it first
        raise NotFound("Record not found") from None
    await forget_posts(backends.redis, [original_id])
    await forget_accounts(backends.redis, [account_id])
    await backends.queue.enqueue_job("fanout", boost_id)
    return boost_id


async def _insert_boost(
    backends: Backends, booster: Account, original: Snapshot, boost_id: int, chosen: Visibility
) -> None:
    """The boost row, the counters Mastodon keeps (reblogs count in statuses_count), and the
    author's notification; inside the caller's transaction."""
    base = backends.settings.base_url
    await Post.create(
        id=boost_id,
        author_id=booster.id,
        boost_of_id=original["id"],
        uri=f"{base}/users/{booster.username}/statuses/{boost_id}/activity",
        url=original["url"] or original["uri"],
        text="",
        html="",
        visibility=chosen,
        local=booster.domain is None,
    )
    if chosen in COUNTED:
        await Post.filter(id=original["id"]).update(boosts_count=F("boosts_count") + 1)
    await Account.filter(id=booster.id).update(posts_count=F("posts_count") + 1, last_post_at=now())
    await notify(NotificationType.REBLOG, original["author_id"], booster.id, original["id"])


async def unboost(backends: Backends, account_id: int, post_id: int) -> int:
    """Delete the account's boost of a post it can see (if any); returns the original's id."""
    original = await visible_original(backends, account_id, post_id)
    original_id = original["id"]
    async with in_transaction():
        row = await Post.filter(author_id=account_id, boost_of_id=original_id).first()
        deleted = await Post.filter(id=row.id).delete() if row is not None else 0
        if row is not None and deleted:
            if row.visibility in COUNTED:
                await Post.filter(id=original_id, boosts_count__gt=0).update(
                    boosts_count=F("boosts_count") - 1
                )
            await Account.filter(id=account_id, posts_count__gt=0).update(
                posts_count=F("posts_count") - 1
            )
            await withdraw(NotificationType.REBLOG, original["author_id"], account_id, original_id)
    if row is None or not deleted:
        return original_id
    await forget_posts(backends.redis, [original_id, row.id])
    await forget_accounts(backends.redis, [account_id])
    followers = await Follow.filter(
        followee_id=account_id, state=FollowState.ACCEPTED, follower__domain__isnull=True
    ).values_list("follower_id", flat=True)
    await timelines.remove(backends.redis, [account_id, *followers], [row.id])
    return original_id


# --- who liked, who boosted -------------------------------------------------------------

_LIKERS_SQL = """
SELECT l.id, l.account_id FROM likes l JOIN accounts a ON a.id = l.account_id
WHERE l.post_id = $1 AND a.suspended_at IS NULL AND NOT (l.account_id = ANY($5::bigint[]))
  AND ($2::bigint IS NULL OR l.id < $2) AND ($3::bigint IS NULL OR l.id > $3)
ORDER BY l.id {order} LIMIT $4
"""

_BOOSTERS_SQL = """
SELECT p.id, p.author_id AS account_id FROM posts p JOIN accounts a ON a.id = p.author_id
WHERE p.boost_of_id = $1 AND p.visibility IN ('public', 'unlisted') AND p.deleted_at IS NULL
  AND a.suspended_at IS NULL AND NOT (p.author_id = ANY($5::bigint[]))
  AND ($2::bigint IS NULL OR p.id < $2) AND ($3::bigint IS NULL OR p.id > $3)
ORDER BY p.id {order} LIMIT $4
"""


@dataclass(frozen=True)
class AccountPage:
    """Accounts newest first, with the like or boost ids that page them (Link headers)."""

    ids: list[int]
    accounts: list[Snapshot]


async def favourited_by(
    backends: Backends, viewer_id: int | None, post_id: int, page: Page
) -> AccountPage:
    """Who liked a post the viewer can see, newest like first."""
    return await _interactors(backends, viewer_id, post_id, page, _LIKERS_SQL)


async def reblogged_by(
    backends: Backends, viewer_id: int | None, post_id: int, page: Page
) -> AccountPage:
    """Who boosted a post the viewer can see (public and unlisted boosts), newest first."""
    return await _interactors(backends, viewer_id, post_id, page, _BOOSTERS_SQL)


async def _interactors(
    backends: Backends, viewer_id: int | None, post_id: int, page: Page, sql: str
) -> AccountPage:
    # Mastodon leaves out suspended accounts and those the viewer blocks, mutes or is blocked by.
    original, viewer = await _visible(backends, viewer_id, post_id)
    excluded = sorted(viewer.blocked | viewer.muted)
    order = "ASC" if page.ascending else "DESC"
    _, rows = await connections.get("default").execute_query(
        sql.format(order=order), [original["id"], page.max_id, page.lower, page.limit, excluded]
    )
    pairs = sorted(((row["id"], row["account_id"]) for row in rows), reverse=True)
    return await _page_of(backends, pairs)


async def _page_of(backends: Backends, pairs: Sequence[tuple[int, int]]) -> AccountPage:
    accounts = await load_accounts(backends.redis, [account for _, account in pairs])
    kept = [(item, accounts[account]) for item, account in pairs if account in accounts]
    return AccountPage(ids=[item for item, _ in kept], accounts=[snap for _, snap in kept])
