"""Which database answers a read: a streaming replica when one is configured, caught up and
the reader has not just written; the primary otherwise.

Only requests opt in: the web layer opens a :class:`ReadScope` for each GET/HEAD request, and
:func:`query` (the raw-SQL reads of hydration misses, public collections and account lists)
sends its query where :func:`connection_for_read` says. Jobs, inbound activities and anything
that writes never have a scope, so they read the primary, where their own writes are.

Read-your-writes: a signed-in account's non-GET request marks ``rw:<account id>`` in Redis for
a few seconds (:func:`mark_wrote`); while it lives, that account's reads go to the primary.
A replica further behind than ``database.replica_max_lag_seconds``, or one that fails, is
skipped until a later check finds it well: a replica problem costs a retry, never a 500.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from services import metrics

log = logging.getLogger(__name__)

PRIMARY = "default"
RECENT_WRITE_KEY = "rw:{}"
# Longer than the lag we accept, so the writer's next reads find their write wherever they go.
RECENT_WRITE_SECONDS = 10
# One process re-measures a replica at most this often; between checks it trusts the last.
CHECK_SECONDS = 3.0
CHECK_TIMEOUT = 1.0
# A replica that hangs (a dead host, no RST) is given up on after this; the primary answers.
QUERY_TIMEOUT = 5.0

# Caught up: not in recovery (promoted), or everything received is replayed (">=": after a
# restart the receive position starts over at a segment's start, behind replay). Otherwise the
# lag is the age of the last replayed commit (an idle primary's first write after a quiet
# spell looks old for a moment: the replica is skipped for one check, which is safe). A
# standby that lost its stream would look caught up forever, so it must be streaming.
_LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0.0
    WHEN NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') THEN NULL
    WHEN pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn() THEN 0.0
    ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8
END AS lag
"""


@dataclass
class _Replica:
    name: str
    client: BaseDBAsyncClient
    healthy: bool = False
    checked_at: float = float("-inf")
    checking: bool = False


@dataclass
class _Replicas:
    members: list[_Replica] = field(default_factory=list)
    max_lag: float = 5.0
    turn: int = 0


_replicas = _Replicas()
_REPLICA_READS = metrics.DB_READS.labels("replica")
_PRIMARY_READS = metrics.DB_READS.labels("primary")
_FALLBACK_READS = metrics.DB_READS.labels("fallback")


def configure(clients: Sequence[BaseDBAsyncClient], max_lag_seconds: float) -> None:
    """The replicas this process may read from (models.replica_client); none: the primary."""
    global _replicas
    members = [_Replica(client.connection_name, client) for client in clients]
    _replicas = _Replicas(members, max_lag_seconds)


async def close() -> None:
    """Close the replicas' pools; reads go to the primary from now on."""
    members = _replicas.members
    configure([], _replicas.max_lag)
    for replica in members:
        await replica.client.close()


def forget_health(max_lag_seconds: float | None = None) -> None:
    """Forget what the checks found, as a fresh process would (tests)."""
    if max_lag_seconds is not None:
        _replicas.max_lag = max_lag_seconds
    for replica in _replicas.members:
        replica.healthy, replica.checked_at = False, float("-inf")


def configured() -> bool:
    return bool(_replicas.members)


@dataclass
class ReadScope:
    """One read-only request: its Redis (for ``rw:`` marks) and how to learn who is reading.

    ``viewer`` resolves the signed-in account (None for a visitor); if it raises, the
    reader is unknown and reads the primary.
    """

    redis: Redis
    viewer: Callable[[], Awaitable[int | None]]
    chosen: str | None = None


current_scope: ContextVar[ReadScope | None] = ContextVar("read_scope", default=None)


async def mark_wrote(redis: Redis, account_id: int) -> None:
    """``account_id`` just wrote: its reads go to the primary for a few seconds."""
    await redis.set(RECENT_WRITE_KEY.format(account_id), 1, ex=RECENT_WRITE_SECONDS)


