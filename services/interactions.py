"""Likes (Mastodon's favourites) and boosts (reblogs): who may, the counts, the notifications.

Both act on the original post: liking or boosting a boost likes or boosts what it boosts, as
Mastodon does. Both are idempotent; under a race the unique indexes on (account, post) and
(author, boost_of) decide. Each write is one transaction (row, counters, notification, and
the Like / Announce / Undo for remote servers); the post and account snapshots are forgotten
and the boost fanned out only after the commit. A peer's likes and boosts (services/inbound)
take the same steps.
"""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.timezone import now
from tortoise.transactions import in_transaction

from models.accounts import Account, User
from models.ids import next_id
from models.notifications import NotificationType
from models.posts import Post, Visibility
from models.relationships import Follow, FollowState, Like
from services import (
    activities,
    author_feeds,
    federate,
    jobs,
    post_delivery,
    streams,
    timelines,
    viewer_cache,
)
from services.backends import Backends
from services.errors import Forbidden, NotFound, ValidationFailed
from services.notify import notify, withdraw
from services.postcache import Snapshot, forget_accounts, forget_posts, load_posts
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
    return (await visible_with_viewer(backends, viewer_id, post_id))[0]


async def visible_with_viewer(
    backends: Backends, viewer_id: int | None, post_id: int
) -> tuple[Snapshot, ViewerState]:
    hydrated = await hydrate(backends.redis, viewer_id, [post_id])
    if not hydrated.posts:
        raise NotFound("Record not found")
    post = hydrated.posts[0]
    original = hydrated.originals[post["boost_of_id"]] if post["boost_of_id"] else post
    return original, hydrated.viewer


# --- likes ------------------------------------------------------------------------------


def like_uri(account: Account, like_id: int) -> str:
    return f"{account.uri}#likes/{like_id}"


async def like(backends: Backends, account_id: int, post_id: int) -> int:
    """Like a post the account can see; returns the id of the post liked (the original)."""
    original = await visible_original(backends, account_id, post_id)
    liker = await Account.get(id=account_id)
    await add_like(backends, liker, original)
    return int(original["id"])


async def add_like(
    backends: Backends, liker: Account, original: Snapshot, uri: str | None = None
) -> bool:
    """Record a like (``uri``: a peer's Like id), count and notify it; a local liker's Like goes
    to a remote author's server. False when the account had liked the post already."""
    target = original["id"]
    if await Like.exists(account_id=liker.id, post_id=target):
        return False
    like_id = next_id()
    uri = uri or like_uri(liker, like_id)
    try:
        async with in_transaction():
            await Like.create(id=like_id, account_id=liker.id, post_id=target, uri=uri)
            await Post.filter(id=target).update(likes_count=F("likes_count") + 1)
            await notify(NotificationType.FAVOURITE, original["author_id"], liker.id, target)
            deliveries = await _tell_author(liker, original, uri)
    except IntegrityError:
        # A concurrent request liked it first (or the post was deleted meanwhile).
        if await Like.exists(account_id=liker.id, post_id=target):
            return False
        raise NotFound("Record not found") from None
    await forget_posts(backends.redis, [target])
    await viewer_cache.changed(backends.redis, _local(liker))
    await federate.send(backends.queue, deliveries)
    return True


def _local(account: Account) -> list[int]:
    """The account, if it is ours: only local accounts read timelines (services/viewer_cache)."""
    return [account.id] if account.is_local else []


async def _tell_author(
    liker: Account, original: Snapshot, like_id: str, *, undo: bool = False
) -> list[int]:
    """A local account's Like (or its Undo) goes to the post's author, if remote, addressed
    to the author as Mastodon addresses it."""
    if not liker.is_local:
        return []
    author = await Account.filter(id=original["author_id"], domain__isnull=False).first()
    if author is None:
        return []
    activity = activities.simple_activity("Like", like_id, liker, original["uri"], to=[author.uri])
    if undo:
        activity = activities.undo_activity(liker, activity)
    return await federate.queue_for(liker, author, activity)


async def unlike(backends: Backends, account_id: int, post_id: int) -> int:
    """Take a like back, if there is one; returns the id of the original post.

    Mastodon removes the favourite notification with the favourite, and lets an account
    withdraw its like without checking whether it may still see the post.
    """
    original = await _original(backends, post_id)
    liker = await Account.get(id=account_id)
    await remove_like(backends, liker, original)
    return int(original["id"])


