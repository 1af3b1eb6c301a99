"""Threads: the ancestors and descendants of a post that a viewer may see."""

from __future__ import annotations

from tortoise import connections

from services.backends import Backends
from services.errors import NotFound
from services.postcache import Snapshot
from services.statuses import hydrate

ANCESTORS_LIMIT = 40
DESCENDANTS_LIMIT = 4000
DESCENDANTS_DEPTH = 40
# Mastodon shows logged-out visitors less of a thread: it is expensive to build.
ANONYMOUS_DESCENDANTS_LIMIT = 60
ANONYMOUS_DESCENDANTS_DEPTH = 20

# The nearest ancestors, root-most first; the path stops a reply cycle from looping.
_ANCESTORS_SQL = """
WITH RECURSIVE up(id, parent, path) AS (
    SELECT id, in_reply_to_id, ARRAY[id] FROM posts WHERE id = $1
    UNION ALL
    SELECT p.id, p.in_reply_to_id, up.path || p.id FROM up JOIN posts p ON p.id = up.parent
    WHERE array_length(up.path, 1) <= $2 AND NOT p.id = ANY(up.path)
)
SELECT id FROM up WHERE id <> $1 ORDER BY array_length(path, 1) DESC
"""

# Mastodon's order: depth first along the reply tree, siblings oldest first.
_DESCENDANTS_SQL = """
WITH RECURSIVE tree(id, path) AS (
    SELECT id, ARRAY[id] FROM posts WHERE id = $1
    UNION ALL
    SELECT p.id, tree.path || p.id FROM tree JOIN posts p ON p.in_reply_to_id = tree.id
    WHERE array_length(tree.path, 1) <= $2 AND NOT p.id = ANY(tree.path)
)
SELECT id FROM tree WHERE id <> $1 ORDER BY path LIMIT $3
"""


async def thread(
    backends: Backends, viewer_id: int | None, post_id: int
) -> tuple[list[int], list[int]]:
    """Ancestors (root first) and descendants (Mastodon's order) that the viewer may see,
    without muted or blocked accounts' posts. NotFound when the post itself is hidden."""
    focus = await hydrate(backends.redis, viewer_id, [post_id])
    if not focus.posts:
        raise NotFound("Record not found")
    anonymous = viewer_id is None
    up = await _ids(_ANCESTORS_SQL, post_id, ANCESTORS_LIMIT)
    down = await _ids(
        _DESCENDANTS_SQL,
        post_id,
        ANONYMOUS_DESCENDANTS_DEPTH if anonymous else DESCENDANTS_DEPTH,
        ANONYMOUS_DESCENDANTS_LIMIT if anonymous else DESCENDANTS_LIMIT,
    )
    above = set(up)
    down = [i for i in down if i not in above]
    seen = await hydrate(backends.redis, viewer_id, [*up, *down], hide_muted=True)
    visible = {post["id"]: post for post in seen.posts}
    ancestors = [i for i in up if i in visible]
    descendants = _self_replies_first([visible[i] for i in down if i in visible])
    return ancestors, descendants


async def _ids(sql: str, *args: object) -> list[int]:
    _, rows = await connections.get("default").execute_query(sql, list(args))
    return [row["id"] for row in rows]


def _self_replies_first(posts: list[Snapshot]) -> list[int]:
    """Mastodon brings replies an author made to themself to the top, keeping their order."""
    own = [p["id"] for p in posts if p["in_reply_to_account_id"] == p["author_id"]]
    others = [p["id"] for p in posts if p["in_reply_to_account_id"] != p["author_id"]]
    return own + others