async def wrote_recently(redis: Redis, account_id: int) -> bool:
    return bool(await redis.exists(RECENT_WRITE_KEY.format(account_id)))


async def _check(replica: _Replica, max_lag: float) -> None:
    replica.checking = True
    first = replica.checked_at == float("-inf")
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            _, rows = await replica.client.execute_query(_LAG_SQL)
        lag = rows[0]["lag"]
        healthy = lag is not None and lag <= max_lag
        if healthy and not replica.healthy:
            log.info("replica %s in use (lag %.1f s)", replica.name, lag)
        elif not healthy and (replica.healthy or first):
            log.warning("replica %s skipped: lag %s s (not streaming if None)", replica.name, lag)
        replica.healthy = healthy
    except Exception as exc:  # down, refusing, hanging: all mean "use the primary"
        if replica.healthy or first:
            log.warning("replica %s skipped: %r", replica.name, exc)
        replica.healthy = False
    finally:
        replica.checked_at = time.monotonic()
        replica.checking = False


async def _healthy_replica() -> _Replica | None:
    replicas = _replicas
    for replica in replicas.members:
        if not replica.checking and time.monotonic() - replica.checked_at >= CHECK_SECONDS:
            await _check(replica, replicas.max_lag)
    healthy = [replica for replica in replicas.members if replica.healthy]
    if not healthy:
        return None
    replicas.turn += 1
    return healthy[replicas.turn % len(healthy)]


async def connection_for_read(redis: Redis, viewer_account_id: int | None) -> str:
    """The connection name a read by this viewer should use: a caught-up replica's, unless
    none is configured or healthy, or the viewer wrote in the last few seconds: ``PRIMARY``."""
    if not configured():
        return PRIMARY
    if viewer_account_id is not None and await wrote_recently(redis, viewer_account_id):
        return PRIMARY
    replica = await _healthy_replica()
    return replica.name if replica is not None else PRIMARY


def _client(name: str) -> BaseDBAsyncClient:
    replica = next((item for item in _replicas.members if item.name == name), None)
    return replica.client if replica is not None else connections.get(PRIMARY)


async def _scope_connection(scope: ReadScope) -> str:
    if scope.chosen is None:
        try:
            viewer = await scope.viewer()
        except Exception:  # a bad token or session: whoever it is, use the primary
            scope.chosen = PRIMARY
        else:
            scope.chosen = await connection_for_read(scope.redis, viewer)
    return scope.chosen


def _mark_down(name: str, exc: BaseException) -> None:
    for replica in _replicas.members:
        if replica.name == name:
            if replica.healthy:
                log.warning("replica %s failed a read, using the primary: %r", name, exc)
            replica.healthy = False
            replica.checked_at = time.monotonic()


async def query(sql: str, values: list[Any] | None = None) -> tuple[int, list[Any]]:
    """A read-only raw query: on a replica inside a read scope that may use one, else on
    the primary; a replica that fails or hangs is marked down and the primary answers."""
    scope = current_scope.get()
    name = PRIMARY if scope is None or not configured() else await _scope_connection(scope)
    if name != PRIMARY:
        try:
            async with asyncio.timeout(QUERY_TIMEOUT):
                result = await _client(name).execute_query(sql, values)
        except Exception as exc:  # any replica failure: the primary answers
            _mark_down(name, exc)
            if scope is not None:
                scope.chosen = PRIMARY
            _FALLBACK_READS.inc()
        else:
            _REPLICA_READS.inc()
            return result
    else:
        _PRIMARY_READS.inc()
    return await connections.get(PRIMARY).execute_query(sql, values)


def read_from() -> str:
    """Where this request's reads went (so far): a replica's name, or ``PRIMARY``."""
    scope = current_scope.get()
    return scope.chosen if scope is not None and scope.chosen else PRIMARY
