"""Who liked or boosted a post: pages of accounts, newest like or boost first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tortoise import connections

from services.backends import Backends
from services.interactions import visible_with_viewer
from services.paging import Page
from services.postcache import Snapshot, load_accounts

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
    original, viewer = await visible_with_viewer(backends, viewer_id, post_id)
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
