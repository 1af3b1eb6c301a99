"""Outgoing federation: who receives an activity, written down as ``Delivery`` rows.

The row is the truth (a transactional outbox): ``queue`` runs inside the transaction of the
change it announces, so the change and its deliveries commit together or not at all; ``send``
enqueues the jobs after the commit, and the sweep (``services/delivery``) re-enqueues any
that Redis lost. One delivery per inbox: followers on one server share its shared inbox.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from arq.connections import ArqRedis
from redis.exceptions import RedisError
from tortoise import connections

from models.accounts import Account
from models.ids import next_id
from services import jobs
from services.domains import host_of

log = logging.getLogger(__name__)

# Remote followers' inboxes, one per shared inbox, leaving out blocked domains: the followers
# of the account {followee} names (a parameter), as a query of its own or inside another.
FOLLOWER_INBOXES_SQL = """
SELECT DISTINCT COALESCE(NULLIF(a.shared_inbox_uri, ''), a.inbox_uri) AS inbox
FROM follows f JOIN accounts a ON a.id = f.follower_id
WHERE f.followee_id = {followee} AND f.state = 'accepted' AND a.domain IS NOT NULL
  AND a.suspended_at IS NULL AND COALESCE(NULLIF(a.shared_inbox_uri, ''), a.inbox_uri) <> ''
  AND NOT EXISTS (SELECT 1 FROM domains d WHERE d.domain = a.domain AND d.blocked)
"""
_FOLLOWER_INBOXES_OF_SQL = FOLLOWER_INBOXES_SQL.format(followee="$1")

_INBOXES_OF_SQL = """
SELECT DISTINCT COALESCE(NULLIF(a.shared_inbox_uri, ''), a.inbox_uri) AS inbox
FROM accounts a
WHERE a.id = ANY($1::bigint[]) AND a.domain IS NOT NULL AND a.suspended_at IS NULL
  AND COALESCE(NULLIF(a.shared_inbox_uri, ''), a.inbox_uri) <> ''
  AND NOT EXISTS (SELECT 1 FROM domains d WHERE d.domain = a.domain AND d.blocked)
"""

_INSERT_SQL = """
INSERT INTO deliveries (id, created_at, activity_id, inbox, domain, payload, signer_id,
                        state, attempts, last_error)
SELECT d.id, now(), $1, d.inbox, d.domain, $2::jsonb, $3, 'pending', 0, ''
FROM unnest($4::bigint[], $5::text[], $6::text[]) AS d(id, inbox, domain)
ON CONFLICT (activity_id, inbox) DO NOTHING
RETURNING id
"""

DELIVER_JOB = "deliver"


def preferred_inbox(account: Account) -> str:
    """Where to deliver to one account: its server's shared inbox when it has one."""
    return account.shared_inbox_uri or account.inbox_uri


async def queue_for(actor: Account, target: Account, activity: dict[str, Any]) -> list[int]:
    """Queue an activity for one remote account's inbox (nothing for a local account)."""
    if target.is_local:
        return []
    return await queue(actor, activity, [preferred_inbox(target)])


async def follower_inboxes(account_id: int) -> list[str]:
    _, rows = await connections.get("default").execute_query(_FOLLOWER_INBOXES_OF_SQL, [account_id])
    return [row["inbox"] for row in rows]


async def inboxes_of(account_ids: Iterable[int]) -> list[str]:
    """The (shared) inboxes of the remote accounts among ``account_ids``."""
    ids = list(dict.fromkeys(account_ids))
    if not ids:
        return []
    _, rows = await connections.get("default").execute_query(_INBOXES_OF_SQL, [ids])
    return [row["inbox"] for row in rows]


async def queue(signer: Account, activity: dict[str, Any], inboxes: Iterable[str]) -> list[int]:
    """Delivery rows for each distinct inbox, in the caller's transaction; answers their ids.

    Signed by ``signer`` (a local account) when delivered. An activity already queued for an
    inbox is not queued twice.
    """
    wanted = list(dict.fromkeys(inbox for inbox in inboxes if inbox))
    if not wanted:
        return []
    # execute_query drops the rows of INSERT ... RETURNING; execute_query_dict keeps them.
    rows = await connections.get("default").execute_query_dict(
        _INSERT_SQL,
        [
            activity["id"],
            orjson.dumps(activity).decode(),
            signer.id,
            [next_id() for _ in wanted],
            wanted,
            [host_of(inbox) for inbox in wanted],
        ],
    )
    return [row["id"] for row in rows]


BATCH = 32  # deliveries per job: one job's overhead shared, still many jobs for a big fan-out


def job_id(delivery_id: int, attempts: int) -> str:
    """A retry's job: the same attempt scheduled twice runs once."""
    return f"deliver:{delivery_id}:{attempts}"


async def send(queue_pool: ArqRedis, delivery_ids: Sequence[int]) -> None:
    """After the commit: delivery jobs for the rows, a batch each. If Redis is down the rows
    wait for the sweep. Two jobs naming one row are harmless: an attempt claims its row."""
    ids = list(delivery_ids)
    batch = [jobs.Job(DELIVER_JOB, tuple(ids[i : i + BATCH])) for i in range(0, len(ids), BATCH)]
    try:
        await jobs.enqueue_many(queue_pool, batch)
    except (RedisError, OSError) as exc:
        log.warning("could not enqueue deliveries; the sweep will", extra={"error": str(exc)})
