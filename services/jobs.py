"""Enqueueing arq jobs in one Redis round trip, and many in one pipeline.

arq's own ``enqueue_job`` takes three round trips (WATCH, EXISTS, MULTI/EXEC) per job; every
inbox POST, post and delivery enqueues at least one. This does the same thing atomically in a
Lua script, with arq's own job format, so arq's workers run the jobs unchanged: a job whose id
is queued, running or kept as a result is not enqueued again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import uuid4

from arq.connections import ArqRedis
from arq.constants import default_queue_name, expires_extra_ms, job_key_prefix, result_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms, to_unix_ms
from redis.exceptions import NoScriptError

from services.lua import Lua

_ENQUEUE = Lua("""
if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then return 0 end
redis.call('PSETEX', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
return 1
""")


@dataclass(frozen=True)
class Job:
    function: str
    args: tuple[Any, ...] = ()
    job_id: str | None = None  # None: a fresh one (never deduplicated)
    defer_until: datetime | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    queue: str = default_queue_name  # the search indexer has a queue of its own


def _arguments(job: Job, now_ms: int) -> tuple[list[str], list[Any]]:
    job_id = job.job_id or uuid4().hex
    score = to_unix_ms(job.defer_until) if job.defer_until is not None else now_ms
    expires = score - now_ms + expires_extra_ms
    payload = serialize_job(job.function, job.args, job.kwargs, None, now_ms)
    keys = [job_key_prefix + job_id, result_key_prefix + job_id, job.queue]
    return keys, [expires, payload, score, job_id]


async def enqueue(queue: ArqRedis, job: Job) -> bool:
    """Enqueue one job; False when a job with its id already exists."""
    return (await enqueue_many(queue, [job]))[0]


async def enqueue_many(queue: ArqRedis, batch: Sequence[Job]) -> list[bool]:
    """Enqueue jobs in one pipeline (one round trip); each answers whether it was new.

    EVALSHA straight away: redis-py's registered scripts ask SCRIPT EXISTS before every
    pipeline, a second round trip. A Redis that lost the script (a restart) gets it once more.
    """
    if not batch:
        return []
    now_ms = timestamp_ms()
    calls = [_arguments(job, now_ms) for job in batch]
    try:
        return await _run(queue, calls)
    except NoScriptError:
        await queue.script_load(_ENQUEUE.text)
        return await _run(queue, calls)


async def _run(queue: ArqRedis, calls: list[tuple[list[str], list[Any]]]) -> list[bool]:
    async with queue.pipeline(transaction=False) as pipe:
        for keys, args in calls:
            pipe.evalsha(_ENQUEUE.sha, len(keys), *keys, *args)
        results = await pipe.execute()
    return [bool(result) for result in results]
