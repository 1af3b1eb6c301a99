"""What a domain block does to the domain's accounts, and undoes when it is lifted.

Run inside the block's transaction (``apply``, ``lift``), then ``after_commit`` for Redis.
Suspend, as Mastodon's BlockDomainService: the accounts are suspended (their posts, profiles
and notifications vanish from every timeline, search and API read: those already leave out
suspended accounts), follows between them and our accounts are deleted with the counts they
held, and deliveries still waiting for the domain are given up. Silence: the accounts are
silenced (public timelines and search leave them out). Both stamp the accounts with the
block's time, which is how ``lift`` knows which ones the block (and not an admin) changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from redis.asyncio import Redis
from tortoise import connections

from models.federation import Domain
from services import domains, timelines, viewer_cache
from services.postcache import forget_accounts

_MARK_SQL = """
UPDATE accounts SET {column} = $2
WHERE domain IS NOT NULL AND lower(domain) = $1 AND {column} IS NULL
"""
_UNMARK_SQL = """
UPDATE accounts SET {column} = NULL
WHERE domain IS NOT NULL AND lower(domain) = $1 AND {column} = $2
"""

# Our accounts' follows of the domain's accounts: gone, with our accounts' following counts.
_SEVER_FOLLOWING_SQL = """
WITH gone AS (
  DELETE FROM follows f USING accounts a, accounts l
  WHERE a.id = f.followee_id AND a.domain IS NOT NULL AND lower(a.domain) = $1
    AND l.id = f.follower_id AND l.domain IS NULL
  RETURNING f.follower_id, f.followee_id, f.state
), counted AS (
  UPDATE accounts x SET following_count = GREATEST(x.following_count - c.n, 0)
  FROM (SELECT follower_id, count(*) AS n FROM gone WHERE state = 'accepted'
        GROUP BY follower_id) c
  WHERE x.id = c.follower_id
)
SELECT follower_id, followee_id FROM gone
"""
# The domain's accounts' follows of ours: gone, with our accounts' follower counts.
_SEVER_FOLLOWERS_SQL = """
WITH gone AS (
  DELETE FROM follows f USING accounts a, accounts l
  WHERE a.id = f.follower_id AND a.domain IS NOT NULL AND lower(a.domain) = $1
    AND l.id = f.followee_id AND l.domain IS NULL
  RETURNING f.follower_id, f.followee_id, f.state
), counted AS (
  UPDATE accounts x SET followers_count = GREATEST(x.followers_count - c.n, 0)
  FROM (SELECT followee_id, count(*) AS n FROM gone WHERE state = 'accepted'
        GROUP BY followee_id) c
  WHERE x.id = c.followee_id
)
SELECT DISTINCT followee_id FROM gone
"""
_GIVE_UP_SQL = """
UPDATE deliveries SET state = 'failed', last_error = 'domain blocked', lease_until = NULL
WHERE domain = $1 AND state = 'pending'
"""
_ACCOUNT_IDS_SQL = "SELECT id FROM accounts WHERE domain IS NOT NULL AND lower(domain) = $1"

FORGET_BATCH = 1000


async def marks_for_new_account(redis: Redis, domain: str) -> dict[str, datetime]:
    """A new account of a blocked domain starts suspended or silenced, like those it had
    (Mastodon: the block's time, so lifting the block restores it too)."""
    known = await domains.states(redis)
    host = domain.lower()
    if host not in known.blocked and host not in known.silenced:
        return {}
    row = await Domain.filter(domain=host, blocked_at__isnull=False).first()
    if row is None or row.blocked_at is None:
        return {}
    return {("suspended_at" if row.blocked else "silenced_at"): row.blocked_at}


def _column(severity: str) -> str | None:
    return {"suspend": "suspended_at", "silence": "silenced_at"}.get(severity)


@dataclass(frozen=True)
class Severed:
    """What a suspension cut: (local follower, remote followee) pairs, and the local accounts
    whose counts changed."""

    follows: list[tuple[int, int]] = field(default_factory=list)
    local_ids: frozenset[int] = frozenset()


async def apply(domain: str, severity: str, moment: datetime) -> Severed:
    """Mark the domain's accounts; for a suspension sever follows and give up deliveries."""
    column = _column(severity)
    if column is None:
        return Severed()
    conn = connections.get("default")
    await conn.execute_query(_MARK_SQL.format(column=column), [domain, moment])
    if severity != "suspend":
        return Severed()
    _, following = await conn.execute_query(_SEVER_FOLLOWING_SQL, [domain])
    _, followed = await conn.execute_query(_SEVER_FOLLOWERS_SQL, [domain])
    await conn.execute_query(_GIVE_UP_SQL, [domain])
    pairs = [(row["follower_id"], row["followee_id"]) for row in following]
    local = {pair[0] for pair in pairs} | {row["followee_id"] for row in followed}
    return Severed(pairs, frozenset(local))


async def lift(domain: str, severity: str, moment: datetime) -> None:
    """Unmark the accounts the block marked (those suspended or silenced one by one stay so)."""
    column = _column(severity)
    if column is not None:
        await connections.get("default").execute_query(
            _UNMARK_SQL.format(column=column), [domain, moment]
        )


async def after_commit(redis: Redis, domain: str, severed: Severed) -> None:
    """Forget the cached snapshots of the domain's accounts (they carry ``suspended_at``) and
    of ours whose counts changed, and take the posts of severed follows out of our
    followers' home timelines."""
    _, rows = await connections.get("default").execute_query(_ACCOUNT_IDS_SQL, [domain])
    ids = [row["id"] for row in rows] + sorted(severed.local_ids)
    for start in range(0, len(ids), FORGET_BATCH):
        await forget_accounts(redis, ids[start : start + FORGET_BATCH])
    for follower_id, followee_id in severed.follows:
        await timelines.remove_author(redis, follower_id, followee_id)
    await viewer_cache.changed(redis, (follower for follower, _ in severed.follows))
