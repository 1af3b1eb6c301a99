"""Pages of the accounts linked to one account: followers, following, follow requests,
blocks and mutes. Each page is ordered by the linking row (the follow, block or mute id),
newest first, which is also what Mastodon's Link headers page on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from redis.asyncio import Redis

from services import reads
from services.paging import Page
from services.postcache import Snapshot, load_accounts

Kind = Literal["followers", "following", "requests", "blocks", "mutes"]


@dataclass(frozen=True)
class Listed:
    """One account in a list; ``row_id`` (the follow, block or mute) is what pages it."""

    row_id: int
    account: Snapshot
    expires_at: datetime | None = None


# $1 owner, $2 max_id, $3 lower bound, $4 limit, $5 viewer (followers / following only).
_PAGE = " AND ($2::bigint IS NULL OR x.id < $2) AND ($3::bigint IS NULL OR x.id > $3)"
_HIDDEN_FROM_VIEWER = """
  AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = $1 AND b.target_id = $5)
  AND ($5::bigint IS NULL OR $5 = $1 OR (
    NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = $5 AND b.target_id = a.id)
                                        OR (b.account_id = a.id AND b.target_id = $5))
    AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.account_id = $5 AND m.target_id = a.id
                    AND (m.expires_at IS NULL OR m.expires_at > now()))))
"""
_LISTS: dict[Kind, str] = {
    "followers": "SELECT x.id, x.follower_id AS account_id, NULL::timestamptz AS expires_at "
    "FROM follows x JOIN accounts a ON a.id = x.follower_id "
    "WHERE x.followee_id = $1 AND x.state = 'accepted'" + _HIDDEN_FROM_VIEWER,
    "following": "SELECT x.id, x.followee_id AS account_id, NULL::timestamptz AS expires_at "
    "FROM follows x JOIN accounts a ON a.id = x.followee_id "
    "WHERE x.follower_id = $1 AND x.state = 'accepted'" + _HIDDEN_FROM_VIEWER,
    "requests": "SELECT x.id, x.follower_id AS account_id, NULL::timestamptz AS expires_at "
    "FROM follows x JOIN accounts a ON a.id = x.follower_id "
    "WHERE x.followee_id = $1 AND x.state = 'pending'",
    "blocks": "SELECT x.id, x.target_id AS account_id, NULL::timestamptz AS expires_at "
    "FROM blocks x JOIN accounts a ON a.id = x.target_id WHERE x.account_id = $1",
    "mutes": "SELECT x.id, x.target_id AS account_id, x.expires_at FROM mutes x "
    "JOIN accounts a ON a.id = x.target_id WHERE x.account_id = $1 "
    "AND (x.expires_at IS NULL OR x.expires_at > now())",
}


async def account_list(
    redis: Redis, kind: Kind, owner_id: int, page: Page, viewer_id: int | None = None
) -> list[Listed]:
    """A page of ``kind`` ("followers", "following", "requests", "blocks", "mutes") of
    ``owner_id``, newest link first. Followers and following hide what Mastodon hides: all of
    them from a viewer the owner blocks, and accounts the viewer blocks or mutes."""
    sql = _LISTS[kind] + " AND a.suspended_at IS NULL" + _PAGE
    sql += f" ORDER BY x.id {'ASC' if page.ascending else 'DESC'} LIMIT $4"
    args: list[object] = [owner_id, page.max_id, page.lower, page.limit]
    if kind in ("followers", "following"):
        args.append(viewer_id)
    _, rows = await reads.query(sql, args)
    rows = sorted(rows, key=lambda row: row["id"], reverse=True)
    accounts = await load_accounts(redis, [row["account_id"] for row in rows])
    return [
        Listed(row_id=row["id"], account=accounts[row["account_id"]], expires_at=row["expires_at"])
        for row in rows
        if row["account_id"] in accounts
    ]


def row_ids(items: Sequence[Listed]) -> list[int]:
    return [item.row_id for item in items]
