"""Storing accepted activities durably before the 202, many requests to one INSERT.

A busy inbox answers many POSTs at once. Each request hands its row to this process's writer
and waits; the writer takes everything waiting, writes it in one INSERT (one commit, one round
trip) and enqueues one job for the new rows, then answers each request. A request is answered
only after its row is committed, so "accepted" still means "in PostgreSQL"; if the process dies
before that, the peer got no 202 and sends the activity again.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from redis.exceptions import RedisError
from tortoise import connections

from models.ids import next_id
from services import jobs
from services.backends import Backends

log = logging.getLogger(__name__)

PROCESS_JOB = "process_inbox"
MAX_BATCH = 200

_INSERT_SQL = """
INSERT INTO inbox_items (id, created_at, activity_id, activity_type, actor_uri, key_id, proof,
                         payload, state, attempts, last_error)
SELECT r.id, now(), r.activity_id, r.activity_type, r.actor_uri, r.key_id, r.proof,
       r.payload::jsonb, 'pending', 0, ''
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
            $7::text[]) AS r(id, activity_id, activity_type, actor_uri, key_id, proof, payload)
ON CONFLICT (activity_id) DO NOTHING
RETURNING id
"""


@dataclass(frozen=True)
class Row:
    activity_id: str
    activity_type: str
    actor_uri: str
    key_id: str
    proof: str
    payload: str  # JSON text


@dataclass
class _Waiting:
    row: Row
    backends: Backends
    answer: asyncio.Future[int | None]


class _Writer:
    """One per event loop: the rows waiting, and the task that writes them."""

    def __init__(self) -> None:
        self.waiting: list[_Waiting] = []
        self.wake = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.waiting:
                batch, self.waiting = self.waiting[:MAX_BATCH], self.waiting[MAX_BATCH:]
                await _write(batch)


_writers: dict[asyncio.AbstractEventLoop, _Writer] = {}


async def store(backends: Backends, row: Row) -> int | None:
    """Write the row (with whatever other requests are storing now); its id, or None when an
    activity with its id was stored before."""
    loop = asyncio.get_running_loop()
    writer = _writers.get(loop)
    if writer is None or writer.task.done():
        writer = _writers[loop] = _Writer()
    waiting = _Waiting(row, backends, loop.create_future())
    writer.waiting.append(waiting)
    writer.wake.set()
    return await waiting.answer


async def _write(batch: list[_Waiting]) -> None:
    ids = [next_id() for _ in batch]
    columns = ("activity_id", "activity_type", "actor_uri", "key_id", "proof", "payload")
    values = [[getattr(w.row, name) for w in batch] for name in columns]
    try:
        # execute_query drops the rows of INSERT ... RETURNING; execute_query_dict keeps them.
        rows = await connections.get("default").execute_query_dict(_INSERT_SQL, [ids, *values])
    except Exception as exc:  # every request waiting gets the error, the writer goes on
        for waiting in batch:
            if not waiting.answer.done():
                waiting.answer.set_exception(exc)
        return
    new = {row["id"] for row in rows}
    if new:
        await _enqueue(batch[0].backends, [i for i in ids if i in new])
    for item_id, waiting in zip(ids, batch, strict=True):
        if not waiting.answer.done():
            waiting.answer.set_result(item_id if item_id in new else None)


async def _enqueue(backends: Backends, item_ids: list[int]) -> None:
    """One job for the batch; if Redis is down the rows wait for the sweep."""
    try:
        await jobs.enqueue(backends.queue, jobs.Job(PROCESS_JOB, tuple(item_ids)))
    except (RedisError, OSError) as exc:
        log.warning("could not enqueue inbox items", extra={"count": len(item_ids),
                                                             "error": str(exc)})  # fmt: skip
