"""The same calls on one Redis and on a Redis Cluster (``redis.cache_cluster``).

On a cluster a command, a MULTI/EXEC or a Lua script may only touch keys of one hash slot. Keys
used together carry the same hash tag, the part in braces: a home timeline and its boosts hash
are ``tl:home:{<account>}`` and ``tl:home-boosts:{<account>}``. Calls that span many accounts
(a fan-out's push into thousands of timelines) run once per slot, all in one pipeline, which
redis-py sends as one batch per node. On one Redis the same calls keep their batching.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import ClusterPipeline, RedisCluster
from redis.commands.core import AsyncScript
from redis.crc import key_slot
from redis.exceptions import NoScriptError

Cache = Redis | RedisCluster


def is_cluster(redis: Cache) -> bool:
    return isinstance(redis, RedisCluster)


def pipeline(redis: Cache, *, atomic: bool = False) -> Pipeline | ClusterPipeline:
    """A pipeline; ``atomic`` makes it MULTI/EXEC on one Redis. redis-py 5 has no transactions
    on a cluster, so there it is a plain pipeline: callers ask for ``atomic`` only where a
    half-applied batch is harmless (idempotent writes, or one the next read repairs)."""
    return redis.pipeline(transaction=atomic and not is_cluster(redis))


async def publish(redis: Cache, channels: Sequence[str], message: bytes | str) -> None:
    """PUBLISH ``message`` to each channel, pipelined. execute_command: a cluster client has
    no .publish() (its pipeline blocks it too); a cluster delivers every PUBLISH to every node."""
    async with redis.pipeline(transaction=False) as pipe:
        for channel in channels:
            pipe.execute_command("PUBLISH", channel, message)
        await pipe.execute()


async def mget(redis: Cache, keys: Sequence[str]) -> list[Any]:
    """MGET; on a cluster, where one MGET must stay in one slot, an MGET per slot, pipelined
    (one batch per node)."""
    if is_cluster(redis):
        return await redis.mget_nonatomic(keys)  # type: ignore[union-attr]
    return await redis.mget(keys)


async def run_grouped(
    redis: Cache,
    script: AsyncScript,
    groups: Sequence[Sequence[str]],
    args: Sequence[Any],
    per_call: int,
) -> list[Any]:
    """Run ``script`` with ``args`` over key groups (the keys of a group share a slot): on one
    Redis ``per_call`` groups a call; on a cluster the groups of a slot a call, all pipelined.
    Answers each call's reply."""
    if not is_cluster(redis):
        replies = []
        for start in range(0, len(groups), per_call):
            keys = list(chain.from_iterable(groups[start : start + per_call]))
            replies.append(await script(keys=keys, args=args))
        return replies
    by_slot: dict[int, list[Sequence[str]]] = {}
    for group in groups:
        by_slot.setdefault(key_slot(group[0].encode()), []).append(group)
    calls = [
        list(chain.from_iterable(slotted[start : start + per_call]))
        for slotted in by_slot.values()
        for start in range(0, len(slotted), per_call)
    ]
    return await _evalsha_each(redis, script, calls, args)


async def _evalsha_each(
    redis: RedisCluster, script: AsyncScript, calls: list[list[str]], args: Sequence[Any]
) -> list[Any]:
    replies = await _pipelined(redis, script, calls, args)
    # A node that has not seen the script yet (new, restarted, failed over) answers NOSCRIPT
    # without running anything: load it on every primary and run just those calls again.
    missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
    if missing:
        await redis.script_load(script.script)
        again = await _pipelined(redis, script, [calls[i] for i in missing], args)
        for index, reply in zip(missing, again, strict=True):
            replies[index] = reply
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
    return replies


async def _pipelined(
    redis: RedisCluster, script: AsyncScript, calls: list[list[str]], args: Sequence[Any]
) -> list[Any]:
    if not calls:
        return []
    async with redis.pipeline() as pipe:
        for keys in calls:
            # execute_command: redis-py's cluster pipeline blocks .evalsha(), not this; the
            # command goes to the node of its keys' slot
            pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
        return await pipe.execute(raise_on_error=False)