async def remove_like(backends: Backends, liker: Account, original: Snapshot) -> bool:
    """Delete the account's like of the post (if any), its count and notification; a local
    liker's Undo goes to a remote author's server."""
    target = original["id"]
    async with in_transaction():
        row = await Like.filter(account_id=liker.id, post_id=target).first()
        deleted = await Like.filter(id=row.id).delete() if row is not None else 0
        deliveries: list[int] = []
        if row is not None and deleted:
            await Post.filter(id=target, likes_count__gt=0).update(likes_count=F("likes_count") - 1)
            await withdraw(NotificationType.FAVOURITE, original["author_id"], liker.id, target)
            like_id = row.uri or like_uri(liker, row.id)
            deliveries = await _tell_author(liker, original, like_id, undo=True)
    if deleted:
        await forget_posts(backends.redis, [target])
        await viewer_cache.changed(backends.redis, _local(liker))
        await federate.send(backends.queue, deliveries)
    return bool(deleted)


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
    existing = await _existing_boost(account_id, original["id"])
    if existing is not None:
        return existing
    booster = await Account.get(id=account_id)
    user = await User.get_or_none(account_id=account_id)
    default = Visibility(user.default_visibility) if user is not None else Visibility.PUBLIC
    chosen = boost_visibility(original, visibility, default)
    return await add_boost(backends, booster, original, chosen)


async def add_boost(
    backends: Backends,
    booster: Account,
    original: Snapshot,
    chosen: Visibility,
    uri: str | None = None,
) -> int:
    """Write a boost (``uri``: a peer's Announce id), counted and notified, fanned out after
    the commit; a local booster's Announce goes to its remote followers and the author."""
    boost_id = next_id()
    base = booster.uri if booster.is_local else ""
    row: Snapshot = {
        "id": boost_id,
        "uri": uri or f"{base}/statuses/{boost_id}/activity",
        "visibility": chosen,
        "created_at": now(),
    }
    try:
        async with in_transaction():
            await _insert_boost(booster, original, row)
            deliveries = []
            if booster.is_local:
                deliveries = await post_delivery.queue_announce(row, booster, original)
    except IntegrityError:
        existing = await _existing_boost(booster.id, original["id"])
        if existing is not None:
            return existing  # a concurrent request boosted it first
        raise NotFound("Record not found") from None
    await forget_posts(backends.redis, [original["id"]])
    await forget_accounts(backends.redis, [booster.id])
    await viewer_cache.changed(backends.redis, _local(booster))
    await jobs.enqueue(backends.queue, jobs.Job("fanout", (boost_id,)))
    await federate.send(backends.queue, deliveries)
    return boost_id


async def _insert_boost(booster: Account, original: Snapshot, row: Snapshot) -> None:
    """The boost row, the counters Mastodon keeps (reblogs count in statuses_count), and the
    author's notification; inside the caller's transaction."""
    await Post.create(
        id=row["id"],
        author_id=booster.id,
        boost_of_id=original["id"],
        uri=row["uri"],
        url=original["url"] or original["uri"],
        text="",
        html="",
        visibility=row["visibility"],
        local=booster.is_local,
    )
    if row["visibility"] in COUNTED:
        await Post.filter(id=original["id"]).update(boosts_count=F("boosts_count") + 1)
    await Account.filter(id=booster.id).update(posts_count=F("posts_count") + 1, last_post_at=now())
    await notify(NotificationType.REBLOG, original["author_id"], booster.id, original["id"])


async def unboost(backends: Backends, account_id: int, post_id: int) -> int:
    """Delete the account's boost of a post it can see (if any); returns the original's id."""
    original = await visible_original(backends, account_id, post_id)
    booster = await Account.get(id=account_id)
    await remove_boost(backends, booster, original)
    return int(original["id"])


async def remove_boost(backends: Backends, booster: Account, original: Snapshot) -> bool:
    """Delete the account's boost of ``original`` (if any) with its counts and notification;
    a local booster's Undo goes wherever the Announce went."""
    original_id = original["id"]
    async with in_transaction():
        row = await Post.filter(author_id=booster.id, boost_of_id=original_id).first()
        deleted = await Post.filter(id=row.id).delete() if row is not None else 0
        deliveries: list[int] = []
        if row is not None and deleted:
            await _uncount_boost(booster, original, row)
            if booster.is_local:
                boost = {"uri": row.uri, "visibility": row.visibility, "created_at": row.created_at}
                deliveries = await post_delivery.queue_announce(boost, booster, original, undo=True)
    if row is None or not deleted:
        return False
    await forget_posts(backends.redis, [original_id, row.id])
    await forget_accounts(backends.redis, [booster.id])
    await viewer_cache.changed(backends.redis, _local(booster))
    followers = await Follow.filter(
        followee_id=booster.id, state=FollowState.ACCEPTED, follower__domain__isnull=True
    ).values_list("follower_id", flat=True)
    await timelines.remove(backends.redis, [booster.id, *followers], [row.id])
    await author_feeds.remove(backends.redis, [(row.id, booster.id, original_id)])
    await streams.publish(backends.redis, "delete", row.id, [booster.id, *followers])
    await federate.send(backends.queue, deliveries)
    return True


async def _uncount_boost(booster: Account, original: Snapshot, row: Post) -> None:
    if row.visibility in COUNTED:
        await Post.filter(id=original["id"], boosts_count__gt=0).update(
            boosts_count=F("boosts_count") - 1
        )
    await Account.filter(id=booster.id, posts_count__gt=0).update(posts_count=F("posts_count") - 1)
    await withdraw(NotificationType.REBLOG, original["author_id"], booster.id, original["id"])
