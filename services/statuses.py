"""The read side of posts: hydrate ids into snapshots, with what the viewer may see and has done.

Every list a client reads (timelines, an account's posts, a thread, notifications) goes through
``hydrate``, so the visibility rules live here once: followers-only posts for accepted
followers (and the mentioned), direct posts for the author and the mentioned.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from redis.asyncio import Redis

from models.posts import Visibility
from services import reads
from services.postcache import Page, Snapshot, load_page

# What one viewer ($1) has done to, and may see of, some posts ($2) by some authors ($3; None:
# everyone it follows): one round trip.
_VIEWER_SQL = """
SELECT
  ARRAY(SELECT post_id FROM likes WHERE account_id = $1 AND post_id = ANY($2::bigint[])) AS liked,
  ARRAY(SELECT boost_of_id FROM posts
        WHERE author_id = $1 AND boost_of_id = ANY($2::bigint[])) AS boosted,
  ARRAY(SELECT followee_id FROM follows
        WHERE follower_id = $1 AND state = 'accepted'
          AND ($3::bigint[] IS NULL OR followee_id = ANY($3::bigint[]))) AS following,
  ARRAY(SELECT target_id FROM mutes
        WHERE account_id = $1 AND (expires_at IS NULL OR expires_at > now())) AS muted,
  ARRAY(SELECT target_id FROM blocks WHERE account_id = $1
        UNION SELECT account_id FROM blocks WHERE target_id = $1) AS blocked
"""


@dataclass(frozen=True)
class ViewerState:
    """What one viewer has done to, and may see of, a set of posts. Anonymous: viewer_id None."""

    viewer_id: int | None = None
    liked: frozenset[int] = frozenset()
    boosted: frozenset[int] = frozenset()
    following: frozenset[int] = frozenset()
    muted: frozenset[int] = frozenset()
    blocked: frozenset[int] = frozenset()

    def union(self, other: ViewerState) -> ViewerState:
        """The same viewer's state over the posts and authors of both."""
        return ViewerState(
            viewer_id=self.viewer_id,
            liked=self.liked | other.liked,
            boosted=self.boosted | other.boosted,
            following=self.following | other.following,
            muted=self.muted | other.muted,
            blocked=self.blocked | other.blocked,
        )


async def viewer_state(
    viewer_id: int | None, post_ids: Iterable[int], author_ids: Iterable[int] | None
) -> ViewerState:
    """One round trip to Postgres for likes, boosts, follows, mutes and blocks of the viewer;
    ``author_ids`` None: every account the viewer follows."""
    if viewer_id is None:
        return ViewerState()
    authors = None if author_ids is None else list(set(author_ids))
    _, rows = await reads.query(_VIEWER_SQL, [viewer_id, list(set(post_ids)), authors])
    row = rows[0]
    return ViewerState(
        viewer_id=viewer_id,
        liked=frozenset(row["liked"]),
        boosted=frozenset(row["boosted"]),
        following=frozenset(row["following"]),
        muted=frozenset(row["muted"]),
        blocked=frozenset(row["blocked"]),
    )


async def relations(viewer_id: int | None) -> ViewerState:
    """Everyone the viewer follows, mutes and blocks (or is blocked by), for checking posts
    one at a time as they come (the streaming API) rather than a page at once."""
    return await viewer_state(viewer_id, [], None)


def can_see(post: Snapshot, viewer: ViewerState) -> bool:
    """Whether ``viewer`` may read ``post`` at all (boost wrappers are checked by the caller)."""
    author = post["author_id"]
    if author == viewer.viewer_id:
        return True
    if author in viewer.blocked:
        return False
    visibility = post["visibility"]
    if visibility in (Visibility.PUBLIC, Visibility.UNLISTED):
        return True
    mentioned = viewer.viewer_id is not None and viewer.viewer_id in post["mention_ids"]
    if visibility == Visibility.FOLLOWERS:
        return mentioned or author in viewer.following
    return mentioned  # direct


@dataclass
class Hydrated:
    """Visible posts in the order asked, plus everything needed to render them."""

    posts: list[Snapshot]
    originals: dict[int, Snapshot] = field(default_factory=dict)  # boosted posts by id
    accounts: dict[int, Snapshot] = field(default_factory=dict)
    viewer: ViewerState = field(default_factory=ViewerState)


def _hidden_by_mute(post: Snapshot, original: Snapshot | None, viewer: ViewerState) -> bool:
    if post["author_id"] == viewer.viewer_id:
        return False
    authors = {post["author_id"], original["author_id"] if original else None}
    return bool(authors & viewer.muted)


async def load(redis: Redis, ids: Sequence[int]) -> Hydrated:
    """The posts of ``ids`` that exist, their boosted posts and every account they name, with
    no viewer and nothing filtered: ``hydrate`` applies a viewer's rules, ``is_visible`` one
    post's (the streaming API loads once and checks each subscriber)."""
    return loaded_page(ids, await load_page(redis, list(ids)))


def loaded_page(ids: Sequence[int], page: Page) -> Hydrated:
    """``load``'s answer from what ``services.postcache.load_page`` read."""
    posts, originals, accounts = page
    return Hydrated(
        posts=[posts[i] for i in ids if i in posts], originals=originals, accounts=accounts
    )


def is_visible(post: Snapshot, loaded: Hydrated, viewer: ViewerState, *, hide_muted: bool) -> bool:
    """Whether ``viewer`` sees ``post`` (one of ``loaded``'s): its author's and a boosted post's
    visibility, suspensions, and mutes when ``hide_muted`` (timelines; not a post's own page)."""
    if not can_see(post, viewer):
        return False
    original = loaded.originals.get(post["boost_of_id"]) if post["boost_of_id"] else None
    if post["boost_of_id"] and (original is None or not can_see(original, viewer)):
        return False
    if _suspended(loaded.accounts, post, original):
        return False
    return not (hide_muted and _hidden_by_mute(post, original, viewer))


async def hydrate(
    redis: Redis, viewer_id: int | None, ids: Sequence[int], *, hide_muted: bool = False
) -> Hydrated:
    """Snapshots for ``ids`` that exist and that the viewer may see, in the same order (the
    viewer's state from Postgres; services/viewer_cache has a local viewer's in Redis)."""
    loaded = await load(redis, ids)
    viewer = await viewer_state(viewer_id, *judged(loaded))
    return visible(loaded, viewer, hide_muted=hide_muted)


def judged(loaded: Hydrated) -> tuple[list[int], set[int]]:
    """The posts (and boosted posts) of ``loaded`` and their authors: what a viewer's state is
    read over."""
    every = [*loaded.posts, *loaded.originals.values()]
    return [p["id"] for p in every], {p["author_id"] for p in every}


def visible(loaded: Hydrated, viewer: ViewerState, *, hide_muted: bool) -> Hydrated:
    """``loaded`` (``load``'s answer) with only the posts ``viewer`` sees, and its state."""
    loaded.posts = [p for p in loaded.posts if is_visible(p, loaded, viewer, hide_muted=hide_muted)]
    loaded.viewer = viewer
    return loaded


def _suspended(accounts: dict[int, Snapshot], post: Snapshot, original: Snapshot | None) -> bool:
    for snapshot in (post, original):
        if snapshot is None:
            continue
        author = accounts.get(snapshot["author_id"])
        if author is None or author["suspended_at"]:
            return True
    return False
